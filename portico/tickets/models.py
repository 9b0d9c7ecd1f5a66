"""Tickets of customer organizations (TK-1 … TK-7): the thread, its attachments, and the mail that
reaches it through a partner's support mailbox."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Waiting for reply")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class TicketPriority(models.IntegerChoices):
    # Integers, so "most urgent first" is an index scan.
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Ticket(models.Model):
    # The partner is kept beside the organization so the board filters on one indexed column.
    partner = models.ForeignKey("tenancy.Partner", on_delete=models.PROTECT, related_name="tickets")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="tickets")
    requester = models.ForeignKey(
        "identity.Membership", on_delete=models.PROTECT, related_name="requested_tickets", verbose_name=_("requester")
    )
    assignee = models.ForeignKey(
        "identity.Membership", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="assigned_tickets", verbose_name=_("assignee"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Moves with every public or internal activity: lists sort by it.
    updated_at = models.DateTimeField(_("updated"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Subject, description and public comments: what end users may search (internal notes never).
    search_text = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("ticket")
        indexes = [
            # Keyset pages of each list; every list ends its order with -id so a cursor is exact.
            models.Index(fields=["organization", "-updated_at", "-id"], name="ticket_org_updated"),
            models.Index(fields=["organization", "status", "-updated_at", "-id"], name="ticket_org_status_updated"),
            models.Index(fields=["requester", "-updated_at", "-id"], name="ticket_requester_updated"),
            models.Index(fields=["partner", "-updated_at", "-id"], name="ticket_partner_updated"),
            models.Index(fields=["partner", "status", "-updated_at", "-id"], name="ticket_partner_status_updated"),
            models.Index(fields=["assignee", "status", "-updated_at", "-id"], name="ticket_assignee_status_updated"),
            # The board's "most urgent first" and its Urgent filter, partner-wide.
            models.Index(fields=["partner", "-priority", "-updated_at", "-id"], name="ticket_partner_priority"),
            # The portal's "most urgent first" within an organization.
            models.Index(fields=["organization", "-priority", "-updated_at", "-id"], name="ticket_org_priority"),
            # "Mine, most urgent first": without it the requester's tickets are all sorted per page.
            models.Index(fields=["requester", "-priority", "-updated_at", "-id"], name="ticket_requester_priority"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.status == TicketStatus.CLOSED


class CommentSource(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    API = "api", _("API")


class TicketComment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        "identity.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="ticket_comments"
    )
    # Kept as written, so the thread still reads right after a membership is deleted.
    author_name = models.CharField(max_length=200)
    body = models.TextField(_("comment"))
    # TK-6: an internal note is for technicians only: never in the portal, the API of end users or email.
    internal = models.BooleanField(_("internal note"), default=False)
    source = models.CharField(max_length=8, choices=CommentSource.choices, default=CommentSource.WEB)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="ticket_comment_thread")]

    def __str__(self) -> str:
        return f"{self.author_name} on #{self.ticket_id}"


def attachment_path(instance: TicketAttachment, filename: str) -> str:
    # The stored name never carries the uploader's file name: that is kept in `original_name`.
    return f"tickets/{instance.ticket_id}/{uuid.uuid4().hex}"


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        TicketComment, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        "identity.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "id"], name="ticket_attachment_ticket")]

    def __str__(self) -> str:
        return self.original_name


class ThreadMessage(models.Model):
    """A Message-ID sent or received on a ticket, so a reply finds its ticket (TK-7)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="thread_messages")
    message_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.message_id


class SupportMailbox(models.Model):
    """A partner's support address, read over IMAP; replies to ticket notices arrive here (TK-7)."""

    partner = models.OneToOneField("tenancy.Partner", on_delete=models.CASCADE, related_name="support_mailbox")
    address = models.EmailField(_("support address"))
    host = models.CharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_tls = models.BooleanField(_("TLS"), default=True)
    username = models.CharField(_("user name"), max_length=255)
    # Encrypted at rest (DESIGN mechanism 6); never rendered back.
    password_encrypted = models.TextField(blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    enabled = models.BooleanField(_("enabled"), default=True)
    uidvalidity = models.PositiveBigIntegerField(null=True, blank=True)
    last_uid = models.PositiveBigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.address


class InboundState(models.TextChoices):
    PLACED = "placed", _("Added to a ticket")
    HELD = "held", _("Held for a technician")
    IGNORED = "ignored", _("Automatic reply, ignored")
    DUPLICATE = "duplicate", _("Already received")


class InboundEmail(models.Model):
    """Every message read from a support mailbox, kept whole before anything is done with it,
    so a message that cannot be placed is never lost."""

    partner = models.ForeignKey("tenancy.Partner", on_delete=models.CASCADE, related_name="inbound_emails")
    mailbox = models.ForeignKey(SupportMailbox, on_delete=models.SET_NULL, null=True, related_name="messages")
    uidvalidity = models.PositiveBigIntegerField(null=True)
    uid = models.PositiveBigIntegerField(null=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    raw = models.BinaryField()
    state = models.CharField(max_length=16, choices=InboundState.choices)
    reason = models.TextField(blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    comment = models.ForeignKey(TicketComment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)
    settled_by = models.ForeignKey(
        "identity.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["partner", "state", "-received_at"], name="inbound_partner_state")]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"], name="inbound_once_per_uid"),
        ]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject}"
