"""Groups: organization-level access control (GRP-1, GRP-2, GRP-3)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portico import seed
from portico.access import policy
from portico.audit.models import AuditEvent
from portico.tenancy import services
from portico.tenancy.models import Group, Organization
from tests.support import api_client

pytestmark = pytest.mark.django_db


def _seen(member) -> set[str]:
    return set(policy.restrict(Organization.objects.all(), member, "view").values_list("name", flat=True))


def test_grp1_grp3_managers_see_the_union_of_their_groups_scopes(partner, owner, admin, support, finance, super_admin):
    orgs = [seed.organization(partner, name) for name in ("A", "B", "C")]
    assert _seen(admin) == {"A", "B", "C"}  # managing no group: all organizations
    services.create_group(owner, "One", "", [orgs[0]], [admin, support])
    services.create_group(owner, "Two", "", [orgs[1]], [admin])
    assert _seen(admin) == {"A", "B"}
    assert _seen(support) == {"A"}
    for unscoped in (owner, super_admin, finance):
        assert _seen(unscoped) == {"A", "B", "C"}


def test_grp1_an_empty_scope_means_all_organizations(partner, owner, support):
    orgs = [seed.organization(partner, name) for name in ("A", "B")]
    services.create_group(owner, "Narrow", "", [orgs[0]], [support])
    assert _seen(support) == {"A"}
    services.create_group(owner, "Everything", "", [], [support])
    assert _seen(support) == {"A", "B"}


def test_grp3_a_new_scope_counts_on_the_next_request(partner, owner, admin_scoped, org_a, org_b, device_b, signed_in):
    client = signed_in(admin_scoped)
    assert client.get(f"/console/devices/{device_b.pk}/").status_code == 404
    group = Group.objects.get(managers=admin_scoped)
    services.update_group(owner, group, group.name, "", [org_a, org_b], [admin_scoped])
    assert client.get(f"/console/devices/{device_b.pk}/").status_code == 200


@pytest.mark.parametrize("role", ["owner", "super_admin", "finance"])
def test_grp2_only_admin_and_support_can_be_managers(request, owner, role):
    candidate = owner if role == "owner" else request.getfixturevalue(role)
    with pytest.raises(ValidationError) as caught:
        services.create_group(owner, "Desk", "", [], [candidate])
    assert "managers" in caught.value.message_dict
    assert not Group.objects.exists()


def test_grp1_only_owner_and_super_admin_change_groups(owner, admin, support, signed_in):
    group = services.create_group(owner, "Desk", "", [], [support])
    client = api_client(admin)
    assert client.get(f"/api/v1/groups/{group.pk}/").status_code == 200
    assert client.patch(f"/api/v1/groups/{group.pk}/", {"name": "Mine"}, format="json").status_code == 403
    assert client.post("/api/v1/groups/", {"name": "Mine"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/groups/{group.pk}/").status_code == 403
    page = signed_in(admin).get(f"/console/groups/{group.pk}/").content.decode()
    assert "<fieldset disabled>" in page


def test_grp1_pages_create_edit_and_delete_with_audit(owner, org_a, support, signed_in):
    client = signed_in(owner)
    response = client.post(
        "/console/groups/new/", {"name": "Contoso desk", "description": "", "organizations": [org_a.pk], "managers": [support.pk]}
    )
    group = Group.objects.get(name="Contoso desk")
    assert response.status_code == 302
    assert list(group.organizations.all()) == [org_a] and list(group.managers.all()) == [support]
    page = client.get("/console/groups/").content.decode()
    assert "Contoso desk" in page and org_a.name in page
    client.post(f"/console/groups/{group.pk}/delete/")
    assert not Group.objects.exists()
    actions = list(AuditEvent.objects.filter(object_type="tenancy.group").order_by("seq").values_list("action", flat=True))
    assert actions == ["group.created", "group.deleted"]


def test_grp1_api_refuses_other_partners_organizations_and_managers(owner, foreign_org, outsider):
    client = api_client(owner)
    assert client.post("/api/v1/groups/", {"name": "X", "organizations": [foreign_org.pk]}, format="json").status_code == 400
    assert client.post("/api/v1/groups/", {"name": "X", "managers": [outsider.pk]}, format="json").status_code == 400
    assert client.post("/api/v1/groups/", {"name": "X" * 500}, format="json").status_code == 400
    assert client.post("/api/v1/groups/", "[", content_type="application/json").status_code == 400
    assert not Group.objects.exists()


def test_grp1_groups_of_another_partner_are_404(owner, other_partner):
    theirs = seed.group(other_partner, "Theirs")
    assert api_client(owner).get(f"/api/v1/groups/{theirs.pk}/").status_code == 404
