"""The portal's ticket pages on a phone (RA-6, TK-1): they fit the screen, and a ticket with an
attachment can be opened, read and commented on there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portico import seed
from tests.browser.pages import path_is, sign_in
from tests.browser.test_layout import PHONE, assert_no_horizontal_overflow


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_tk1_ticket_pages_fit_a_phone_and_a_ticket_is_opened_there(request, user_org_wide, colleague, tmp_path):
    seed.ticket(colleague, "Outlook keeps asking for the password on the meeting-room tablet " * 2, priority=4)
    page = request.getfixturevalue("new_page")(**PHONE)
    sign_in(page, user_org_wide.person, lands_on="/portal/")
    page.get_by_test_id("tickets-card").get_by_role("link", name="Tickets").click()
    expect(page).to_have_url(path_is("/portal/tickets/"))
    page.locator('[data-tab="organization"]').click()
    expect(page.get_by_test_id("tickets").locator("tbody tr")).to_have_count(1)
    assert_no_horizontal_overflow(page)

    page.get_by_role("link", name="New ticket").click()
    screenshot = tmp_path / "screen.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    page.get_by_label("Subject").fill("Screen flickers")
    page.get_by_label("Description").fill("Since this morning.\nOnly on battery.")
    page.get_by_label("Urgency").select_option(label="High")
    page.get_by_label("Attachments").set_input_files(str(screenshot))
    assert_no_horizontal_overflow(page)
    page.get_by_role("button", name="Send ticket").click()
    expect(page.get_by_role("alert")).to_contain_text("is open")
    expect(page.get_by_test_id("description")).to_contain_text("screen.png")
    assert_no_horizontal_overflow(page)

    page.get_by_label("Your comment").fill("It also happens on the dock.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_role("alert")).to_contain_text("Your comment is added.")
    expect(page.locator("[data-comment]")).to_contain_text("It also happens on the dock.")
    assert_no_horizontal_overflow(page)
