"""A ticket's whole life across the portal, the board and email (TK-1, TK-3, TK-4, TK-6, TK-7):
the end user opens it with a file, a technician replies, the reply arrives by email (loopback
SMTP), the end user answers that email (appended to a real Dovecot), the worker reads the support
mailbox, and the answer is on the ticket page. An organization-wide colleague sees the ticket,
cannot comment on it, and closes it."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from portico.notifications import secrets
from portico.tickets.models import SupportMailbox, Ticket
from portico.tickets.tasks import poll_support_mailboxes
from tests.browser.pages import path_is, sign_in
from tests.support import text_body


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _answer(notice, text: str) -> bytes:
    """The end user's mail program answering `notice`: quoted text below, threading headers set."""
    answer = EmailMessage()
    answer["From"] = notice["To"]
    answer["To"] = notice["Reply-To"]
    answer["Subject"] = "Re: " + notice["Subject"]
    answer["Message-ID"] = "<answer-1@contoso.test>"
    answer["In-Reply-To"] = notice["Message-ID"]
    answer["References"] = f'{notice["References"]} {notice["Message-ID"]}'
    quoted = "\n".join("> " + line for line in text_body(notice).splitlines())
    answer.set_content(f"{text}\n\nOn Monday, Support Staff wrote:\n{quoted}\n")
    return answer.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_tk7_ticket_round_trip_through_portal_board_and_email(
    request, user_own_tickets, user_org_wide, support, partner, mailbox, dovecot, tmp_path
):
    server = dovecot.new_mailbox()
    SupportMailbox.objects.create(
        partner=partner, address="help@northwind.test", host=server.host, port=server.port, use_tls=False,
        username=server.username, password_encrypted=secrets.encrypt(server.password),
    )
    new_page = request.getfixturevalue("new_page")

    # TK-1: the end user opens a ticket with an attachment.
    olivia = new_page()
    sign_in(olivia, user_own_tickets.person, lands_on="/portal/")
    olivia.goto("/portal/tickets/")
    olivia.get_by_role("link", name="New ticket").click()
    log = tmp_path / "vpn-log.txt"
    log.write_text("12:00 tunnel down\n13:00 tunnel down\n")
    olivia.get_by_label("Subject").fill("VPN drops every hour")
    olivia.get_by_label("Description").fill("I have to sign in again each time.")
    olivia.get_by_label("Attachments").set_input_files(str(log))
    olivia.get_by_role("button", name="Send ticket").click()
    expect(olivia.get_by_test_id("description")).to_contain_text("vpn-log.txt")
    ticket = Ticket.objects.get(subject="VPN drops every hour")
    ticket_path = f"/portal/tickets/{ticket.pk}/"
    expect(olivia).to_have_url(path_is(ticket_path))

    # TK-6: a technician answers publicly and notes something internally.
    technician = new_page()
    sign_in(technician, support.person, lands_on="/console/")
    technician.goto(f"/console/tickets/{ticket.pk}/")
    expect(technician.get_by_test_id("description")).to_contain_text("vpn-log.txt")
    technician.get_by_label("Internal note").check()
    technician.get_by_label("Message").fill("Their firewall drops idle tunnels; check the keepalive.")
    technician.get_by_role("button", name="Send").click()
    expect(technician.locator("body")).to_contain_text("keepalive")
    technician.get_by_label("Public reply").check()
    technician.get_by_label("Message").fill("Please try the new VPN profile we just pushed.")
    technician.get_by_role("button", name="Send").click()
    expect(technician.locator("body")).to_contain_text("new VPN profile")

    # TK-7: the reply arrives by email, threaded, with the ticket number; the note does not.
    notices = mailbox.wait_for("olivia@contoso.test", count=2)
    reply = next(m for m in notices if "new VPN profile" in text_body(m))
    assert re.match(rf"\[Ticket#{ticket.pk}\] VPN drops every hour", reply["Subject"])
    assert reply["Reply-To"] == "help@northwind.test" and reply["In-Reply-To"]
    assert all("keepalive" not in text_body(m) for m in notices)

    # The end user answers the email; the worker's minute job reads the support mailbox.
    dovecot.append(server.username, _answer(reply, "The new profile works, thanks!"))
    poll_support_mailboxes()
    olivia.goto(ticket_path)
    comments = olivia.locator("[data-comment]")
    expect(comments.last).to_contain_text("The new profile works, thanks!")
    expect(comments.last).not_to_contain_text("wrote:")
    expect(olivia.locator("body")).not_to_contain_text("keepalive")

    # TK-2, TK-3, TK-4: the organization-wide colleague sees it, may not comment, and closes it.
    wade = new_page()
    sign_in(wade, user_org_wide.person, lands_on="/portal/")
    wade.goto("/portal/tickets/?tab=organization")
    wade.get_by_role("link", name="VPN drops every hour").click()
    expect(wade).to_have_url(path_is(ticket_path))
    expect(wade.get_by_test_id("read-only")).to_be_visible()
    expect(wade.get_by_test_id("comment-form")).to_have_count(0)
    wade.once("dialog", lambda dialog: dialog.accept())  # "Close this ticket?"
    wade.get_by_test_id("status-form").get_by_role("button", name="Close ticket").click()
    expect(wade.get_by_role("alert")).to_contain_text("closed", ignore_case=True)
    ticket.refresh_from_db()
    assert ticket.status == "closed"
