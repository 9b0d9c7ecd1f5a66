"""Changes to tickets (TK-1 … TK-7), each checked by the policy, validated, written in one
transaction and audited there (DESIGN mechanism 3). The requester's email notices are queued in
the same transaction, so a rolled-back change never mails anyone."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.policy import Action, TicketAction
from portico.audit.services import record
from portico.identity.models import Membership, MembershipKind
from portico.tenancy.models import Organization
from portico.tickets import attachments, notices
from portico.tickets.attachments import MAX_FILES, Upload
from portico.tickets.inbound import parse_message
from portico.tickets.models import (
    CommentSource,
    InboundEmail,
    InboundState,
    ThreadMessage,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketPriority,
    TicketStatus,
)

SUBJECT_LIMIT = 200
TEXT_LIMIT = 50_000
# to_tsvector reads the whole column; a thread longer than this is searchable by its beginning.
SEARCH_TEXT_LIMIT = 200_000


@dataclass
class TicketDraft:
    subject: str
    description: str
    priority: int = TicketPriority.NORMAL
    # Technicians open tickets on behalf of an end user; end users always for themselves.
    requester: Membership | None = None


def snapshot(ticket: Ticket) -> dict:
    return {
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "organization": ticket.organization_id,
        "requester": ticket.requester_id,
        "assignee": ticket.assignee_id,
    }


def visible_ticket(actor: Membership | None, pk) -> Ticket:
    """The ticket `pk` if `actor` may see it; anything else is a 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    ticket = (
        policy.restrict(Ticket.objects.all(), actor, Action.VIEW)
        .select_related("organization", "requester__person", "assignee__person")
        .filter(pk=pk)
        .first()
        if 0 < pk < 2**63
        else None
    )
    if ticket is None:
        raise Http404
    return ticket


def _require(actor: Membership, action: str, ticket: Ticket) -> None:
    if not policy.can(actor, Action.VIEW, ticket):
        raise Http404
    if not policy.can(actor, action, ticket):
        raise PermissionDenied


def _clean_text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError(
            {field: _("Keep it to %(limit)d characters (it has %(count)d).") % {"limit": limit, "count": len(value)}}
        )
    return value


def _clean_priority(priority) -> int:
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        priority = 0
    if priority not in TicketPriority.values:
        raise ValidationError({"priority": _("Choose a priority from the list.")})
    return priority


def _add_search_text(ticket: Ticket, text: str) -> None:
    if len(ticket.search_text) < SEARCH_TEXT_LIMIT:
        ticket.search_text = (ticket.search_text + "\n" + text)[:SEARCH_TEXT_LIMIT]


