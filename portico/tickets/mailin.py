"""Email in (TK-7): replies to ticket notices, read from a partner's support mailbox, become comments.

Each message is first stored whole in its own transaction, and only then placed, so a message
that cannot be placed — unknown sender, no ticket, broken MIME, a bug — is kept and shown to
technicians, never lost. Automatic replies are kept and ignored; a message seen twice is placed once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from portico.access import policy
from portico.audit.services import record
from portico.identity.models import Membership
from portico.notifications import secrets
from portico.tickets import attachments, imap, services
from portico.tickets.inbound import ParsedMail, parse_message
from portico.tickets.models import (
    CommentSource,
    InboundEmail,
    InboundState,
    SupportMailbox,
    ThreadMessage,
    Ticket,
)
from portico.tickets.notices import is_our_message_id

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    fetched: int = 0
    placed: int = 0
    held: int = 0
    ignored: int = 0
    error: str = ""


def server_of(mailbox: SupportMailbox) -> imap.MailboxServer:
    return imap.MailboxServer(
        host=mailbox.host, port=mailbox.port, username=mailbox.username,
        password=secrets.decrypt(mailbox.password_encrypted), use_tls=mailbox.use_tls, folder=mailbox.folder,
    )


def poll_mailbox(mailbox: SupportMailbox, limit: int = 200) -> PollResult:
    """Read what is new in the mailbox and place it. A connection error changes nothing but the
    mailbox's last error; the watermark moves only past messages that are stored."""
    result = PollResult()
    try:
        uidvalidity, messages = imap.fetch_since(
            server_of(mailbox),
            uidvalidity=mailbox.uidvalidity,
            last_uid=mailbox.last_uid if mailbox.uidvalidity is not None else 0,
            limit=limit,
        )
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server is shown on the mailbox
        result.error = f"{exc.__class__.__name__}: {exc}"[:2000]
        SupportMailbox.objects.filter(pk=mailbox.pk).update(last_error=result.error, last_polled_at=timezone.now())
        return result
    if uidvalidity != mailbox.uidvalidity:
        mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
    stored = []
    for message in messages:
        inbound = receive(mailbox, message.raw, uidvalidity=message.uidvalidity, uid=message.uid)
        mailbox.last_uid = max(mailbox.last_uid, message.uid)
        SupportMailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=mailbox.uidvalidity, last_uid=mailbox.last_uid)
        stored.append(message.uid)
        result.fetched += 1
        if inbound.state == InboundState.PLACED:
            result.placed += 1
        elif inbound.state == InboundState.HELD:
            result.held += 1
        else:
            result.ignored += 1
    if stored:
        try:
            imap.mark_processed(server_of(mailbox), stored)
        except Exception:  # noqa: BLE001 - \Seen is a courtesy to people reading the mailbox; the watermark decides
            log.warning("could not mark messages seen in mailbox %s", mailbox.pk, exc_info=True)
    SupportMailbox.objects.filter(pk=mailbox.pk).update(
        uidvalidity=mailbox.uidvalidity, last_uid=mailbox.last_uid, last_error="", last_polled_at=timezone.now()
    )
    return result


def receive(mailbox: SupportMailbox, raw: bytes, *, uidvalidity: int | None = None, uid: int | None = None) -> InboundEmail:
    """Store the message, then place it. Returns the stored row in its final state."""
    parsed = parse_message(raw)
    try:
        with transaction.atomic():
            inbound = InboundEmail.objects.create(
                partner_id=mailbox.partner_id, mailbox=mailbox, uidvalidity=uidvalidity, uid=uid,
                message_id=parsed.message_id[:255], sender=parsed.sender[:320], subject=parsed.subject[:255],
                raw=raw, state=InboundState.HELD, reason="",
            )
    except IntegrityError:
        # The same UID again (a poll that stopped after storing it): the stored row stands.
        return InboundEmail.objects.get(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid)
    try:
        place(inbound, parsed)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure holds the message for a person
        log.exception("could not place inbound email %s", inbound.pk)
        _settle(inbound, InboundState.HELD, f"Could not be processed ({exc.__class__.__name__}).")
    inbound.refresh_from_db()
    return inbound


def _settle(inbound: InboundEmail, state: str, reason: str, ticket: Ticket | None = None, comment=None) -> None:
    InboundEmail.objects.filter(pk=inbound.pk).update(state=state, reason=reason[:2000], ticket=ticket, comment=comment)
    if state == InboundState.HELD:
        with transaction.atomic():
            record(
                "inbound_email.held", obj=inbound, partner_id=inbound.partner_id,
                organization_id=ticket.organization_id if ticket else None,
                after={"sender": inbound.sender, "subject": inbound.subject, "reason": reason[:500]},
            )


