"""An accounts export in a real browser, from the list's "Export CSV" to the downloaded file (CSV-1,
ACC-4): confirm, see the job done, read the emailed link from the loopback SMTP server, download."""

from __future__ import annotations

import contextlib
import csv
import io
import re

import pytest
from playwright.sync_api import Error, expect

from portico import seed
from tests.browser.pages import path_is, sign_in
from tests.browser.test_layout import PHONE, assert_no_horizontal_overflow
from tests.support import text_body


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_csv1_acc4_export_from_the_accounts_page_to_the_downloaded_file(new_page, owner, org_a, org_b, mailbox):
    plan = seed.plan(org_a.partner, "Business Backup")
    seed.subscription(org_a, plan)
    seed.subscription(org_b, plan)
    seed.account(org_a, "ann@contoso.test", sections=[("email", "success", 12, 400)])
    seed.account(org_a, "=cmd|' /C calc'!A0")
    seed.account(org_b, "cy@fabrikam.test", status="deactivated")
    seed.account(org_b, "Sales", "sharepoint")

    page = new_page(**PHONE)
    sign_in(page, owner.person, lands_on="/console/")
    page.goto("/console/accounts/?status=active&product_type=email")
    page.locator("#list-actions").get_by_role("link", name="Export CSV").click()

    expect(page).to_have_url(path_is("/console/exports/new/"))
    filters = page.get_by_test_id("export-filters")
    expect(filters).to_contain_text("Active")
    expect(filters).to_contain_text("Email")
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Yes, continue").click()

    expect(page).to_have_url(re.compile(r"/console/exports/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("The file is ready: 2 rows.")
    assert_no_horizontal_overflow(page)

    [message] = mailbox.wait_for(owner.person.email)
    assert message["Subject"] == "Your CSV Download is Ready"
    link = re.search(r"https?://\S+/console/exports/\d+/download/[\w-]+/", text_body(message)).group(0)
    with page.expect_download() as started:
        # Chromium reports a navigation that becomes a download as aborted; the download goes on.
        with contextlib.suppress(Error):
            page.goto(link)
    download = started.value
    assert re.fullmatch(r"Active Email Account Northwind IT \d{4}-\d\d-\d\d \d\d-\d\d\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(io.StringIO(file.read())))
    assert header[0] == "Email or name"
    assert sorted(row[0] for row in rows) == ["'=cmd|' /C calc'!A0", "ann@contoso.test"]

    # The export's own page offers the same file while the link lasts.
    page.goto("/console/exports/")
    page.locator("main table").get_by_role("link", name="Accounts").click()
    with page.expect_download() as again:
        page.get_by_role("button", name="Download CSV").click()
    assert again.value.suggested_filename == download.suggested_filename
