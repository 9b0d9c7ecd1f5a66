"""The technician board works on a phone (TK-6): every page fits 390 px, and a reply can be written."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from portico import seed
from portico.tickets.models import InboundEmail, InboundState, TicketComment
from tests.browser.pages import sign_in
from tests.browser.test_layout import PHONE, assert_no_horizontal_overflow


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_tk6_board_pages_fit_a_phone_and_a_note_can_be_written(new_page, admin, partner, user_own_tickets, user_org_b):
    ticket = seed.ticket(user_own_tickets, "Printer on floor 2 jams with every long document " * 3, priority=4)
    seed.ticket(user_org_b, "Fabrikam mailbox full")
    held = InboundEmail.objects.create(
        partner=partner, raw=b"From: someone@example.test\r\nSubject: Hello\r\n\r\n" + b"A long line of text. " * 40,
        state=InboundState.HELD, sender="someone@example.test", subject="Hello", reason="Not a reply to a ticket.",
    )
    page = new_page(**PHONE)
    sign_in(page, admin.person, lands_on="/console/")
    shots = os.environ.get("BOARD_SCREENSHOTS")
    pages = ["/console/tickets/", f"/console/tickets/{ticket.pk}/", "/console/tickets/new/?who=olivia",
             "/console/tickets/held-mail/", f"/console/tickets/held-mail/{held.pk}/"]
    for path in pages:
        page.goto(path)
        assert_no_horizontal_overflow(page)
        if shots:
            page.screenshot(path=f"{shots}/{path.strip('/').replace('/', '_').replace('?', '_')}.png", full_page=True)
    page.goto(f"/console/tickets/{ticket.pk}/")
    page.get_by_label("Internal note (technicians only)").check()
    page.get_by_label("Message").fill("Ordered a new fuser.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-internal]")).to_contain_text("Ordered a new fuser.")
    assert TicketComment.objects.get().internal
