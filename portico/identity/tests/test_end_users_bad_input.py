"""Hostile input to the end-user and end-user-role pages and endpoints (EU-1 … EU-4, PERM-1 … PERM-3).

Whatever arrives, the answer is never a 500, and a refused request changes nothing: the end
user, their person, roles, direct permissions and devices read back exactly as before.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portico import seed
from portico.access import catalog
from portico.access.models import EndUserRole, Grant, RoleAssignment
from portico.audit.models import AuditEvent
from portico.devices.models import DeviceAssignment
from portico.identity.models import Membership
from tests.bad_input import FUZZ, NASTY_STRINGS, NON_UTF8_BODIES, assert_handled, encodings, form, post, text_value
from tests.support import api_client

pytestmark = pytest.mark.django_db

GENERAL_FIELDS = ["enabled", "first_name", "last_name", "email", "phone", "organization", "language", "security_type"]
PERMISSION_FIELDS = ["connections", "backup_restore", "ticketing", "remote_control__windows", "system_cli__linux"]
SUCCESS = {200, 201, 204, 302}


def _state(end_user: Membership) -> tuple:
    end_user = Membership.objects.select_related("person").get(pk=end_user.pk)
    person = end_user.person
    return (
        end_user.enabled, end_user.organization_id, end_user.all_organizations, end_user.security_type,
        person.first_name, person.last_name, person.email, person.phone, person.language,
        sorted(RoleAssignment.objects.filter(membership=end_user).values_list("role_id", flat=True)),
        sorted(Grant.objects.filter(membership=end_user).values_list("code", flat=True)),
        sorted(DeviceAssignment.objects.filter(membership=end_user).values_list("device_id", flat=True)),
    )


@pytest.fixture
def admin_client(signed_in, admin):
    # Signed in once per test, not per example: sign-ins are rate limited (ID-12).
    return signed_in(admin)


@pytest.fixture
def admin_api(admin):
    return api_client(admin)


@pytest.fixture
def kept(user_all_orgs, partner, device_a, device_b):
    """An all-organizations user with a role, a direct permission and two devices to lose."""
    seed.give_roles(user_all_orgs, seed.role(partner, "Connect", catalog.CONNECTIONS))
    seed.grant(user_all_orgs, catalog.TICKETS_OWN)
    seed.assign(user_all_orgs, device_a, device_b)
    return user_all_orgs


ids = st.one_of(text_value, st.integers(min_value=-(2**70), max_value=2**70).map(str))


@FUZZ
@given(data=form(GENERAL_FIELDS), encoding=encodings)
def test_eu1_new_end_user_form_survives_any_input(admin_client, org_a, data, encoding):
    before = Membership.objects.filter(kind="end_user").count()
    response = post(admin_client, "/console/end-users/new/", data, encoding)
    assert_handled(response, {200, 302, 400})
    if response.status_code != 302:
        assert Membership.objects.filter(kind="end_user").count() == before


@FUZZ
@given(data=form(GENERAL_FIELDS), encoding=encodings)
def test_eu4_general_tab_survives_any_input_and_a_refusal_changes_nothing(admin_client, kept, data, encoding):
    before = _state(kept)
    events = AuditEvent.objects.count()
    response = post(admin_client, f"/console/end-users/{kept.pk}/", data, encoding)
    assert_handled(response, {200, 302, 400})
    if response.status_code != 302:
        assert _state(kept) == before and AuditEvent.objects.count() == events


@FUZZ
@given(roles=st.lists(ids, max_size=4), permissions=form(PERMISSION_FIELDS), devices=st.lists(ids, max_size=4))
def test_eu2_eu3_eu4_tabs_survive_any_input(admin_client, kept, roles, permissions, devices):
    before = _state(kept)
    for path, data in (("roles", {"roles": roles}), ("permissions", permissions), ("devices", {"devices": devices})):
        response = admin_client.post(f"/console/end-users/{kept.pk}/{path}/", data)
        assert_handled(response, {200, 302, 400})
        if response.status_code != 302:
            assert _state(kept) == before, path
        before = _state(kept)


@FUZZ
@given(name=text_value, description=text_value, permissions=form(PERMISSION_FIELDS))
def test_eu2_role_editor_survives_any_input(admin_client, name, description, permissions):
    roles = EndUserRole.objects.count()
    response = admin_client.post("/console/end-user-roles/new/", {"name": name, "description": description, **permissions})
    assert_handled(response, {200, 302, 400})
    if response.status_code != 302:
        assert EndUserRole.objects.count() == roles


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), text_value),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["id", "a", ""]), inner, max_size=2)),
    max_leaves=6,
)
END_USER_KEYS = GENERAL_FIELDS + ["roles", "permissions"]


@FUZZ
@given(body=st.one_of(json_value, st.dictionaries(st.sampled_from(END_USER_KEYS), json_value, max_size=6)))
def test_eu1_api_create_and_update_survive_any_body(admin_api, kept, body):
    client = admin_api
    before = _state(kept)
    count = Membership.objects.filter(kind="end_user").count()
    created = client.post("/api/v1/end-users/", body, format="json")
    assert_handled(created, {201, 400, 403})
    if created.status_code != 201:
        assert Membership.objects.filter(kind="end_user").count() == count
    changed = client.patch(f"/api/v1/end-users/{kept.pk}/", body, format="json")
    assert_handled(changed, {200, 400, 403})
    if changed.status_code != 200:
        assert _state(kept) == before


@FUZZ
@given(body=st.one_of(json_value, st.fixed_dictionaries({"devices": json_value})))
def test_eu4_api_device_list_survives_any_body(admin_api, kept, body):
    client = admin_api
    before = _state(kept)
    response = client.put(f"/api/v1/end-users/{kept.pk}/devices/", body, format="json")
    assert_handled(response, {200, 400})
    if response.status_code != 200:
        assert _state(kept) == before


@pytest.mark.parametrize("raw", NON_UTF8_BODIES)
def test_eu1_unreadable_bodies_are_refused_cleanly(admin, kept, raw):
    client = api_client(admin)
    before = _state(kept)
    for method, path in (
        ("post", "/api/v1/end-users/"),
        ("patch", f"/api/v1/end-users/{kept.pk}/"),
        ("put", f"/api/v1/end-users/{kept.pk}/devices/"),
        ("post", "/api/v1/end-user-roles/"),
    ):
        response = getattr(client, method)(path, raw, content_type="application/json")
        assert_handled(response, {400, 415})
    assert _state(kept) == before


@pytest.mark.parametrize("value", [s for s in NASTY_STRINGS if len(s) < 1000] + ["9" * 30], ids=lambda v: repr(v)[:12])
def test_eu1_odd_ids_in_urls_filters_and_choices_never_500(admin_client, admin, kept, value):
    before = _state(kept)
    for path, data in (("roles", {"roles": [value]}), ("devices", {"devices": [value]})):
        assert_handled(admin_client.post(f"/console/end-users/{kept.pk}/{path}/", data), {200})
    assert _state(kept) == before
    assert_handled(admin_client.get("/console/end-users/", {"organization": value, "q": value, "page": value}), {200})
    assert_handled(admin_client.get("/console/end-user-roles/", {"q": value, "page": value}), {200})
    assert_handled(api_client(admin).get("/api/v1/end-users/", {"organization": value, "search": value}), {200, 400})


def test_eu4_a_mixed_device_list_is_refused_whole(admin, kept, device_a, foreign_device):
    before = _state(kept)
    response = api_client(admin).put(
        f"/api/v1/end-users/{kept.pk}/devices/", {"devices": [device_a.pk, foreign_device.pk]}, format="json"
    )
    assert response.status_code == 400 and "devices" in response.json()
    assert _state(kept) == before  # device_b was not dropped on the way
