"""The requester's email notices (TK-7): one thread per ticket, so a reply finds its ticket.

Every notice has its own Message-ID and names the ticket's root id in In-Reply-To and References;
each id is remembered, so a reply to any notice is threaded. `[Ticket#N]` in the subject is the
fallback for mail programs that drop the headers.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from portico.notifications.services import queue_email
from portico.tickets.models import SupportMailbox, ThreadMessage, Ticket, TicketComment, TicketStatus

SUBJECT_TOKEN = re.compile(r"\[Ticket#(\d{1,18})\]", re.IGNORECASE)


def subject_of(ticket: Ticket) -> str:
    return f"[Ticket#{ticket.pk}] {ticket.subject}"


def _mailbox(ticket: Ticket) -> SupportMailbox | None:
    return SupportMailbox.objects.filter(partner_id=ticket.partner_id, enabled=True).first()


def _domain(mailbox: SupportMailbox | None) -> str:
    if mailbox is not None:
        return mailbox.address.rpartition("@")[2]
    return urlsplit(settings.SITE_URL).hostname or "portico.localhost"


_OURS = re.compile(r"^ticket-\d+[.-]")


def is_our_message_id(message_id: str) -> bool:
    """Ids in the form of our notices' are ours to make: mail may not plant one for a later ticket."""
    return bool(_OURS.match(message_id))


def start_thread(ticket: Ticket, mailbox: SupportMailbox | None = None) -> str:
    """The ticket's root Message-ID, made once with a random part so no one can guess it ahead."""
    prefix = f"ticket-{ticket.pk}."
    root = ThreadMessage.objects.filter(ticket=ticket, message_id__startswith=prefix).order_by("id").first()
    if root is not None:
        return root.message_id
    domain = _domain(mailbox if mailbox is not None else _mailbox(ticket))
    return ThreadMessage.objects.create(ticket=ticket, message_id=f"{prefix}{secrets.token_hex(8)}@{domain}").message_id


def _send(ticket: Ticket, template: str, context: dict) -> None:
    mailbox = _mailbox(ticket)
    root = start_thread(ticket, mailbox)
    message_id = f"ticket-{ticket.pk}-{secrets.token_hex(8)}@{_domain(mailbox)}"
    ThreadMessage.objects.create(ticket=ticket, message_id=message_id)
    headers = {"Message-ID": f"<{message_id}>", "In-Reply-To": f"<{root}>", "References": f"<{root}>"}
    if mailbox is not None:
        headers["Reply-To"] = mailbox.address
    person = ticket.requester.person
    queue_email(
        to=person.email,
        template=template,
        context={
            "ticket": ticket,
            "person": person,
            "subject_line": subject_of(ticket),
            "ticket_path": reverse("tickets:portal_detail", args=[ticket.pk]),
            "replies_by_email": mailbox is not None,
            **context,
        },
        language=person.language,
        partner=ticket.partner,
        headers=headers,
    )


def ticket_received(ticket: Ticket) -> None:
    _send(ticket, "tickets/email/received", {})


def technician_replied(ticket: Ticket, comment: TicketComment) -> None:
    assert not comment.internal  # TK-6: internal notes never leave the console
    _send(ticket, "tickets/email/reply", {"comment": comment})


def status_changed(ticket: Ticket, old_status: str) -> None:
    _send(ticket, "tickets/email/status", {"old_status": TicketStatus(old_status).label})
