"""`/api/v1/end-users/` and `/api/v1/end-user-roles/`: the same rules as the pages (EU-1 … EU-5, PERM-5)."""

from __future__ import annotations

import pytest

from portico import seed
from portico.access import catalog
from portico.access.models import EndUserRole
from portico.devices.models import DeviceAssignment
from portico.identity.models import Membership
from tests.support import api_client, text_body

pytestmark = pytest.mark.django_db
REMOTE_LINUX = catalog.connection_code("remote_control", "linux")


def test_eu1_api_lists_only_end_users_in_reach(admin_scoped, user_org, user_all_orgs, org_b):
    other = seed.end_user(seed.person("bo@fabrikam.test"), org_b)
    ids = {row["id"] for row in api_client(admin_scoped).get("/api/v1/end-users/").json()["results"]}
    assert ids == {user_org.pk}
    assert api_client(admin_scoped).get(f"/api/v1/end-users/{other.pk}/").status_code == 404


def test_eu1_api_creates_with_roles_and_permissions(admin, partner, org_a):
    role = seed.role(partner, "Remote", catalog.CONNECTIONS)
    response = api_client(admin).post(
        "/api/v1/end-users/",
        {
            "email": "nora@contoso.test", "first_name": "Nora", "last_name": "Newman", "organization": org_a.pk,
            "roles": [role.pk], "permissions": [REMOTE_LINUX],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["roles"] == [role.pk] and body["permissions"] == [REMOTE_LINUX] and body["organization"] == org_a.pk


def test_eu2_api_refuses_another_partners_role(admin, other_partner, user_org):
    theirs = seed.role(other_partner, "Theirs")
    response = api_client(admin).patch(f"/api/v1/end-users/{user_org.pk}/", {"roles": [theirs.pk]}, format="json")
    assert response.status_code == 400 and "roles" in response.json()


def test_eu4_api_devices_follow_the_organization_rule(admin, user_org, device_a, device_b, foreign_device):
    client = api_client(admin)
    url = f"/api/v1/end-users/{user_org.pk}/devices/"
    assert client.put(url, {"devices": [device_a.pk, device_b.pk]}, format="json").status_code == 400
    assert client.put(url, {"devices": [foreign_device.pk]}, format="json").status_code == 400
    assert not DeviceAssignment.objects.filter(membership=user_org).exists()
    assert client.put(url, {"devices": [device_a.pk]}, format="json").json() == {"devices": [device_a.pk]}
    assert client.put(url, {"devices": []}, format="json").json() == {"devices": []}


def test_eu4_api_narrowing_removes_devices(admin, org_a, user_all_orgs, device_a, device_b):
    seed.assign(user_all_orgs, device_a, device_b)
    response = api_client(admin).patch(f"/api/v1/end-users/{user_all_orgs.pk}/", {"all_organizations": False}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["organization"] == org_a.pk and response.json()["all_organizations"] is False
    assert list(user_all_orgs.assigned_devices.all()) == [device_a]


def test_eu4_api_moving_an_all_organizations_user_home_keeps_their_devices(admin, org_b, user_all_orgs, device_a, device_b):
    seed.assign(user_all_orgs, device_a, device_b)
    response = api_client(admin).patch(f"/api/v1/end-users/{user_all_orgs.pk}/", {"organization": org_b.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["organization"] == org_b.pk and response.json()["all_organizations"] is True
    assert set(user_all_orgs.assigned_devices.all()) == {device_a, device_b}


def test_eu1_grp3_api_scoped_admin_cannot_give_devices_of_all_organizations(admin_scoped, org_a, user_org):
    client = api_client(admin_scoped)
    body = {"email": "nora@contoso.test", "first_name": "Nora", "last_name": "Newman", "organization": org_a.pk}
    response = client.post("/api/v1/end-users/", {**body, "all_organizations": True}, format="json")
    assert response.status_code == 400 and "all_organizations" in response.json()
    response = client.patch(f"/api/v1/end-users/{user_org.pk}/", {"all_organizations": True}, format="json")
    assert response.status_code == 400 and "all_organizations" in response.json()
    user_org.refresh_from_db()
    assert not user_org.all_organizations
    assert not Membership.objects.filter(person__email="nora@contoso.test").exists()


def test_perm5_access_table_changes_on_the_very_next_request(admin, partner, user_org, device_a):
    seed.assign(user_org, device_a)
    role = seed.role(partner, "Remote", catalog.CONNECTIONS, catalog.connection_code("remote_control", "windows"))
    client = api_client(admin)
    url = f"/api/v1/end-users/{user_org.pk}/access/"
    assert client.patch(f"/api/v1/end-users/{user_org.pk}/", {"roles": [role.pk]}, format="json").status_code == 200
    (row,) = client.get(url).json()["results"]
    assert row["actions"]["remote_control"]["allowed"] is True
    assert any(r["kind"] == "role" for r in row["actions"]["remote_control"]["reasons"])
    # Removing the permission from the role counts at once, for every holder.
    assert client.patch(f"/api/v1/end-user-roles/{role.pk}/", {"permissions": [catalog.CONNECTIONS]}, format="json").status_code == 200
    (row,) = client.get(url).json()["results"]
    assert row["actions"]["remote_control"]["allowed"] is False
    assert row["actions"]["remote_control"]["reasons"][-1]["grants"] is False


def test_perm5_end_users_own_view_of_a_device_follows_role_changes(admin, partner, user_org, device_a):
    seed.assign(user_org, device_a)
    role = seed.role(partner, "Remote", catalog.CONNECTIONS, catalog.connection_code("user_cli", "windows"))
    seed.give_roles(user_org, role)
    from portico.access import policy

    assert policy.can(user_org, "user_cli", device_a)
    api_client(admin).patch(f"/api/v1/end-users/{user_org.pk}/", {"roles": []}, format="json")
    assert not policy.can(user_org, "user_cli", device_a)


def test_eu2_api_roles(admin, support, partner, other_partner):
    theirs = seed.role(other_partner, "Theirs")
    client = api_client(admin)
    created = client.post("/api/v1/end-user-roles/", {"name": "Helpdesk", "permissions": [catalog.TICKETS_OWN]}, format="json")
    assert created.status_code == 201
    names = {row["name"] for row in client.get("/api/v1/end-user-roles/").json()["results"]}
    assert names == {"Helpdesk", "Full Portal Access"}
    assert client.get(f"/api/v1/end-user-roles/{theirs.pk}/").status_code == 404
    builtin = EndUserRole.objects.get(partner__isnull=True)
    assert client.patch(f"/api/v1/end-user-roles/{builtin.pk}/", {"name": "Mine"}, format="json").status_code == 403
    # Support sees roles but does not define them.
    pk = created.json()["id"]
    assert api_client(support).delete(f"/api/v1/end-user-roles/{pk}/").status_code == 403
    assert client.post("/api/v1/end-user-roles/", {"name": "Helpdesk"}, format="json").status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x", "first_name": "a", "last_name": "b", "organization": "ORG"},
        {"email": "a@b.test", "first_name": "a" * 500, "last_name": "b", "organization": "ORG"},
        {"email": "a@b.test", "first_name": "a", "last_name": "b", "organization": "zz"},
        {"email": "a@b.test", "first_name": "a", "last_name": "b", "organization": None, "all_organizations": True},
        {"email": "a@b.test", "first_name": "a", "last_name": "b", "organization": "ORG", "all_organizations": "maybe"},
        {"email": "a@b.test", "first_name": "a", "last_name": "b", "organization": "ORG", "permissions": ["root"]},
        {"email": "a@b.test", "first_name": "a", "last_name": "b", "organization": "ORG", "roles": [999999]},
        [],
    ],
)
def test_eu1_api_bad_input_gets_field_errors(admin, org_a, body):
    if isinstance(body, dict) and body["organization"] == "ORG":
        body = {**body, "organization": org_a.pk}
    response = api_client(admin).post("/api/v1/end-users/", body, format="json")
    assert response.status_code == 400
    assert not Membership.objects.filter(kind="end_user").exists()


def test_eu4_api_all_organizations_user_takes_any_device_of_the_partner(admin, user_all_orgs, device_a, device_b, foreign_device):
    client = api_client(admin)
    url = f"/api/v1/end-users/{user_all_orgs.pk}/devices/"
    assert client.put(url, {"devices": [device_a.pk, device_b.pk]}, format="json").json() == {
        "devices": sorted([device_a.pk, device_b.pk])
    }
    assert client.put(url, {"devices": [foreign_device.pk]}, format="json").status_code == 400
    assert client.get(url).json() == {"devices": sorted([device_a.pk, device_b.pk])}


def test_eu1_api_scoped_admin_finance_and_outsiders_get_404_beyond_reach(admin_scoped, finance, outsider, org_b, user_all_orgs):
    other = seed.end_user(seed.person("bo@fabrikam.test"), org_b)
    for actor, target in ((admin_scoped, other), (admin_scoped, user_all_orgs), (finance, other), (outsider, other)):
        client = api_client(actor)
        assert client.get(f"/api/v1/end-users/{target.pk}/").status_code == 404
        assert client.patch(f"/api/v1/end-users/{target.pk}/", {"first_name": "X"}, format="json").status_code == 404
        assert client.put(f"/api/v1/end-users/{target.pk}/devices/", {"devices": []}, format="json").status_code == 404
        assert client.get(f"/api/v1/end-users/{target.pk}/access/").status_code == 404
        assert client.post(f"/api/v1/end-users/{target.pk}/disable/").status_code == 404
    assert api_client(finance).get("/api/v1/end-users/").json()["results"] == []
    other.refresh_from_db()
    assert other.enabled and other.person.first_name != "X"


def test_eu1_api_create_sends_the_invitation(admin, org_a, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(admin).post(
            "/api/v1/end-users/",
            {
                "email": "nora@contoso.test", "first_name": "Nora", "last_name": "Newman",
                "organization": org_a.pk, "all_organizations": True,
            },
            format="json",
        )
    assert response.status_code == 201 and response.json()["all_organizations"] is True
    assert response.json()["organization"] == org_a.pk
    (message,) = mailbox.wait_for("nora@contoso.test")
    assert "/invitations/" in text_body(message)


def test_eu1_api_email_of_an_end_user_is_not_changed(admin, user_org):
    response = api_client(admin).patch(f"/api/v1/end-users/{user_org.pk}/", {"email": "new@contoso.test"}, format="json")
    assert response.status_code == 400 and "email" in response.json()
    user_org.person.refresh_from_db()
    assert user_org.person.email == "emma@contoso.test"


def test_eu4_access_table_pages_like_a_list(admin, org_a, user_org, signed_in):
    for i in range(23):
        seed.assign(user_org, seed.device(org_a, f"pc-{i:02}"))
    first = api_client(admin).get(f"/api/v1/end-users/{user_org.pk}/access/").json()
    assert len(first["results"]) == 20 and first["next"]
    rest = api_client(admin).get(first["next"]).json()
    assert len(rest["results"]) == 3 and rest["next"] is None
    assert {r["device"] for r in first["results"] + rest["results"]} == set(user_org.assigned_devices.values_list("pk", flat=True))
    page = signed_in(admin).get(f"/console/end-users/{user_org.pk}/devices/", {"page": 2}).content.decode()
    assert page.count('data-allowed="no"') == 3 * 4 and "pc-22" in page
