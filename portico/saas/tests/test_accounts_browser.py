"""The accounts page in a real browser at phone width (ACC-1 … ACC-3): filter by product type and
status, search, open an account's details from the row menu, and never scroll sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portico import seed
from tests.browser.pages import path_is, sign_in
from tests.browser.test_layout import PHONE, assert_no_horizontal_overflow

GIB = 1024**3


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_acc1_acc3_filter_search_and_open_details_on_a_phone(new_page, owner, org_a, org_b):
    seed.subscription(org_a, seed.plan(org_a.partner, "Business Backup"))
    alice = seed.account(
        org_a, "alice.with-a-rather-long-address@contoso-international.test", external_id="8f14e45f-ceea-467a-9575-alice",
        sections=[("email", "success", 12_345, 3 * GIB), ("calendar", "failed", 120, 1_048_576)],
    )
    seed.account(org_a, "alina@contoso.test", status="deactivated", sections=[("email", "success", 1, 1)])
    seed.account(org_a, "bob@contoso.test", "drive", sections=[("drive", "warning", 3_000, 5 * GIB)])
    site = seed.account(
        org_b, "Fabrikam Intranet", "sharepoint", domain="fabrikam.sharepoint.com",
        sections=[("files", "success", 48_213, 7 * GIB)],
    )
    page = new_page(**PHONE)
    sign_in(page, owner.person, lands_on="/console/")
    page.goto("/console/accounts/")
    rows = page.get_by_test_id("accounts").locator("tbody tr[data-account]")
    expect(rows).to_have_count(4)
    assert_no_horizontal_overflow(page)

    page.get_by_label("Product type").select_option("email")
    page.get_by_label("Status", exact=True).select_option("active")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("alice.with-a-rather-long-address@contoso-international.test")
    expect(rows.first.locator("[data-result]")).to_have_text("Failed")

    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_role("searchbox").fill("ALI")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(2)
    assert_no_horizontal_overflow(page)

    row = page.locator(f"tr[data-account='{alice.pk}']")
    row.get_by_role("button", name="Actions for").click()
    row.get_by_role("link", name="View details").click()
    expect(page).to_have_url(path_is(f"/console/accounts/{alice.pk}/"))
    expect(page.get_by_role("heading", name="Account details")).to_be_visible()
    expect(page.locator("[data-section=email] [data-items]")).to_have_text("12,345")
    expect(page.locator("[data-section=calendar] [data-result]")).to_have_text("Failed")
    assert_no_horizontal_overflow(page)

    page.goto(f"/console/accounts/{site.pk}/")
    expect(page.get_by_role("heading", name="Site details")).to_be_visible()
    expect(page.get_by_test_id("site-info")).to_contain_text("fabrikam.sharepoint.com")
    assert_no_horizontal_overflow(page)
