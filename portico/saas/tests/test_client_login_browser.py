"""Log in as client in a real browser (ORG-7): from the organizations page into the customer portal
as the organization's admin, with the banner, and back; the visit's audit trail (CP-6, AUD-1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portico import seed
from portico.audit.models import AuditEvent
from tests.browser.pages import path_is, sign_in
from tests.browser.test_layout import PHONE, assert_no_horizontal_overflow
from tests.support import PASSWORD


@pytest.fixture
def contoso(partner, org_a):
    admin = seed.customer_user(seed.person("it@contoso.test", PASSWORD), org_a)
    subscription = seed.subscription(org_a, seed.plan(partner, "Business Backup"), paid_seats=10, admin=admin)
    seed.account(org_a, "emma@contoso.test", sections=[("email", "success", 10, 1000), ("calendar", "failed", 1, 10)])
    seed.account(org_a, "Contoso Intranet", "sharepoint", sections=[("files", "success", 5, 5000)])
    return subscription


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_org7_owner_logs_in_as_client_and_comes_back(new_page, owner, contoso):
    """ORG-7: the organizations page's button opens Contoso's customer portal as its admin; the
    banner names the staff user; "Back to the partner portal" returns to the organizations page."""
    page = new_page()
    sign_in(page, owner.person, lands_on="/console/")
    page.goto("/console/organizations/")
    row = page.locator(f"[data-organization='{contoso.pk}']")
    row.get_by_role("button", name="Log in as client").click()

    expect(page).to_have_url(path_is("/customer/"))
    banner = page.get_by_test_id("client-login-banner")
    expect(banner).to_contain_text("You are signed in to Contoso's customer portal as its admin (it@contoso.test)")
    expect(banner).to_contain_text(f"acting as {owner.person.full_name}, {owner.person.email}")
    accounts = page.get_by_test_id("customer-accounts")
    expect(accounts.locator("tr", has_text="emma@contoso.test")).to_contain_text("Failed")
    expect(accounts.locator("tr", has_text="Contoso Intranet")).to_contain_text("Successful")

    # The console is closed during the visit.
    page.goto("/console/people/")
    expect(page).to_have_url(path_is("/customer/"))
    expect(page.get_by_text("only the customer portal is open")).to_be_visible()

    banner.get_by_role("button", name="Back to the partner portal").click()
    expect(page).to_have_url(path_is("/console/organizations/"))
    expect(page.get_by_text("You are back in the partner portal.")).to_be_visible()
    expect(page.get_by_test_id("client-login-banner")).to_have_count(0)

    trail = list(AuditEvent.objects.filter(action__startswith=("client_login.")).order_by("pk"))
    assert [(e.action, e.actor_id, e.impersonator_id) for e in trail] == [
        ("client_login.started", owner.pk, owner.pk),
        ("client_login.ended", owner.pk, owner.pk),
    ]
    viewed = AuditEvent.objects.filter(action="customer.accounts_viewed")
    assert viewed.exists() and all(e.actor_id == contoso.admin_id and e.impersonator_id == owner.pk for e in viewed)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_org7_the_visit_fits_a_phone(new_page, owner, contoso):
    """At 390 px the customer home with its banner has no sideways scrolling, and the way back is reachable."""
    page = new_page(**PHONE)
    sign_in(page, owner.person, lands_on="/console/")
    page.goto("/console/organizations/")
    page.locator(f"[data-organization='{contoso.pk}']").get_by_role("button", name="Log in as client").click()
    expect(page).to_have_url(path_is("/customer/"))
    expect(page.get_by_test_id("customer-accounts")).to_contain_text("emma@contoso.test")
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Back to the partner portal").click()
    expect(page).to_have_url(path_is("/console/organizations/"))
