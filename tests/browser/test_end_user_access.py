"""A technician gives an end user a role and a device, and sees why the user may or may not
use it (EU-2, EU-4, PERM-1, PERM-4, issue 3's explain access), on a phone-sized screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portico import seed
from portico.access import catalog
from tests.browser.pages import sign_in

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_eu4_technician_assigns_a_device_and_reads_the_access_table(new_page, admin, partner, user_org, device_a, device_b):
    seed.role(partner, "Remote support", catalog.CONNECTIONS, catalog.connection_code("remote_control", "windows"))
    page = new_page(**PHONE)
    sign_in(page, admin.person, lands_on="/console/")

    page.goto("/console/end-users/")
    page.get_by_role("link", name=user_org.person.full_name).click()
    page.get_by_role("link", name="Roles").click()
    page.get_by_label("Remote support").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Roles saved.")).to_be_visible()

    page.get_by_role("link", name="Devices").click()
    # EU-4: only devices of the user's own organization are offered.
    expect(page.get_by_label(device_a.name)).to_be_visible()
    expect(page.get_by_label(device_b.name)).to_have_count(0)
    page.get_by_label(device_a.name).check()
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Devices assigned.")).to_be_visible()

    row = page.get_by_test_id("access-table").locator("tbody tr", has_text=device_a.name)
    cells = row.locator("td[data-allowed]")
    expect(cells).to_have_count(4)
    expect(cells.nth(0)).to_have_attribute("data-allowed", "yes")  # remote control on Windows
    expect(cells.nth(2)).to_have_attribute("data-allowed", "no")  # system command line
    cells.nth(2).locator("summary").click()
    expect(cells.nth(2)).to_contain_text("No role or direct permission grants System command line on Windows.")
    cells.nth(0).locator("summary").click()
    expect(cells.nth(0)).to_contain_text("Role “Remote support” grants")