def _store(ticket: Ticket, comment: TicketComment | None, accepted, actor: Membership | None) -> list[TicketAttachment]:
    stored = []
    for upload, name, content_type in accepted:
        attachment = TicketAttachment(
            ticket=ticket, comment=comment, original_name=name, content_type=content_type,
            size=upload.size, uploaded_by=actor,
        )
        attachment.file.save(name, upload.file, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _author_name(member: Membership | None) -> str:
    if member is None:
        return ""
    person = member.person
    return (f"{person.first_name} {person.last_name}".strip() or person.email)[:200]


def open_ticket(actor: Membership, draft: TicketDraft, uploads: list[Upload] | None = None) -> Ticket:
    """TK-1: an end user opens a ticket in their home organization; a technician opens one for an end user."""
    if actor.kind == MembershipKind.END_USER:
        if not policy.can_open_ticket(actor):
            raise PermissionDenied
        requester = actor
    else:
        requester = draft.requester
        if requester is None:
            raise ValidationError({"requester": _("Choose the end user who asks for help.")})
        if not policy.can_create(actor, Ticket, requester.organization) or not policy.can(actor, Action.VIEW, requester):
            raise ValidationError({"requester": _("Choose one of your end users.")})
        if requester.kind != MembershipKind.END_USER or requester.organization_id is None:
            raise ValidationError({"requester": _("Choose an end user of one organization.")})
    errors: dict[str, list] = {}
    values = {}
    for field, value, limit in (("subject", draft.subject, SUBJECT_LIMIT), ("description", draft.description, TEXT_LIMIT)):
        try:
            values[field] = _clean_text(value, field, limit)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        priority = _clean_priority(draft.priority)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        accepted = attachments.check(uploads or [])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ticket = Ticket(
            partner_id=requester.partner_id,
            organization_id=requester.organization_id,
            requester=requester,
            subject=values["subject"],
            description=values["description"],
            priority=priority,
            search_text=f"{values['subject']}\n{values['description']}"[:SEARCH_TEXT_LIMIT],
        )
        ticket.save()
        _store(ticket, None, accepted, actor)
        notices.start_thread(ticket)
        record(
            "ticket.opened", actor=actor, obj=ticket, partner_id=ticket.partner_id,
            organization_id=ticket.organization_id, after=snapshot(ticket) | {"attachments": len(accepted)},
        )
        notices.ticket_received(ticket)
    return ticket


def comment_on(
    actor: Membership,
    ticket: Ticket,
    body: str,
    uploads: list[Upload] | None = None,
    *,
    internal: bool = False,
    source: str = CommentSource.WEB,
) -> TicketComment:
    """TK-3, TK-6: a public comment, or a technician's internal note. The requester's own reply
    reopens a closed or waiting ticket; a technician's public reply is emailed to the requester (TK-7)."""
    _require(actor, TicketAction.COMMENT, ticket)
    is_staff = actor.kind == MembershipKind.STAFF
    if internal and not is_staff:
        raise PermissionDenied
    errors: dict[str, list] = {}
    try:
        accepted = attachments.check(uploads or [])
    except ValidationError as exc:
        errors.update(exc.message_dict)
        accepted = []
    try:
        body = _clean_text(body, "body", TEXT_LIMIT, required=not uploads)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = snapshot(ticket)
        comment = TicketComment.objects.create(
            ticket=ticket, author=actor, author_name=_author_name(actor), body=body, internal=internal, source=source
        )
        stored = _store(ticket, comment, accepted, actor)
        ticket.updated_at = timezone.now()
        fields = ["updated_at"]
        if not internal:
            _add_search_text(ticket, body)
            fields.append("search_text")
            if actor.pk == ticket.requester_id and ticket.status in (TicketStatus.CLOSED, TicketStatus.PENDING):
                ticket.status, ticket.closed_at = TicketStatus.OPEN, None
                fields += ["status", "closed_at"]
            elif is_staff and ticket.status == TicketStatus.NEW:
                ticket.status = TicketStatus.OPEN
                fields.append("status")
        ticket.save(update_fields=fields)
        record(
            "ticket.note_added" if internal else "ticket.commented", actor=actor, obj=ticket,
            partner_id=ticket.partner_id, organization_id=ticket.organization_id,
            before=before if before["status"] != ticket.status else None,
            after={"comment": comment.pk, "internal": internal, "source": source, "attachments": len(stored),
                   "status": ticket.status},
        )
        if is_staff and not internal:
            notices.technician_replied(ticket, comment)
    return comment


def change_status(actor: Membership, ticket: Ticket, status: str) -> Ticket:
    """TK-4: end users close a ticket they can see and reopen it; technicians set any status."""
    if status not in TicketStatus.values:
        raise ValidationError({"status": _("Choose a status from the list.")})
    is_staff = actor.kind == MembershipKind.STAFF
    _require(actor, Action.CHANGE if is_staff else TicketAction.CLOSE, ticket)
    if not is_staff and status not in (TicketStatus.CLOSED, TicketStatus.OPEN):
        raise ValidationError({"status": _("You can close a ticket or reopen it.")})
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == status:
            return ticket
        before = snapshot(ticket)
        ticket.status = status
        ticket.closed_at = timezone.now() if status == TicketStatus.CLOSED else None
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["status", "closed_at", "updated_at"])
        record(
            "ticket.status_changed", actor=actor, obj=ticket, partner_id=ticket.partner_id,
            organization_id=ticket.organization_id, before=before, after=snapshot(ticket),
        )
        if actor.pk != ticket.requester_id:
            notices.status_changed(ticket, before["status"])
    return ticket


