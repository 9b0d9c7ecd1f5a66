"""Devices in the technician console and the API (DEV-2, EU-4)."""

from __future__ import annotations

import pytest

from portico import seed
from portico.audit.models import AuditEvent
from portico.devices.models import Device, DeviceAssignment
from tests.support import api_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["owner", "super_admin", "admin", "support"])
def test_dev2_technicians_see_every_device_of_their_partner(request, who, device_a, device_b, foreign_device, signed_in):
    client = signed_in(request.getfixturevalue(who))
    page = client.get("/console/devices/").content.decode()
    assert device_a.name in page and device_b.name in page
    assert foreign_device.name not in page
    assert client.get(f"/console/devices/{foreign_device.pk}/").status_code == 404


def test_dev2_finance_reaches_no_device(finance, device_a, signed_in):
    client = signed_in(finance)
    assert device_a.name not in client.get("/console/devices/").content.decode()
    assert client.get(f"/console/devices/{device_a.pk}/").status_code == 404


def test_dev2_grp3_scoped_admin_sees_only_devices_of_their_groups(admin_scoped, device_a, device_b, signed_in):
    client = signed_in(admin_scoped)
    page = client.get("/console/devices/").content.decode()
    assert device_a.name in page and device_b.name not in page
    assert client.get(f"/console/devices/{device_b.pk}/").status_code == 404
    assert client.post(f"/console/devices/{device_b.pk}/delete/").status_code == 404
    assert Device.objects.filter(pk=device_b.pk).exists()


def test_dev2_list_filters_and_search(admin, org_a, device_a, device_b, signed_in):
    client = signed_in(admin)
    by_org = client.get("/console/devices/", {"organization": org_a.pk}).content.decode()
    assert device_a.name in by_org and device_b.name not in by_org
    by_os = client.get("/console/devices/", {"os_family": "linux"}).content.decode()
    assert device_b.name in by_os and device_a.name not in by_os
    by_user = client.get("/console/devices/", {"q": "emma"}).content.decode()
    assert device_a.name in by_user and device_b.name not in by_user


def test_dev2_create_edit_delete_are_audited(admin, org_a, org_b, signed_in):
    client = signed_in(admin)
    response = client.post(
        "/console/devices/new/",
        {"organization": org_a.pk, "name": "CONTOSO-LT-07", "os_family": "mac", "os_version": "macOS 15", "ip_address": "10.0.0.7"},
    )
    device = Device.objects.get(name="CONTOSO-LT-07")
    assert response.status_code == 302 and device.partner_id == org_a.partner_id
    client.post(f"/console/devices/{device.pk}/edit/", {"organization": org_a.pk, "name": "CONTOSO-LT-08", "os_family": "mac"})
    device.refresh_from_db()
    assert device.name == "CONTOSO-LT-08"
    client.post(f"/console/devices/{device.pk}/delete/")
    assert not Device.objects.filter(pk=device.pk).exists()
    actions = list(AuditEvent.objects.filter(object_id=str(device.pk), object_type="devices.device").order_by("seq").values_list("action", flat=True))
    assert actions == ["device.created", "device.changed", "device.deleted"]


def test_dev2_a_device_cannot_be_created_in_another_partners_organization(admin, org_a, foreign_org, signed_in):
    client = signed_in(admin)
    response = client.post("/console/devices/new/", {"organization": foreign_org.pk, "name": "X", "os_family": "linux"})
    assert response.status_code == 200 and b"is-invalid" in response.content
    assert not Device.objects.filter(name="X").exists()


def test_eu4_moving_a_device_drops_single_organization_users_of_the_old_one(admin, org_b, device_a, user_org, user_all_orgs):
    from portico.devices import services

    seed.assign(user_org, device_a)
    seed.assign(user_all_orgs, device_a)
    services.update_device(
        admin, device_a, services.DeviceDetails(organization=org_b, name=device_a.name, os_family=device_a.os_family)
    )
    assert list(DeviceAssignment.objects.filter(device=device_a).values_list("membership", flat=True)) == [user_all_orgs.pk]
    event = AuditEvent.objects.get(action="device.unassigned")
    assert event.object_id == str(user_org.pk) and event.before["device"] == device_a.pk


