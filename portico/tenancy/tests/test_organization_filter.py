"""The organization filter by part of a name (past the menu's 200 organizations): the rows it finds
are those of the organizations whose name fits, however it asks for them."""

from __future__ import annotations

import pytest

from portico import seed
from portico.access import policy
from portico.devices.models import Device
from portico.tenancy.forms import filter_by_organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def devices(owner, device_a, device_b, foreign_device, org_a):
    """The Owner's device list: Contoso's two devices and Fabrikam's one; Litware's is another partner's."""
    seed.device(org_a, "CONTOSO-PC-02")
    return policy.restrict(Device.objects.all(), owner, "view")


def _joined_by_name(devices, text: str) -> list[int]:
    """The rows as the filter found them before it asked for the organizations first."""
    return sorted(devices.filter(organization__name__icontains=text).values_list("pk", flat=True))


def _found(devices) -> list[int]:
    return sorted(devices.values_list("pk", flat=True))


def test_a_name_of_one_organization_finds_its_rows_by_id(devices, org_a):
    found = filter_by_organization(devices, "  nToS ")
    assert _found(found) == _joined_by_name(devices, "ntos") == sorted(org_a.devices.values_list("pk", flat=True))
    assert "tenancy_organization" not in str(found.query)


def test_a_name_of_several_organizations_finds_the_rows_of_each(devices, partner, org_a, device_b):
    labs = seed.organization(partner, "Contoso Labs")
    seed.device(labs, "LABS-01")
    found = filter_by_organization(devices, "contoso")
    assert _found(found) == _joined_by_name(devices, "contoso")
    assert set(found.values_list("organization__name", flat=True)) == {"Contoso", "Contoso Labs"}


def test_a_name_of_another_partners_organization_finds_only_the_rows_of_the_list(devices, device_b):
    assert _found(filter_by_organization(devices, "Litware")) == _joined_by_name(devices, "Litware") == []
    # "a" fits Fabrikam, which the Owner sees, and Litware.
    assert _found(filter_by_organization(devices, "a")) == _joined_by_name(devices, "a") == [device_b.pk]


def test_a_name_of_no_organization_finds_nothing(devices):
    assert _found(filter_by_organization(devices, "Northwind")) == _joined_by_name(devices, "Northwind") == []
