"""Disabling a membership ends its open sessions at once (ID-6)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import path_is, sign_in


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_id6_disabling_ends_open_session(new_page, admin, user_org):
    """ID-6: the end user's open session ends on their next request after the admin disables them."""
    end_user = new_page()
    sign_in(end_user, user_org.person, lands_on="/portal/")
    expect(end_user.get_by_test_id("portal-place")).to_contain_text("Contoso")

    technician = new_page()
    sign_in(technician, admin.person, lands_on="/console/")
    technician.goto("/console/people/")
    row = technician.get_by_role("row").filter(has_text=user_org.person.email)
    row.get_by_role("button", name="Disable").click()
    expect(technician.get_by_text(f"{user_org.person.email} is disabled and signed out.")).to_be_visible()
    row = technician.get_by_role("row").filter(has_text=user_org.person.email)
    expect(row.get_by_role("button", name="Enable")).to_be_visible()

    end_user.reload()
    expect(end_user).to_have_url(path_is("/accounts/login/"))
    expect(end_user.get_by_text("Your access was disabled")).to_be_visible()
    end_user.goto("/portal/")
    expect(end_user).to_have_url(path_is("/accounts/login/"))
