"""An end user invited by a technician reaches the portal, all through the browser (ID-1, ID-2)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import fresh_totp_code, path_is, sign_in
from tests.support import text_body

NEW_PASSWORD = "a-long-and-new-passphrase-7"
INVITEE = "nia.new@contoso.test"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_id1_id2_invited_end_user_reaches_portal(new_page, admin, org_a, mailbox):
    """ID-1: the invitation email's link opens the accept page. ID-2: password, then MFA, then in."""
    technician = new_page()
    sign_in(technician, admin.person, lands_on="/console/")
    technician.get_by_role("link", name="People", exact=True).click()
    expect(technician).to_have_url(path_is("/console/people/"))
    technician.get_by_role("link", name="Invite", exact=True).click()
    expect(technician).to_have_url(path_is("/console/people/invite/"))
    form = technician.locator("form", has=technician.get_by_role("button", name="Send invitation"))
    form.locator("select[name=kind]").select_option("end_user")
    form.locator("input[name=first_name]").fill("Nia")
    form.locator("input[name=last_name]").fill("New")
    form.locator("input[name=email]").fill(INVITEE)
    form.locator("select[name=organization]").select_option(label="Contoso")
    form.locator("select[name=language]").select_option("en")
    form.locator("select[name=security_type]").select_option("native")
    form.get_by_role("button", name="Send invitation").click()
    expect(technician).to_have_url(path_is("/console/people/"))
    expect(technician.get_by_text(f"Invitation sent to {INVITEE}")).to_be_visible()

    [message] = mailbox.wait_for(INVITEE)
    body = text_body(message)
    assert "Accept invitation" in body
    link = re.search(r"https?://\S+/invitations/[\w-]+/", body)
    assert link, body

    invitee = new_page()
    invitee.goto(link.group(0))
    expect(invitee.get_by_role("heading", name="Accept invitation")).to_be_visible()
    invitee.locator("input[name=password1]").fill(NEW_PASSWORD)
    invitee.locator("input[name=password2]").fill(NEW_PASSWORD)
    invitee.locator("input[name=password2]").press("Enter")

    # Nothing but the MFA set-up is reachable before a method exists.
    expect(invitee).to_have_url(path_is("/accounts/mfa-setup/"))
    invitee.goto("/portal/")
    expect(invitee).to_have_url(path_is("/accounts/mfa-setup/"))
    invitee.get_by_test_id("setup-totp").click()
    expect(invitee).to_have_url(path_is("/accounts/2fa/totp/activate/"))
    secret = invitee.locator("input#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    invitee.locator("input[name=code]").fill(fresh_totp_code(secret))
    invitee.locator("input[name=code]").press("Enter")
    # allauth shows the one-time recovery codes made with the first method (ID-3).
    expect(invitee).to_have_url(path_is("/accounts/2fa/recovery-codes/"))

    invitee.goto("/accounts/pick/")
    expect(invitee).to_have_url(path_is("/portal/"))
    expect(invitee.get_by_test_id("portal-place")).to_contain_text("Contoso")
    expect(invitee.get_by_test_id("person-email")).to_have_text(INVITEE)