def find_ticket(partner_id: int, parsed: ParsedMail) -> Ticket | None:
    """Threaded by In-Reply-To / References first; the subject's [Ticket#N] is the fallback."""
    ids = [i[:255] for i in parsed.in_reply_to + parsed.references if i][:100]
    if ids:
        thread = (
            ThreadMessage.objects.filter(message_id__in=ids, ticket__partner_id=partner_id)
            .select_related("ticket").order_by("-id").first()
        )
        if thread is not None:
            return thread.ticket
    number = parsed.ticket_number
    if number is not None and 0 < number < 2**63:
        return Ticket.objects.filter(pk=number, partner_id=partner_id).first()
    return None


def place(inbound: InboundEmail, parsed: ParsedMail) -> None:
    if parsed.auto_reply_reason:
        _settle(inbound, InboundState.IGNORED, parsed.auto_reply_reason)
        return
    if parsed.message_id and InboundEmail.objects.filter(
        partner_id=inbound.partner_id, message_id=parsed.message_id[:255], state=InboundState.PLACED
    ).exclude(pk=inbound.pk).exists():
        _settle(inbound, InboundState.DUPLICATE, "This message was already added.")
        return
    ticket = find_ticket(inbound.partner_id, parsed)
    if ticket is None:
        _settle(inbound, InboundState.HELD, "Not a reply to a ticket.")
        return
    author = services.mail_author(ticket, parsed.sender)
    if author is None:
        _settle(inbound, InboundState.HELD, f"The sender {parsed.sender or '(none)'} may not comment on this ticket.", ticket)
        return
    uploads, skipped = [], []
    for index, item in enumerate(parsed.attachments):
        upload = attachments.from_bytes(item.filename, item.data)
        if index >= attachments.MAX_FILES:
            skipped.append(item.filename)
            continue
        try:
            attachments.check([upload])
        except ValidationError as exc:
            skipped.extend(exc.message_dict["attachments"])
        else:
            uploads.append(upload)
    if not parsed.body.strip() and not uploads:
        _settle(inbound, InboundState.HELD, "The reply is empty.", ticket)
        return
    try:
        with transaction.atomic():
            comment = services.comment_on(author, ticket, parsed.body, uploads, source=CommentSource.EMAIL)
            if parsed.message_id and not is_our_message_id(parsed.message_id):
                ThreadMessage.objects.get_or_create(message_id=parsed.message_id[:255], defaults={"ticket": ticket})
    except (ValidationError, PermissionDenied, Http404) as exc:
        detail = "; ".join(str(m) for m in getattr(exc, "messages", [])) or exc.__class__.__name__
        _settle(inbound, InboundState.HELD, f"Could not be added: {detail}", ticket)
        return
    reason = ("Attachments left out: " + "; ".join(skipped)) if skipped else ""
    _settle(inbound, InboundState.PLACED, reason, ticket, comment)



@dataclass
class MailboxDetails:
    address: str
    host: str
    port: int
    use_tls: bool
    username: str
    folder: str
    enabled: bool
    # None keeps the stored password; the password is never shown back.
    password: str | None = None


def _mailbox_snapshot(mailbox: SupportMailbox) -> dict:
    return {
        "address": mailbox.address, "host": mailbox.host, "port": mailbox.port, "use_tls": mailbox.use_tls,
        "username": mailbox.username, "folder": mailbox.folder, "enabled": mailbox.enabled,
        "password_set": bool(mailbox.password_encrypted),
    }


def save_support_mailbox(actor: Membership, details: MailboxDetails) -> SupportMailbox:
    """The partner's support mailbox (PS-1: Owner and Super Admin). Changing the server or folder
    starts reading it afresh; a message already stored is recognised by its Message-ID."""
    if not policy.can(actor, policy.Action.CHANGE, actor.partner):
        raise PermissionDenied
    with transaction.atomic():
        mailbox = SupportMailbox.objects.select_for_update().filter(partner_id=actor.partner_id).first()
        before = _mailbox_snapshot(mailbox) if mailbox else None
        if mailbox is None:
            mailbox = SupportMailbox(partner_id=actor.partner_id)
        moved = (mailbox.host, mailbox.username, mailbox.folder) != (details.host, details.username, details.folder)
        for field in ("address", "host", "port", "use_tls", "username", "folder", "enabled"):
            setattr(mailbox, field, getattr(details, field))
        if details.password is not None:
            mailbox.password_encrypted = secrets.encrypt(details.password)
        if moved:
            mailbox.uidvalidity, mailbox.last_uid = None, 0
        mailbox.save()
        record(
            "support_mailbox.changed" if before else "support_mailbox.created", actor=actor, obj=mailbox,
            partner_id=actor.partner_id, before=before, after=_mailbox_snapshot(mailbox),
        )
    return mailbox
