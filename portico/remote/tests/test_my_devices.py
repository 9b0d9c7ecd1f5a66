"""RA-1: the end user's "My devices" page lists their assigned devices with their online state and
offers only the connections their permissions allow for each device's OS (PERM-1)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from portico import seed
from portico.access.catalog import CONNECTIONS
from portico.devices.models import Device
from tests.support import sign_in

pytestmark = pytest.mark.django_db


def _rows(page) -> dict[str, str]:
    return {device.name: [kind.label for kind in device.connections] for device in page.context["page"]}


def test_ra1_only_assigned_devices_with_the_connections_allowed_for_their_os(client, user_org, org_a):
    windows = seed.device(org_a, "CONTOSO-PC-01", "windows")
    linux = seed.device(org_a, "contoso-build", "linux")
    seed.device(org_a, "not-mine", "linux")
    seed.assign(user_org, windows, linux)
    seed.grant(user_org, CONNECTIONS, "remote_control.windows", "user_cli.linux", "system_cli.windows")
    Device.objects.filter(pk=linux.pk).update(online=True, last_seen_at=timezone.now())
    sign_in(client, user_org)
    page = client.get(reverse("remote:my_devices"))
    assert page.status_code == 200
    assert _rows(page) == {
        "CONTOSO-PC-01": ["Remote control", "System command line"],
        "contoso-build": ["User command line"],
    }
    text = page.content.decode()
    assert "not-mine" not in text and "Online" in text and "Offline" in text


def test_perm1_without_the_connections_switch_no_connection_is_offered(client, user_org, org_a):
    device = seed.device(org_a, "CONTOSO-PC-01", "windows")
    seed.assign(user_org, device)
    seed.grant(user_org, "remote_control.windows")  # the per-OS right alone
    sign_in(client, user_org)
    page = client.get(reverse("remote:my_devices"))
    assert _rows(page) == {"CONTOSO-PC-01": []}
    assert "allow no connection" in page.content.decode()


def test_ra1_search_and_pages(client, user_org, org_a):
    devices = [seed.device(org_a, f"pc-{n:02d}", "linux") for n in range(30)]
    seed.assign(user_org, *devices)
    sign_in(client, user_org)
    first = client.get(reverse("remote:my_devices"))
    assert len(first.context["page"]) == 25
    second = client.get(reverse("remote:my_devices"), {"page": 2})
    assert [d.name for d in second.context["page"]] == [f"pc-{n:02d}" for n in range(25, 30)]
    found = client.get(reverse("remote:my_devices"), {"q": "pc-07"})
    assert list(_rows(found)) == ["pc-07"]
    for odd in ("%", "_", "'\"\\", "😀", "x" * 10_000):
        assert client.get(reverse("remote:my_devices"), {"q": odd}).status_code == 200
    assert client.get(reverse("remote:my_devices"), {"page": "999"}).status_code == 200


def test_ra1_technicians_do_not_have_this_page(client, admin):
    sign_in(client, admin)
    assert client.get(reverse("remote:my_devices")).status_code == 404


def test_ra1_the_portal_links_to_it(client, user_org):
    sign_in(client, user_org)
    assert reverse("remote:my_devices") in client.get(reverse("web:portal")).content.decode()
