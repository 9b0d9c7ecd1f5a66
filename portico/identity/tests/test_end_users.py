"""End users in the technician console (EU-1 … EU-5, PERM-1 … PERM-5)."""

from __future__ import annotations

import re

import pytest

from portico import seed
from portico.access import catalog, policy
from portico.access.models import Grant, RoleAssignment, full_portal_access
from portico.audit.models import AuditEvent
from portico.devices.models import Device, DeviceAssignment
from portico.identity.models import Membership
from tests.support import text_body

pytestmark = pytest.mark.django_db

REMOTE_WINDOWS = catalog.connection_code("remote_control", "windows")


def _general(org, **changes):
    data = {
        "enabled": "on", "first_name": "Nora", "last_name": "Newman", "email": "nora@contoso.test",
        "phone": "", "organization": org.pk if org else "", "language": "de", "security_type": "native",
    }
    data.update(changes)
    return data


def test_eu1_creating_an_end_user_sends_the_invitation(admin, org_a, signed_in, mailbox, django_capture_on_commit_callbacks):
    client = signed_in(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/console/end-users/new/", _general(org_a))
    nora = Membership.objects.get(person__email="nora@contoso.test")
    assert response.status_code == 302 and response["Location"] == f"/console/end-users/{nora.pk}/"
    assert nora.kind == "end_user" and nora.organization == org_a and not nora.all_organizations
    assert nora.person.language == "de"
    (message,) = mailbox.wait_for("nora@contoso.test")
    assert "/invitations/" in text_body(message)


def test_eu1_eu5_all_organizations_user_keeps_a_home_organization(admin, org_a, signed_in):
    client = signed_in(admin)
    response = client.post("/console/end-users/new/", _general(None, all_organizations="on"))
    assert response.status_code == 200 and "is-invalid" in response.content.decode()  # an organization always
    client.post("/console/end-users/new/", _general(org_a, all_organizations="on"))
    nora = Membership.objects.get(person__email="nora@contoso.test")
    assert nora.all_organizations and nora.organization == org_a
    page = client.get(f"/console/end-users/{nora.pk}/").content.decode()
    assert re.search(r'<input[^>]*name="all_organizations"[^>]*checked', page)


def test_eu4_widening_to_all_organizations_keeps_devices_and_home(admin, org_a, user_org, device_a, signed_in):
    seed.assign(user_org, device_a)
    person = user_org.person
    signed_in(admin).post(
        f"/console/end-users/{user_org.pk}/",
        _general(org_a, first_name=person.first_name, last_name=person.last_name, email=person.email, all_organizations="on"),
    )
    user_org.refresh_from_db()
    assert user_org.all_organizations and user_org.organization == org_a
    assert list(user_org.assigned_devices.all()) == [device_a]


def test_eu1_sso_is_refused_until_an_identity_provider_exists(admin, org_a, signed_in):
    response = signed_in(admin).post("/console/end-users/new/", _general(org_a, security_type="sso"))
    assert response.status_code == 200 and "identity provider" in response.content.decode()
    assert not Membership.objects.filter(person__email="nora@contoso.test").exists()


def test_eu1_list_searches_and_filters_by_organization(admin, org_a, org_b, user_org, user_all_orgs, signed_in):
    other = seed.end_user(seed.person("bo@fabrikam.test", first_name="Bo", last_name="Berg"), org_b)
    client = signed_in(admin)
    page = client.get("/console/end-users/", {"organization": org_b.pk}).content.decode()
    assert other.person.email in page and user_org.person.email not in page
    page = client.get("/console/end-users/", {"q": "emma"}).content.decode()
    assert user_org.person.email in page and other.person.email not in page


def test_eu1_grp3_scoped_admin_reaches_only_end_users_in_scope(admin_scoped, user_org, org_b, user_all_orgs, signed_in):
    other = seed.end_user(seed.person("bo@fabrikam.test"), org_b)
    client = signed_in(admin_scoped)
    page = client.get("/console/end-users/").content.decode()
    assert user_org.person.email in page
    assert other.person.email not in page and user_all_orgs.person.email not in page
    assert client.get(f"/console/end-users/{other.pk}/").status_code == 404
    assert client.get(f"/console/end-users/{user_all_orgs.pk}/devices/").status_code == 404


def test_eu1_finance_and_other_partners_get_404(finance, outsider, user_org, signed_in, client):
    assert signed_in(finance).get(f"/console/end-users/{user_org.pk}/").status_code == 404
    client.logout()
    assert signed_in(outsider).get(f"/console/end-users/{user_org.pk}/").status_code == 404


def test_eu2_full_portal_access_hides_the_permissions_tab(admin, user_org, signed_in):
    client = signed_in(admin)
    assert 'data-testid="permissions-tab"' in client.get(f"/console/end-users/{user_org.pk}/").content.decode()
    client.post(f"/console/end-users/{user_org.pk}/roles/", {"roles": [full_portal_access().pk]})
    assert RoleAssignment.objects.filter(membership=user_org, role__full_access=True).exists()
    assert 'data-testid="permissions-tab"' not in client.get(f"/console/end-users/{user_org.pk}/").content.decode()
    assert client.get(f"/console/end-users/{user_org.pk}/permissions/").status_code == 302


def test_eu2_another_partners_role_cannot_be_given(admin, user_org, other_partner, signed_in):
    theirs = seed.role(other_partner, "Theirs", catalog.CONNECTIONS)
    response = signed_in(admin).post(f"/console/end-users/{user_org.pk}/roles/", {"roles": [theirs.pk]})
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(membership=user_org).exists()


def test_eu3_perm5_direct_permissions_add_to_roles(admin, partner, user_org, device_a, signed_in):
    seed.assign(user_org, device_a)
    seed.give_roles(user_org, seed.role(partner, "Connect", catalog.CONNECTIONS))
    assert not policy.can(user_org, "remote_control", device_a)
    response = signed_in(admin).post(
        f"/console/end-users/{user_org.pk}/permissions/", {"remote_control__windows": "on", "ticketing": "own"}
    )
    assert response.status_code == 302
    assert set(Grant.objects.filter(membership=user_org).values_list("code", flat=True)) == {REMOTE_WINDOWS, catalog.TICKETS_OWN}
    assert policy.can(user_org, "remote_control", device_a)
    assert not policy.can(user_org, "user_cli", device_a)


def test_eu4_single_organization_user_gets_only_devices_of_their_organization(admin, user_org, device_a, device_b, signed_in):
    client = signed_in(admin)
    page = client.get(f"/console/end-users/{user_org.pk}/devices/").content.decode()
    assert device_a.name in page and device_b.name not in page
    refused = client.post(f"/console/end-users/{user_org.pk}/devices/", {"devices": [device_b.pk]})
    assert refused.status_code == 200
    assert not DeviceAssignment.objects.filter(membership=user_org).exists()
    client.post(f"/console/end-users/{user_org.pk}/devices/", {"devices": [device_a.pk]})
    assert list(user_org.assigned_devices.all()) == [device_a]


def test_eu4_service_refuses_devices_outside_the_organization_and_of_other_partners(admin, user_org, user_all_orgs, device_a, device_b, foreign_device):
    from django.core.exceptions import ValidationError

    from portico.identity.end_users import services

    with pytest.raises(ValidationError):
        services.assign_devices(admin, user_org, [device_a, device_b])
    assert not DeviceAssignment.objects.filter(membership=user_org).exists()  # nothing half-done
    with pytest.raises(ValidationError):
        services.assign_devices(admin, user_all_orgs, [foreign_device])
    services.assign_devices(admin, user_all_orgs, [device_a, device_b])
    assert set(user_all_orgs.assigned_devices.all()) == {device_a, device_b}


def test_eu4_narrowing_to_one_organization_removes_other_devices_with_an_audit_event_each(
    admin, org_a, org_b, user_all_orgs, device_a, device_b, signed_in
):
    second = seed.device(org_b, "fabrikam-second", "mac")
    seed.assign(user_all_orgs, device_a, device_b, second)
    person = user_all_orgs.person
    response = signed_in(admin).post(
        f"/console/end-users/{user_all_orgs.pk}/",
        _general(org_a, first_name=person.first_name, last_name=person.last_name, email=person.email),
    )
    assert response.status_code == 302
    user_all_orgs.refresh_from_db()
    assert user_all_orgs.organization == org_a and not user_all_orgs.all_organizations
    assert list(user_all_orgs.assigned_devices.all()) == [device_a]
    removed = AuditEvent.objects.filter(action="device.unassigned", object_id=str(user_all_orgs.pk))
    assert sorted(e.before["device"] for e in removed) == sorted([device_b.pk, second.pk])


def test_eu4_access_table_explains_each_device_and_action(admin, partner, user_org, device_a, signed_in):
    seed.assign(user_org, device_a)
    seed.give_roles(user_org, seed.role(partner, "Remote support", catalog.CONNECTIONS, REMOTE_WINDOWS))
    page = signed_in(admin).get(f"/console/end-users/{user_org.pk}/devices/").content.decode()
    assert "Role “Remote support” grants" in page
    assert 'data-allowed="yes"' in page and 'data-allowed="no"' in page
    assert "No role or direct permission grants System command line on Windows." in page


def test_eu_enable_disable_and_reset_password_from_the_list(admin, user_org, signed_in, mailbox, django_capture_on_commit_callbacks):
    client = signed_in(admin)
    back = "/console/end-users/?q=emma"
    response = client.post(f"/console/people/{user_org.pk}/enabled/", {"enabled": "0", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    user_org.refresh_from_db()
    assert not user_org.enabled
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/console/people/{user_org.pk}/reset-password/", {"back": back})
    assert response["Location"] == back
    assert mailbox.wait_for(user_org.person.email)


@pytest.mark.parametrize(
    "changes",
    [
        {"organization": "not-a-number"},
        {"organization": 999999},
        {"first_name": "x" * 5000},
        {"language": "xx"},
        {"phone": "12"},
        {"email": "not-an-email"},
    ],
)
def test_eu1_bad_input_gets_field_errors_and_changes_nothing(admin, org_a, signed_in, changes):
    response = signed_in(admin).post("/console/end-users/new/", _general(org_a, **changes))
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert not Membership.objects.filter(kind="end_user").exists()


def test_eu1_another_partners_organization_is_refused(admin, org_a, foreign_org, signed_in):
    response = signed_in(admin).post("/console/end-users/new/", _general(foreign_org))
    assert response.status_code == 200
    assert not Membership.objects.filter(kind="end_user").exists()


def test_eu1_end_user_list_query_count_does_not_grow(admin, partner, org_a, signed_in, django_assert_max_num_queries):
    role = seed.role(partner, "R", catalog.CONNECTIONS)
    for i in range(40):
        member = seed.end_user(seed.person(f"u{i}@contoso.test", totp_secret=None), org_a)
        seed.give_roles(member, role)
    client = signed_in(admin)
    with django_assert_max_num_queries(16):
        response = client.get("/console/end-users/")
    assert response.content.decode().count("@contoso.test") >= 25


def test_eu1_grp3_scoped_admin_cannot_change_end_users_outside_their_scope(admin_scoped, org_a, org_b, user_all_orgs, signed_in):
    other = seed.end_user(seed.person("bo@fabrikam.test", first_name="Bo", last_name="Berg"), org_b)
    client = signed_in(admin_scoped)
    for target in (other, user_all_orgs):
        before = (target.organization_id, target.all_organizations, target.person.first_name)
        assert client.post(f"/console/end-users/{target.pk}/", _general(org_a, email=target.person.email)).status_code == 404
        assert client.post(f"/console/end-users/{target.pk}/roles/", {"roles": [full_portal_access().pk]}).status_code == 404
        assert client.post(f"/console/end-users/{target.pk}/permissions/", {"connections": "on"}).status_code == 404
        assert client.post(f"/console/people/{target.pk}/enabled/", {"enabled": "0"}).status_code == 404
        target.refresh_from_db()
        target.person.refresh_from_db()
        assert (target.organization_id, target.all_organizations, target.person.first_name) == before
        assert target.enabled
        assert not target.role_assignments.exists() and not target.direct_grants.exists()


def test_eu1_grp3_scoped_admin_cannot_create_an_all_organizations_user(admin_scoped, org_a, org_b, signed_in):
    client = signed_in(admin_scoped)
    assert 'name="all_organizations"' not in client.get("/console/end-users/new/").content.decode()
    for org in (None, org_b):
        response = client.post("/console/end-users/new/", _general(org, all_organizations="on"))
        assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert not Membership.objects.filter(person__email="nora@contoso.test").exists()
    # The switch is not theirs to give: a user of their own organization is created without it.
    client.post("/console/end-users/new/", _general(org_a, all_organizations="on"))
    nora = Membership.objects.get(person__email="nora@contoso.test")
    assert nora.organization == org_a and not nora.all_organizations


def test_grp3_scoped_admin_never_reaches_an_all_organizations_user_at_home_in_their_scope(
    admin_scoped, org_a, user_all_orgs, device_a
):
    assert user_all_orgs.organization == org_a and policy.can(admin_scoped, "view", org_a)
    for action in ("view", "change", "disable", "reset_password", "delete"):
        assert not policy.can(admin_scoped, action, user_all_orgs)
    assert not policy.assignable_devices(admin_scoped, user_all_orgs, Device.objects.all()).exists()
    assert policy.can_invite(admin_scoped, "end_user", organization=org_a)
    assert not policy.can_invite(admin_scoped, "end_user", organization=org_a, all_organizations=True)


def test_eu4_devices_tab_refuses_another_partners_device(admin, user_all_orgs, device_b, foreign_device, signed_in):
    client = signed_in(admin)
    page = client.get(f"/console/end-users/{user_all_orgs.pk}/devices/").content.decode()
    assert device_b.name in page and foreign_device.name not in page
    response = client.post(f"/console/end-users/{user_all_orgs.pk}/devices/", {"devices": [foreign_device.pk]})
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    assert client.post(f"/console/end-users/{user_all_orgs.pk}/devices/{foreign_device.pk}/remove/").status_code == 404
    client.post(f"/console/end-users/{user_all_orgs.pk}/devices/", {"devices": [device_b.pk]})
    assert list(user_all_orgs.assigned_devices.all()) == [device_b]


def test_eu4_removing_a_device_on_the_tab_is_audited(admin, user_org, device_a, signed_in):
    seed.assign(user_org, device_a)
    response = signed_in(admin).post(f"/console/end-users/{user_org.pk}/devices/{device_a.pk}/remove/")
    assert response.status_code == 302
    assert not user_org.assigned_devices.exists()
    (event,) = AuditEvent.objects.filter(action="device.unassigned")
    assert event.before["device"] == device_a.pk
