"""The dashboard in a real browser at phone width (DASH-1, DASH-3, DASH-5, RA-6): charts drawn,
no sideways scrolling, the welcome and a notice closed in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portico import seed
from portico.notifications.models import Notice
from tests.browser.pages import sign_in
from tests.browser.test_layout import PHONE, assert_no_horizontal_overflow


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dash5_dashboard_at_phone_width_welcome_get_started_then_gone(new_page, owner, org_a, org_b):
    backup = seed.plan(owner.partner, "Business Backup")
    seed.subscription(org_a, backup, paid_seats=10)
    seed.subscription(org_b, backup, status="suspended")
    for n in range(3):
        seed.account(org_a, f"user{n}@contoso.test")
    seed.account(org_b, "someone-with-a-very-long-address-indeed@fabrikam.test", backed_up=False)
    Notice.objects.create(title="Maintenance on Saturday night", body="Backups pause for an hour.", level="warning")

    page = new_page(**PHONE)
    sign_in(page, owner.person, lands_on="/console/")
    welcome = page.get_by_test_id("welcome")
    expect(welcome).to_be_visible()
    expect(page.locator('[data-chart="donut"]')).to_have_count(2)
    for chart in page.locator('[data-chart]').all():
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
    expect(page.locator('[data-widget="coverage"] [data-figure="coverage-percent"]')).to_have_text("75 %")
    assert_no_horizontal_overflow(page)

    page.get_by_role("button", name="Get started").click()
    expect(welcome).to_have_count(0)
    page.get_by_role("button", name="Dismiss “Maintenance on Saturday night”").click()
    expect(page.locator("[data-notice]")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("welcome")).to_have_count(0)
    expect(page.locator("[data-notice]")).to_have_count(0)

    page.get_by_label("Period").select_option("all_time")
    expect(page.get_by_test_id("period-dates")).to_have_text("Since the beginning")
    assert_no_horizontal_overflow(page)
