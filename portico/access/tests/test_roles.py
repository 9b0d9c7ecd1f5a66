"""End-user roles in the console (EU-2, PERM-5): the list, the editor, the built-in role."""

from __future__ import annotations

import pytest

from portico import seed
from portico.access import catalog, policy
from portico.access.models import EndUserRole, full_portal_access
from portico.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_eu2_a_role_is_defined_with_the_permission_editor(admin, signed_in):
    client = signed_in(admin)
    response = client.post(
        "/console/end-user-roles/new/",
        {"name": "Remote support", "description": "", "connections": "on", "remote_control__mac": "on", "ticketing": "organization"},
    )
    role = EndUserRole.objects.get(name="Remote support")
    assert response.status_code == 302
    assert set(role.grants.values_list("code", flat=True)) == {
        catalog.CONNECTIONS, catalog.connection_code("remote_control", "mac"), catalog.TICKETS_ORGANIZATION,
    }
    assert AuditEvent.objects.filter(action="end_user_role.created", object_id=str(role.pk)).exists()
    assert "Remote support" in client.get("/console/end-user-roles/").content.decode()


def test_perm5_changing_a_role_counts_for_its_holders_at_once(admin, partner, user_org, device_b, device_a, signed_in):
    role = seed.role(partner, "Linux shell", catalog.CONNECTIONS, catalog.connection_code("user_cli", "windows"))
    seed.give_roles(user_org, role)
    seed.assign(user_org, device_a)
    assert policy.can(user_org, "user_cli", device_a)
    signed_in(admin).post(f"/console/end-user-roles/{role.pk}/", {"name": "Linux shell", "connections": "on"})
    assert not policy.can(user_org, "user_cli", device_a)


def test_eu2_the_builtin_role_is_read_only_and_cannot_be_deleted(admin, signed_in):
    builtin = full_portal_access()
    client = signed_in(admin)
    page = client.get(f"/console/end-user-roles/{builtin.pk}/").content.decode()
    assert "cannot be changed" in page and 'name="name"' not in page
    assert client.post(f"/console/end-user-roles/{builtin.pk}/", {"name": "Mine"}).status_code == 403
    assert client.post(f"/console/end-user-roles/{builtin.pk}/delete/").status_code == 403
    assert EndUserRole.objects.filter(pk=builtin.pk, name="Full Portal Access").exists()


def test_eu2_support_sees_roles_but_does_not_define_them(support, partner, signed_in):
    role = seed.role(partner, "Helpdesk", catalog.TICKETS_OWN)
    client = signed_in(support)
    assert client.get(f"/console/end-user-roles/{role.pk}/").status_code == 200
    assert client.get("/console/end-user-roles/new/").status_code == 403
    assert client.post(f"/console/end-user-roles/{role.pk}/delete/").status_code == 403


def test_eu2_duplicate_and_oversized_names_are_field_errors(admin, partner, signed_in):
    seed.role(partner, "Helpdesk")
    client = signed_in(admin)
    for name in ("helpdesk", "x" * 500, ""):
        response = client.post("/console/end-user-roles/new/", {"name": name})
        assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert EndUserRole.objects.filter(partner=partner).count() == 1
