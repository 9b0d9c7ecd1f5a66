"""Later sign-ins: password, then the TOTP step; wrong codes refused; repeated failures lock (ID-4, ID-12)."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect

from portico import seed
from tests.browser.pages import path_is, sign_in, submit_code, submit_password

LOCKED = "Too many failed login attempts"
LOGIN_FAILED_LIMIT = 5  # settings.ACCOUNT_RATE_LIMITS["login_failed"]: 5 per address per 15 minutes


def wrong_code(person) -> str:
    """Six digits that no nearby time step of the person's authenticator produces."""
    totp = pyotp.TOTP(seed.totp_secret(person))
    now = time.time()
    near = {totp.at(now + drift) for drift in (-60, -30, 0, 30, 60)}
    return next(code for code in (f"{n:06d}" for n in range(123456, 10**6)) if code not in near)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_id4_id12_sign_in_with_totp_wrong_code_refused_and_lockout(new_page, user_org):
    """ID-4: password then TOTP signs in; a wrong code is refused. ID-12: failures lock, and say so."""
    person = user_org.person
    sign_in(new_page(), person, lands_on="/portal/")

    page = new_page()
    submit_password(page, person.email)
    submit_code(page, wrong_code(person))
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    expect(page).to_have_url(path_is("/accounts/2fa/authenticate/"))
    page.goto("/portal/")
    expect(page).not_to_have_url(path_is("/portal/"))

    page = new_page()
    for _attempt in range(LOGIN_FAILED_LIMIT):
        submit_password(page, person.email, "not-the-password-1")
        expect(page.get_by_text("password you specified are not correct")).to_be_visible()
        expect(page.get_by_text(LOCKED)).to_have_count(0)
    submit_password(page, person.email, "not-the-password-1")
    expect(page.get_by_text(LOCKED)).to_be_visible()

    # While locked, even the right password is refused and no MFA step is offered.
    submit_password(page, person.email)
    expect(page.get_by_text(LOCKED)).to_be_visible()
    expect(page).to_have_url(path_is("/accounts/login/"))
    page.goto("/portal/")
    expect(page).to_have_url(path_is("/accounts/login/"))