_UNCHANGED = object()


def update_ticket(actor: Membership, ticket: Ticket, *, priority=_UNCHANGED, assignee=_UNCHANGED) -> Ticket:
    """TK-6: a technician sets the priority and the assignee (a technician who may work the ticket)."""
    _require(actor, Action.CHANGE, ticket)
    errors: dict[str, list] = {}
    if priority is not _UNCHANGED:
        try:
            priority = _clean_priority(priority)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if assignee is not _UNCHANGED and assignee is not None:
        if assignee.kind != MembershipKind.STAFF or not assignee.enabled or not policy.can(assignee, Action.CHANGE, ticket):
            errors["assignee"] = [_("Choose a technician who can work this ticket.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = snapshot(ticket)
        if priority is not _UNCHANGED:
            ticket.priority = priority
        if assignee is not _UNCHANGED:
            ticket.assignee = assignee
        if snapshot(ticket) == before:
            return ticket
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["priority", "assignee", "updated_at"])
        record(
            "ticket.updated", actor=actor, obj=ticket, partner_id=ticket.partner_id,
            organization_id=ticket.organization_id, before=before, after=snapshot(ticket),
        )
    return ticket


def move_ticket(
    actor: Membership, ticket: Ticket, organization: Organization, requester: Membership | None = None
) -> Ticket:
    """TK-5, in one step: move the ticket to `organization`, changing the requester to `requester`
    when given. Refused while the requester could not see the ticket in its new organization."""
    _require(actor, Action.CHANGE, ticket)
    in_reach = policy.restrict(Organization.objects.filter(pk=organization.pk), actor, Action.VIEW).exists()
    if not in_reach or organization.partner_id != ticket.partner_id or not policy.can_create(actor, Ticket, organization):
        raise ValidationError({"organization": _("Choose one of your organizations.")})
    new_requester = requester or ticket.requester
    if requester is not None and not (
        requester.kind == MembershipKind.END_USER and requester.partner_id == ticket.partner_id
        and policy.can(actor, Action.VIEW, requester)
    ):
        raise ValidationError({"requester": _("Choose one of your end users.")})
    if new_requester.organization_id != organization.pk:
        raise ValidationError({
            "requester": _(
                "%(name)s has no access to tickets of %(organization)s. Choose a requester of that organization."
            ) % {"name": _author_name(new_requester), "organization": organization.name}
        })
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = snapshot(ticket)
        if before["organization"] == organization.pk and before["requester"] == new_requester.pk:
            return ticket
        ticket.organization, ticket.requester = organization, new_requester
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["organization", "requester", "updated_at"])
        # The assignee may not reach the new organization (GRP-3); then nobody is assigned.
        if ticket.assignee_id and not policy.can(ticket.assignee, Action.CHANGE, ticket):
            Ticket.objects.filter(pk=ticket.pk).update(assignee=None)
            ticket.assignee = None
        record(
            "ticket.moved", actor=actor, obj=ticket, partner_id=ticket.partner_id,
            organization_id=ticket.organization_id, before=before, after=snapshot(ticket),
        )
    return ticket


# Held inbound mail (TK-7): a technician settles what the mailbox poller could not place.

# An automatic reply that was in fact written by a person can be added too.
ADDABLE_STATES = (InboundState.HELD, InboundState.IGNORED)


def _inbound_snapshot(inbound: InboundEmail) -> dict:
    return {"state": inbound.state, "ticket": inbound.ticket_id, "comment": inbound.comment_id}


def _require_inbound(actor: Membership, inbound: InboundEmail) -> None:
    if not policy.can(actor, Action.VIEW, inbound):
        raise Http404
    if not policy.can(actor, Action.CHANGE, inbound):
        raise PermissionDenied


def mail_author(ticket: Ticket, sender: str) -> Membership | None:
    """The sender's own membership when TK-3 lets it comment on `ticket` (normally the requester)."""
    if not sender:
        return None
    candidates = Membership.objects.filter(
        partner_id=ticket.partner_id, enabled=True, person__email__iexact=sender, person__is_active=True
    ).select_related("person")
    return next((m for m in candidates if policy.can(m, TicketAction.COMMENT, ticket)), None)


