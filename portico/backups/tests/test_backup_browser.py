"""Restoring one's own file in a real browser (issue 7, item 6; FR-2 … FR-4): headless chromium
at phone width on Portico served by uvicorn, a real `portico-agent` process backing up and
restoring with the real restic."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import expect

from portico import seed
from portico.access.catalog import BACKUP_RESTORE
from portico.audit.models import AuditEvent
from portico.backups.models import Snapshot
from portico.remote.tests.support import until
from tests.browser.pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_an_end_user_finds_restores_keeping_both_and_downloads_a_folder(backed_up_by_agent, browser, asgi_server, user_org):
    agent, home, back_up = backed_up_by_agent
    assert back_up().state == "succeeded"
    until(lambda: Snapshot.objects.filter(device=agent.device).exists(), timeout=60)
    report = home / "Documents" / "report.odt"
    report.write_bytes(b"edited since the backup\n")
    seed.assign(user_org, agent.device)
    seed.grant(user_org, BACKUP_RESTORE)

    context = browser.new_context(base_url=asgi_server.url, locale="en-US", accept_downloads=True, **PHONE)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        sign_in(page, user_org.person, lands_on="/portal/")
        page.goto("/portal/devices/")
        page.locator(f"[data-device='{agent.device.pk}'] [data-backups]").click()
        page.get_by_placeholder("Search file names in every backup").fill("repo")
        page.get_by_role("button", name="Search").first.click()
        page.locator(f"[data-show='{report}']").click()
        expect(page.locator(f"tr[data-path='{report}'] input[type=checkbox]")).to_be_checked()
        expect(page.get_by_label("Keep both (the restored file gets a new name)")).to_be_checked()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # usable on a phone
        page.get_by_role("button", name="Restore").click()

        expect(page.locator("#run-state")).to_have_attribute("data-state", "succeeded", timeout=60_000)
        expect(page.get_by_test_id("percent")).to_have_text("100 %")
        expect(page.get_by_test_id("restore-result")).to_contain_text("1 file restored. 1 of them kept beside an existing file under a new name.")
        assert report.read_bytes() == b"edited since the backup\n"
        assert (report.parent / "report (restored).odt").read_bytes() == b"the report as it was\n" * 200
        assert AuditEvent.objects.filter(action="backup.restore_finished", actor=user_org).exists()

        # The notes folder as a zip, from the folder's page.
        page.goto(f"/portal/devices/{agent.device.pk}/backups/?path={home}")
        with page.expect_download() as downloading:
            page.locator(f"[data-download='{home / 'notes'}']").click()
        archive = zipfile.ZipFile(io.BytesIO(open(downloading.value.path(), "rb").read()))
        files = {name.rsplit("/", 1)[-1]: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
        assert files == {"monday.txt": b"call the bank\n", "tuesday.txt": b"order gloves\n"}
    finally:
        context.close()
