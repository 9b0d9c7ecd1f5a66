"""Fixtures of the browser tests: Debian's chromium driven by Playwright against the live server.

Playwright's sync API keeps an event loop in the test thread, so Django's guard against ORM calls
from async code is lifted for these tests; the ORM still runs synchronously.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def base_url(live_server, settings) -> str:
    """The live server's address; emailed links point at it too."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def new_page(browser: Browser, base_url: str) -> Iterator[Callable[..., Page]]:
    """`new_page(**context_options)` opens a page in a fresh browser context (own cookies)."""
    contexts: list[BrowserContext] = []

    def open_page(**options) -> Page:
        context = browser.new_context(base_url=base_url, locale="en-US", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