def test_dev2_api_lists_only_devices_in_reach(admin_scoped, device_a, device_b, foreign_device):
    client = api_client(admin_scoped)
    ids = {d["id"] for d in client.get("/api/v1/devices/").json()["results"]}
    assert ids == {device_a.pk}
    assert client.get(f"/api/v1/devices/{device_b.pk}/").status_code == 404
    assert client.get(f"/api/v1/devices/{foreign_device.pk}/").status_code == 404


def test_dev2_api_create_update_delete(admin, org_a, foreign_org):
    client = api_client(admin)
    created = client.post("/api/v1/devices/", {"organization": org_a.pk, "name": "api-box", "os_family": "linux"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert client.patch(f"/api/v1/devices/{pk}/", {"os_version": "Debian 13"}, format="json").json()["os_version"] == "Debian 13"
    refused = client.post("/api/v1/devices/", {"organization": foreign_org.pk, "name": "x", "os_family": "linux"}, format="json")
    assert refused.status_code == 400 and "organization" in refused.json()
    assert client.delete(f"/api/v1/devices/{pk}/").status_code == 204
    assert not Device.objects.filter(pk=pk).exists()


def test_dev2_end_users_cannot_change_devices_through_the_api(user_all_orgs, device_a):
    seed.assign(user_all_orgs, device_a)
    client = api_client(user_all_orgs)
    assert client.get(f"/api/v1/devices/{device_a.pk}/").status_code == 200
    assert client.patch(f"/api/v1/devices/{device_a.pk}/", {"name": "mine"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/devices/{device_a.pk}/").status_code == 403
    device_a.refresh_from_db()
    assert device_a.name == "CONTOSO-PC-01"


@pytest.mark.parametrize(
    "body",
    [
        {"organization": "abc", "name": "x", "os_family": "linux"},
        {"organization": 999999, "name": "x", "os_family": "linux"},
        {"organization": None, "name": "x" * 5000, "os_family": "beos"},
        {"name": "x", "os_family": "linux", "ip_address": "999.1.1.1"},
        [1, 2, 3],
        "text",
    ],
)
def test_dev2_api_bad_input_gets_field_errors(admin, org_a, body):
    response = api_client(admin).post("/api/v1/devices/", body, format="json")
    assert response.status_code == 400
    assert not Device.objects.exists()


def test_dev2_device_list_query_count_does_not_grow_with_rows(admin, org_a, org_b, signed_in, django_assert_max_num_queries):
    for i in range(60):
        seed.device(org_a if i % 2 else org_b, f"PC-{i:03}")
    client = signed_in(admin)
    with django_assert_max_num_queries(15):
        response = client.get("/console/devices/")
    assert response.content.decode().count("/console/devices/") >= 25


def test_dev2_with_many_organizations_the_filter_searches_by_name(admin, partner, device_a, device_b, signed_in):
    from portico.tenancy.forms import ORGANIZATION_MENU_LIMIT
    from portico.tenancy.models import Organization

    Organization.objects.bulk_create([Organization(partner=partner, name=f"Extra {i}") for i in range(ORGANIZATION_MENU_LIMIT)])
    client = signed_in(admin)
    page = client.get("/console/devices/").content.decode()
    assert "Extra 17" not in page  # no menu of hundreds of organizations
    filtered = client.get("/console/devices/", {"organization": "contoso"}).content.decode()
    assert device_a.name in filtered and device_b.name not in filtered


def test_dev2_list_pages_without_counting(admin, org_a, signed_in):
    for i in range(30):
        seed.device(org_a, f"PC-{i:03}")
    client = signed_in(admin)
    first = client.get("/console/devices/").content.decode()
    assert "PC-000" in first and "PC-025" not in first and "page=2" in first
    second = client.get("/console/devices/", {"page": 2}).content.decode()
    assert "PC-025" in second and "PC-029" in second and "page=1" in second and "page=3" not in second
    assert client.get("/console/devices/", {"page": "x' OR 1=1"}).status_code == 200


def test_dev2_finance_cannot_open_the_new_device_form(finance, org_a, signed_in):
    assert signed_in(finance).get("/console/devices/new/").status_code == 403


@pytest.mark.parametrize("value", ["21071978922704855040", "abc", "١٢", "-1"])
def test_dev2_api_organization_filter_that_cannot_be_an_id_is_a_field_error(admin, value):
    response = api_client(admin).get("/api/v1/devices/", {"organization": value})
    assert response.status_code == 400 and "organization" in response.json()
