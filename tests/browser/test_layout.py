"""The console and the portal work at phone width (RA-6): no sideways scrolling, a usable menu."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import sign_in

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def assert_no_horizontal_overflow(page: Page) -> None:
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide"


def assert_menu_shows_person(page: Page, person) -> None:
    name, email = page.get_by_test_id("person-name"), page.get_by_test_id("person-email")
    expect(name).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    # Opened, and done opening: a click during the collapse's transition can be lost on a slow machine.
    expect(page.locator("#nav-main")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    expect(page.locator("#nav-main")).not_to_have_class(re.compile("collapsing"))
    expect(page.locator("#nav-main")).to_be_visible()
    expect(name).to_be_visible()
    expect(name).to_have_text(person.full_name)
    expect(email).to_be_visible()
    expect(email).to_have_text(person.email)
    page.locator("#user-menu").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_no_horizontal_overflow(page)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_layout_usable_at_phone_width(new_page, admin, user_org):
    """RA-6: at 390x844 the console, people and portal pages fit the screen and the menu opens."""
    technician = new_page(**PHONE)
    sign_in(technician, admin.person, lands_on="/console/")
    assert_no_horizontal_overflow(technician)
    assert_menu_shows_person(technician, admin.person)
    technician.goto("/console/people/")
    assert_no_horizontal_overflow(technician)

    end_user = new_page(**PHONE)
    sign_in(end_user, user_org.person, lands_on="/portal/")
    assert_no_horizontal_overflow(end_user)
    assert_menu_shows_person(end_user, user_org.person)

    signed_out = new_page(**PHONE)
    signed_out.goto("/accounts/login/")
    assert_no_horizontal_overflow(signed_out)