def add_inbound_to_ticket(actor: Membership, inbound: InboundEmail, ticket: Ticket) -> TicketComment:
    """A held message becomes a public comment on `ticket`, with its attachments that pass the checks.

    The comment is the sender's own when they may comment on the ticket (TK-3); otherwise the
    technician writes it on the requester's behalf, opening with the sender's address, and the
    requester is notified as of any public reply. Nobody is made the author of words they did not
    send. The message is kept, marked placed, with who settled it and when.
    """
    _require_inbound(actor, inbound)
    _require(actor, Action.CHANGE, ticket)
    if ticket.partner_id != inbound.partner_id:
        raise Http404
    parsed = parse_message(bytes(inbound.raw))
    uploads: list[Upload] = []
    left_out: list[str] = []
    for item in parsed.attachments:
        upload = attachments.from_bytes(item.filename, item.data)
        try:
            attachments.check([upload])
        except ValidationError as exc:
            left_out.extend(exc.message_dict["attachments"])
            continue
        if len(uploads) < MAX_FILES:
            uploads.append(upload)
        else:
            left_out.append(_("%(name)s: at most %(count)d files are kept.") % {"name": upload.name, "count": MAX_FILES})
    author = mail_author(ticket, parsed.sender)
    body = parsed.body.strip()
    if author is None:
        author = actor
        sender = f"{parsed.sender_name} <{parsed.sender}>" if parsed.sender_name else parsed.sender
        body = _("Email from %(sender)s:") % {"sender": sender or _("an unknown sender")} + "\n\n" + body
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
        if inbound.state not in ADDABLE_STATES:
            raise ValidationError(_("This message is already settled."))
        if inbound.message_id and InboundEmail.objects.filter(
            partner_id=inbound.partner_id, message_id=inbound.message_id, state=InboundState.PLACED
        ).exists():
            raise ValidationError(_("A message with the same Message-ID is already on a ticket."))
        before = _inbound_snapshot(inbound)
        comment = comment_on(author, ticket, body, uploads, source=CommentSource.EMAIL)
        if inbound.message_id and not notices.is_our_message_id(inbound.message_id):
            # Replies to this message now find the ticket too.
            ThreadMessage.objects.get_or_create(message_id=inbound.message_id, defaults={"ticket": ticket})
        inbound.state, inbound.ticket, inbound.comment = InboundState.PLACED, ticket, comment
        inbound.settled_by, inbound.settled_at = actor, timezone.now()
        if left_out:
            inbound.reason = f"{inbound.reason} {_('Attachments left out:')} {'; '.join(left_out)}".strip()[:2000]
        inbound.save(update_fields=["state", "ticket", "comment", "settled_by", "settled_at", "reason"])
        record(
            "inbound_email.added_to_ticket", actor=actor, obj=inbound, partner_id=inbound.partner_id,
            organization_id=ticket.organization_id, before=before,
            after=_inbound_snapshot(inbound) | {"author": author.pk, "attachments": len(uploads), "left_out": len(left_out)},
        )
    return comment


def dismiss_inbound(actor: Membership, inbound: InboundEmail) -> InboundEmail:
    """A held message that belongs on no ticket is settled as ignored; it is kept, never deleted."""
    _require_inbound(actor, inbound)
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update(of=("self",)).select_related("ticket").get(pk=inbound.pk)
        if inbound.state != InboundState.HELD:
            raise ValidationError(_("Only a held message can be dismissed."))
        before = _inbound_snapshot(inbound)
        inbound.state, inbound.settled_by, inbound.settled_at = InboundState.IGNORED, actor, timezone.now()
        inbound.save(update_fields=["state", "settled_by", "settled_at"])
        record(
            "inbound_email.dismissed", actor=actor, obj=inbound, partner_id=inbound.partner_id,
            organization_id=inbound.ticket.organization_id if inbound.ticket else None,
            before=before, after=_inbound_snapshot(inbound),
        )
    return inbound
