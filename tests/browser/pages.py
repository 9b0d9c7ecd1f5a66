"""Steps the browser tests share: signing in through the real pages."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portico import seed
from tests.support import PASSWORD, fresh_totp_code


def path_is(path: str) -> re.Pattern[str]:
    """Matches a page URL whose path is exactly `path` (any query string)."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def submit_password(page: Page, email: str, password: str = PASSWORD) -> None:
    """Fill allauth's sign-in form and submit it."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")


def submit_code(page: Page, code: str) -> None:
    """Answer allauth's MFA step with an authenticator code."""
    expect(page).to_have_url(path_is("/accounts/2fa/authenticate/"))
    page.locator("input[name=code]").fill(code)
    page.locator("input[name=code]").press("Enter")


def sign_in(page: Page, person, *, lands_on: str) -> None:
    """Sign in through the real pages: email and password, then the current TOTP code."""
    submit_password(page, person.email)
    submit_code(page, fresh_totp_code(seed.totp_secret(person)))
    expect(page).to_have_url(path_is(lands_on))
