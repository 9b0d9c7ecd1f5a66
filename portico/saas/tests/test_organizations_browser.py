"""The organizations page in a real browser (ORG-1, ORG-2, ORG-5, ORG-8): tabs, a search with
special characters, Next appearing at the 21st organization, and every page at phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portico import seed
from portico.saas.models import Subscription
from tests.browser.pages import path_is, sign_in
from tests.browser.test_layout import PHONE, assert_no_horizontal_overflow

SPECIAL = "100% O'Brien_\"Quoted\" \\ Café 🚀"


def subscribe(org, plan, **fields) -> Subscription:
    admin = seed.customer_user(seed.person(f"admin{org.pk}@customer.test", first_name="Ida", last_name="Admin"), org)
    return seed.subscription(org, plan, admin=admin, contact_email=admin.person.email, **fields)


def rows(page: Page):
    return page.locator("[data-organization]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_org1_org2_org5_tabs_search_and_next_at_the_21st(new_page, owner, partner):
    plan = seed.plan(partner, "Business Backup", "backup")
    special = subscribe(seed.organization(partner, SPECIAL), plan)
    for i in range(19):
        subscribe(seed.organization(partner, f"Org {i:03d}"), plan)
    subscribe(seed.organization(partner, "Paused Ltd"), plan, status="suspended")
    page = new_page()
    sign_in(page, owner.person, lands_on="/console/")
    page.goto("/console/organizations/")

    # ORG-1: Active is the default tab; 20 active organizations fit one page (ORG-5).
    expect(page.locator('[data-tab="active"]')).to_have_attribute("aria-current", "page")
    expect(rows(page)).to_have_count(20)
    expect(page.get_by_role("link", name="Next")).to_have_count(0)
    expect(page.get_by_role("link", name="Previous")).to_have_count(0)

    page.locator('[data-tab="suspended"]').click()
    expect(page.locator('[data-tab="suspended"]')).to_have_attribute("aria-current", "page")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Paused Ltd")

    # ORG-2: special characters find themselves, and are never wildcards.
    page.locator('[data-tab="active"]').click()
    search = page.get_by_placeholder("Search by name or id")
    search.fill("O'Brien_\"Quoted\" \\ Café 🚀")
    search.press("Enter")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator("[data-name]")).to_have_text(SPECIAL)
    expect(search).to_have_value("O'Brien_\"Quoted\" \\ Café 🚀")
    search.fill("Org%")  # a wildcard would find "Org 000" …
    search.press("Enter")
    expect(rows(page)).to_have_count(0)
    expect(page.get_by_test_id("no-organizations")).to_be_visible()
    search.fill(str(special.pk))  # by id (names holding the same digits are listed too)
    search.press("Enter")
    expect(page.locator(f'[data-organization="{special.pk}"]')).to_have_count(1)

    # ORG-5: the 21st active organization brings Next; its page has Previous only.
    subscribe(seed.organization(partner, "Zulu Last"), plan)
    page.goto("/console/organizations/")
    expect(rows(page)).to_have_count(20)
    expect(page.get_by_role("link", name="Previous")).to_have_count(0)
    page.get_by_role("link", name="Next").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Zulu Last")
    expect(page.get_by_role("link", name="Next")).to_have_count(0)
    page.get_by_role("link", name="Previous").click()
    expect(rows(page)).to_have_count(20)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_org8_org9_organization_pages_fit_a_phone(new_page, owner, partner):
    plan = seed.plan(partner, "Business Backup with a rather long plan name", "backup", price="1234.50")
    long_name = "Contoso International Holdings and Subsidiaries Worldwide Limited"
    sub = subscribe(seed.organization(partner, long_name), plan, credential_status="need_auth",
                    credential_error="AADSTS50173: The provided grant has expired due to it being revoked " * 3)
    seed.account(sub.organization, "a.very.long.mailbox.address.for.testing@contoso-international.test",
                 sections=[("email", "success", 10, 3 * 1024**3)])
    page = new_page(**PHONE)
    sign_in(page, owner.person, lands_on="/console/")
    for path in ["/console/organizations/", f"/console/organizations/{sub.pk}/",
                 f"/console/organizations/{sub.pk}/credentials/", "/console/organizations/new/"]:
        page.goto(path)
        expect(page).to_have_url(path_is(path))
        assert_no_horizontal_overflow(page)

    # The row's actions open on a phone and lead to the credential page (ORG-8).
    page.goto("/console/organizations/")
    row = rows(page).first
    row.get_by_role("button", name="Actions").click()
    row.get_by_role("link", name="Go to credential page").click()
    expect(page).to_have_url(path_is(f"/console/organizations/{sub.pk}/credentials/"))
    expect(page.get_by_test_id("credential-error")).to_contain_text("AADSTS50173")
