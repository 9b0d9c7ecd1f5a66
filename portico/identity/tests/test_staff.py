"""Staff users of a partner (PU-1, PU-2, PU-3, PU-6, ID-7, ID-10)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portico import seed
from portico.audit.models import AuditEvent
from portico.identity.models import Membership, Person
from portico.identity.staff import services
from tests.support import PASSWORD, api_client

pytestmark = pytest.mark.django_db

ROLES = ["owner", "super_admin", "admin", "finance", "support"]
RANK = {"owner": 400, "super_admin": 300, "admin": 200, "finance": 100, "support": 100}


@pytest.fixture
def staff_of(partner):
    """`staff_of(role)`: a staff user of `partner` with that role."""
    made = {}

    def make(role: str) -> Membership:
        if role not in made:
            made[role] = seed.staff(seed.person(f"{role}@staff.test", PASSWORD), partner, role)
        return made[role]

    return make


@pytest.mark.parametrize("actor_role", ROLES)
@pytest.mark.parametrize("given", ROLES)
def test_pu2_new_users_get_only_roles_strictly_beneath_and_never_owner(staff_of, actor_role, given):
    actor = staff_of(actor_role)
    details = services.StaffDetails("New", "User", given, email=f"new.{given}@staff.test")
    allowed = given != "owner" and RANK[given] < RANK[actor_role]
    if allowed:
        assert services.create_staff_user(actor, details).staff_role == given
    else:
        with pytest.raises((ValidationError, PermissionDenied)):
            services.create_staff_user(actor, details)
        assert not Person.objects.filter(email=details.email).exists()


@pytest.mark.parametrize("actor_role", ROLES)
@pytest.mark.parametrize("target_role", ["super_admin", "admin", "finance", "support"])
def test_pu2_change_disable_delete_only_beneath(staff_of, actor_role, target_role):
    actor = seed.staff(seed.person(f"actor.{actor_role}@staff.test"), staff_of("owner").partner, actor_role) if actor_role != "owner" else staff_of("owner")
    target = seed.staff(seed.person(f"target.{target_role}@staff.test"), actor.partner, target_role)
    beneath = RANK[target_role] < RANK[actor_role]
    client = api_client(actor)
    patch = client.patch(f"/api/v1/staff-users/{target.pk}/", {"first_name": "Renamed"}, format="json")
    disable = client.post(f"/api/v1/staff-users/{target.pk}/disable/")
    delete = client.delete(f"/api/v1/staff-users/{target.pk}/")
    if beneath:
        assert (patch.status_code, disable.status_code, delete.status_code) == (200, 200, 204)
        assert not Membership.objects.filter(pk=target.pk).exists()
    else:
        assert (patch.status_code, disable.status_code, delete.status_code) == (403, 403, 403)
        target.refresh_from_db()
        assert target.enabled and target.person.first_name == ""


def test_pu1_exactly_one_owner_nobody_changes_it(owner, super_admin):
    for actor in (super_admin, owner):
        client = api_client(actor)
        assert client.patch(f"/api/v1/staff-users/{owner.pk}/", {"first_name": "X"}, format="json").status_code == 403
        assert client.post(f"/api/v1/staff-users/{owner.pk}/disable/").status_code == 403
        assert client.delete(f"/api/v1/staff-users/{owner.pk}/").status_code == 403
    response = api_client(owner).patch(f"/api/v1/staff-users/{super_admin.pk}/", {"staff_role": "owner"}, format="json")
    assert response.status_code == 400 and "staff_role" in response.json()
    assert Membership.objects.filter(partner=owner.partner, staff_role="owner").count() == 1


def test_pu2_the_form_offers_only_roles_beneath(admin, signed_in):
    page = signed_in(admin).get("/console/staff/new/").content.decode()
    assert 'value="finance"' in page and 'value="support"' in page
    assert 'value="admin"' not in page and 'value="super_admin"' not in page and 'value="owner"' not in page


def test_pu2_staff_above_are_view_only_in_the_ui(admin, super_admin, signed_in):
    client = signed_in(admin)
    page = client.get(f"/console/staff/{super_admin.pk}/").content.decode()
    assert "<fieldset disabled>" in page
    assert client.post(f"/console/staff/{super_admin.pk}/", {"first_name": "X", "last_name": "Y", "staff_role": "support"}).status_code == 403
    assert client.post(f"/console/staff/{super_admin.pk}/delete/").status_code == 403


def test_id10_staff_email_cannot_change(owner, admin, signed_in):
    response = api_client(owner).patch(f"/api/v1/staff-users/{admin.pk}/", {"email": "other@staff.test"}, format="json")
    assert response.status_code == 400 and "email" in response.json()
    client = signed_in(owner)
    client.post(f"/console/staff/{admin.pk}/", {"first_name": "Ada", "last_name": "Admin", "email": "other@staff.test", "staff_role": "admin"})
    admin.refresh_from_db()
    assert admin.person.email == "admin@northwind.test" and admin.person.first_name == "Ada"


def test_pu3_id7_optional_password_for_a_new_person(owner, signed_in, mailbox, django_capture_on_commit_callbacks):
    client = signed_in(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/console/staff/new/",
            {"first_name": "Sam", "last_name": "Sky", "email": "sam@staff.test", "staff_role": "support", "password": "a-long-chosen-passphrase-9"},
        )
    assert response.status_code == 302
    sam = Person.objects.get(email="sam@staff.test")
    assert sam.check_password("a-long-chosen-passphrase-9")
    assert mailbox.wait_for("sam@staff.test")
    weak = client.post("/console/staff/new/", {"first_name": "W", "last_name": "K", "email": "weak@staff.test", "staff_role": "support", "password": "123"})
    assert weak.status_code == 200 and not Person.objects.filter(email="weak@staff.test").exists()


def test_pu3_without_password_the_person_has_none_until_the_invitation(owner):
    member = services.create_staff_user(owner, services.StaffDetails("No", "Pass", "finance", email="nopass@staff.test"))
    assert not member.person.has_usable_password()


def test_pu6_id8_sso_switch_refused_until_an_identity_provider_exists(owner, admin, signed_in):
    client = api_client(owner)
    response = client.post(f"/api/v1/staff-users/{admin.pk}/sso/", {"enabled": True}, format="json")
    assert response.status_code == 400 and "identity provider" in str(response.json())
    Membership.objects.filter(pk=admin.pk).update(security_type="sso")
    assert client.post(f"/api/v1/staff-users/{admin.pk}/sso/", {"enabled": False}, format="json").json()["security_type"] == "native"
    assert AuditEvent.objects.filter(action="membership.security_type_changed", object_id=str(admin.pk)).exists()
    assert client.post(f"/api/v1/staff-users/{admin.pk}/sso/", {"enabled": "maybe"}, format="json").status_code == 400


def test_grp2_a_manager_who_leaves_admin_and_support_leaves_their_groups(owner, admin, partner):
    group = seed.group(partner, "Desk", managers=[admin])
    services.update_staff_user(owner, admin, services.StaffDetails("Ada", "Admin", "finance"))
    assert not group.managers.exists()
    assert AuditEvent.objects.filter(action="group.manager_removed").exists()


def test_pu2_delete_keeps_the_person_and_their_other_memberships(owner, support, org_a):
    seed.end_user(support.person, org_a)
    services.delete_staff_user(owner, support)
    assert Person.objects.filter(pk=support.person_id).exists()
    assert support.person.memberships.filter(kind="end_user").exists()
    assert AuditEvent.objects.get(action="membership.deleted").before["staff_role"] == "support"


def test_pu_staff_list_search_and_isolation(owner, admin, outsider, signed_in, django_assert_max_num_queries):
    for i in range(30):
        seed.staff(seed.person(f"s{i}@staff.test", totp_secret=None), owner.partner, "support")
    client = signed_in(owner)
    with django_assert_max_num_queries(16):
        page = client.get("/console/staff/").content.decode()
    assert outsider.person.email not in page
    assert admin.person.email in client.get("/console/staff/", {"q": "admin@"}).content.decode()
    assert client.get(f"/console/staff/{outsider.pk}/").status_code == 404
    assert api_client(owner).get(f"/api/v1/staff-users/{outsider.pk}/").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x", "first_name": "a", "last_name": "b", "staff_role": "support"},
        {"email": "a@b.test", "first_name": "a" * 500, "last_name": "b", "staff_role": "support"},
        {"email": "a@b.test", "first_name": "a", "last_name": "b", "staff_role": "emperor"},
        {"email": "a@b.test", "first_name": "a", "last_name": "b", "staff_role": "owner"},
        ["not", "an", "object"],
    ],
)
def test_pu3_bad_input_gets_field_errors(owner, body):
    response = api_client(owner).post("/api/v1/staff-users/", body, format="json")
    assert response.status_code == 400
    assert not Person.objects.filter(email="a@b.test").exists()
