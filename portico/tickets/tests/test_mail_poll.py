"""The support mailbox read over IMAP from a real Dovecot (TK-7): replies become comments, the
watermark moves, nothing is deleted, and a broken server changes nothing but the mailbox's error."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from portico.notifications import secrets
from portico.tickets import mailin, services
from portico.tickets.models import InboundEmail, InboundState, SupportMailbox
from portico.tickets.services import TicketDraft


def _mailbox(partner, server) -> SupportMailbox:
    return SupportMailbox.objects.create(
        partner=partner, address="help@northwind.test", host=server.host, port=server.port, use_tls=False,
        username=server.username, password_encrypted=secrets.encrypt(server.password), folder=server.folder,
    )


def _reply(ticket, sender="olivia@contoso.test", text="Still broken.") -> bytes:
    notice = ticket.thread_messages.order_by("-id").first().message_id
    message = EmailMessage()
    message["From"], message["To"] = sender, "help@northwind.test"
    message["Subject"] = f"Re: [Ticket#{ticket.pk}] {ticket.subject}"
    message["Message-ID"] = f"<reply-{ticket.pk}-{sender}>"
    message["In-Reply-To"] = message["References"] = f"<{notice}>"
    message.set_content(text)
    return message.as_bytes().replace(b"\n", b"\r\n")


@pytest.mark.django_db
def test_tk7_poll_places_replies_holds_strangers_and_moves_the_watermark(dovecot, partner, user_own_tickets, mails):
    server = dovecot.new_mailbox()
    mailbox = _mailbox(partner, server)
    with mails():
        ticket = services.open_ticket(user_own_tickets, TicketDraft("Printer", "Jammed"))
    dovecot.append_many(server.username, [_reply(ticket), _reply(ticket, sender="someone@else.test")])

    result = mailin.poll_mailbox(mailbox)

    assert (result.fetched, result.placed, result.held, result.error) == (2, 1, 1, "")
    assert list(ticket.comments.values_list("body", flat=True)) == ["Still broken."]
    mailbox.refresh_from_db()
    assert mailbox.last_uid >= 2 and mailbox.last_error == ""
    # A second poll reads nothing new; the mailbox still holds both messages, now seen.
    assert mailin.poll_mailbox(mailbox).fetched == 0
    with dovecot.client(server.username) as client:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search("ALL")) == 2 and len(client.search("SEEN")) == 2
    assert InboundEmail.objects.filter(state=InboundState.HELD, sender="someone@else.test").exists()


@pytest.mark.django_db
def test_tk7_wrong_password_is_shown_on_the_mailbox_and_changes_nothing(dovecot, partner):
    server = dovecot.new_mailbox()
    dovecot.append(server.username, b"From: a@b.test\r\nSubject: hi\r\n\r\nhello\r\n")
    mailbox = _mailbox(partner, server)
    mailbox.password_encrypted = secrets.encrypt("wrong")
    mailbox.save()
    result = mailin.poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert result.error and mailbox.last_error and mailbox.last_uid == 0
    assert not InboundEmail.objects.exists()
