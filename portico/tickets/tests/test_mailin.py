"""Email in (TK-7): replies become comments; what cannot be placed is kept for technicians."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from portico import seed
from portico.access.catalog import TICKETS_ORGANIZATION
from portico.tickets import mailin, services
from portico.tickets.models import (
    InboundEmail,
    InboundState,
    SupportMailbox,
    ThreadMessage,
    TicketComment,
    TicketStatus,
)
from portico.tickets.services import TicketDraft
from tests.support import PASSWORD


@pytest.fixture
def support_mailbox(partner):
    return SupportMailbox.objects.create(
        partner=partner, address="help@northwind.test", host="127.0.0.1", port=143, use_tls=False, username="help"
    )


@pytest.fixture
def ticket(user_own_tickets, support_mailbox, mails):
    with mails():
        return services.open_ticket(user_own_tickets, TicketDraft("VPN drops", "Every hour"))


def _notice_id(ticket) -> str:
    return ticket.thread_messages.order_by("-id").first().message_id


def reply(ticket, *, sender="olivia@contoso.test", body="It dropped again at noon.", subject=None, **headers) -> bytes:
    message = EmailMessage()
    message["From"] = f"Olivia <{sender}>"
    message["To"] = "help@northwind.test"
    message["Subject"] = subject if subject is not None else f"Re: [Ticket#{ticket.pk}] {ticket.subject}"
    message["Message-ID"] = headers.pop("Message_ID", make_msgid(domain="contoso.test"))
    if ticket is not None and "In-Reply-To" not in headers:
        message["In-Reply-To"] = f"<{_notice_id(ticket)}>"
        message["References"] = f"<{_notice_id(ticket)}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"{body}\n\n## Reply above this line ##\nold notice text\n")
    return message.as_bytes()


@pytest.mark.django_db
def test_tk7_reply_from_requester_becomes_a_comment_with_its_attachment(ticket, support_mailbox):
    message = EmailMessage()
    message["From"] = "olivia@contoso.test"
    message["Subject"] = f"Re: [Ticket#{ticket.pk}] VPN drops"
    message["Message-ID"] = "<r1@contoso.test>"
    message["In-Reply-To"] = f"<{_notice_id(ticket)}>"
    message.set_content("Log attached.")
    message.add_attachment(b"line 1\n", maintype="text", subtype="plain", filename="vpn.log.txt")
    inbound = mailin.receive(support_mailbox, message.as_bytes())
    assert inbound.state == InboundState.PLACED, inbound.reason
    comment = inbound.comment
    assert (comment.ticket, comment.author.person.email, comment.source) == (ticket, "olivia@contoso.test", "email")
    assert comment.body == "Log attached."
    assert [a.original_name for a in comment.attachments.all()] == ["vpn.log.txt"]


@pytest.mark.django_db
def test_tk7_quoted_notice_is_cut_from_the_comment(ticket, support_mailbox):
    inbound = mailin.receive(support_mailbox, reply(ticket))
    assert inbound.comment.body == "It dropped again at noon."


@pytest.mark.django_db
def test_tk7_subject_token_threads_when_headers_are_missing(ticket, support_mailbox):
    inbound = mailin.receive(support_mailbox, reply(ticket, In_Reply_To="<unknown@elsewhere>"))
    assert inbound.state == InboundState.PLACED and inbound.ticket == ticket


@pytest.mark.django_db
def test_tk7_unknown_sender_is_held_not_lost(ticket, support_mailbox):
    raw = reply(ticket, sender="mallory@evil.test")
    inbound = mailin.receive(support_mailbox, raw)
    assert inbound.state == InboundState.HELD and "mallory@evil.test" in inbound.reason
    assert bytes(inbound.raw) == raw
    assert not TicketComment.objects.exists()


@pytest.mark.django_db
def test_tk3_org_wide_colleague_cannot_comment_by_email(ticket, support_mailbox, org_a):
    wide = seed.end_user(seed.person("wade@contoso.test", PASSWORD), org_a)
    seed.grant(wide, TICKETS_ORGANIZATION)
    inbound = mailin.receive(support_mailbox, reply(ticket, sender="wade@contoso.test"))
    assert inbound.state == InboundState.HELD
    assert not TicketComment.objects.exists()


@pytest.mark.django_db
def test_tk7_technician_reply_by_email_is_a_public_reply(ticket, support_mailbox, support):
    inbound = mailin.receive(support_mailbox, reply(ticket, sender="support@northwind.test", body="Try the new profile."))
    assert inbound.state == InboundState.PLACED
    assert inbound.comment.internal is False and inbound.comment.author == support


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"), ("Precedence", "junk"),
     ("Precedence", "list"), ("X-Auto-Response-Suppress", "All")],
)
def test_tk7_automatic_replies_are_kept_and_ignored(ticket, support_mailbox, header):
    inbound = mailin.receive(support_mailbox, reply(ticket, **{header[0].replace("-", "_"): header[1]}))
    assert inbound.state == InboundState.IGNORED
    assert not TicketComment.objects.exists()


@pytest.mark.django_db
def test_tk7_same_message_twice_is_added_once(ticket, support_mailbox):
    raw = reply(ticket)
    first = mailin.receive(support_mailbox, raw, uidvalidity=1, uid=5)
    again = mailin.receive(support_mailbox, raw, uidvalidity=1, uid=5)  # the same UID: one row
    copy = mailin.receive(support_mailbox, raw, uidvalidity=2, uid=1)  # the folder was recreated
    assert first.pk == again.pk and first.state == InboundState.PLACED
    assert copy.state == InboundState.DUPLICATE
    assert TicketComment.objects.count() == 1


@pytest.mark.django_db
def test_tk7_requesters_reply_reopens_a_closed_ticket(ticket, support_mailbox, user_own_tickets):
    services.change_status(user_own_tickets, ticket, TicketStatus.CLOSED)
    mailin.receive(support_mailbox, reply(ticket))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe garbage \x00 not a mail",
        b"From: olivia@contoso.test\r\nSubject: [Ticket#999999999999999999999] hi\r\n\r\nbody",
        b"From: olivia@contoso.test\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nbroken",
        b"Subject: no sender, no id\r\n\r\nHello",
    ],
)
def test_malformed_mail_is_held_never_lost(support_mailbox, raw, user_own_tickets):
    inbound = mailin.receive(support_mailbox, raw)
    assert inbound.state in (InboundState.HELD, InboundState.IGNORED)
    assert bytes(InboundEmail.objects.get(pk=inbound.pk).raw) == raw


@pytest.mark.django_db
def test_tk7_a_reply_to_another_partners_ticket_is_not_placed(support_mailbox, other_partner, mails):
    org = seed.organization(other_partner, "Litware")
    stranger = seed.end_user(seed.person("olivia@contoso.test", PASSWORD), org)
    seed.grant(stranger, TICKETS_ORGANIZATION)
    with mails():
        foreign = services.open_ticket(stranger, TicketDraft("Foreign", "Other partner"))
    inbound = mailin.receive(support_mailbox, reply(foreign))
    assert inbound.state == InboundState.HELD
    assert not foreign.comments.exists()


@pytest.mark.django_db
def test_tk7_a_reply_cannot_plant_a_thread_id_for_a_later_ticket(ticket, support_mailbox, user_own_tickets, mails):
    planted = f"ticket-{ticket.pk + 1}.0000000000000000@northwind.test"
    inbound = mailin.receive(support_mailbox, reply(ticket, Message_ID=f"<{planted}>"))
    assert inbound.state == InboundState.PLACED
    with mails():
        later = services.open_ticket(user_own_tickets, TicketDraft("Later", "Another"))
    assert later.thread_messages.order_by("id").first().message_id != planted
    assert not ThreadMessage.objects.filter(message_id=planted).exists()
