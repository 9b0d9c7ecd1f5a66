"""What the tickets API reads and writes (TK-1 … TK-6).

Responses come in two shapes chosen by the caller's kind, never by filtering fields of one shape:
end users get `PortalTicketSerializer` and `PortalCommentSerializer`, which have no field for the
assignee or for a note being internal; technicians get the subclasses that add them. The comments
and attachments themselves are what the policy lets the caller see (internal notes and their
files only for technicians). The OpenAPI schema describes the technicians' shapes, with their
extra fields optional, so one description fits both.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portico.access import policy
from portico.access.policy import Action
from portico.api.viewsets import MAX_ID, caller
from portico.identity.models import Membership, MembershipKind
from portico.tenancy.models import Organization
from portico.tickets.attachments import MAX_FILES, Upload
from portico.tickets.models import TicketPriority, TicketStatus
from portico.tickets.services import SUBJECT_LIMIT, TEXT_LIMIT

SEARCH_LIMIT = 200
ACTIVE = "active"
# Every ordering ends in the id, so a keyset cursor is exact when timestamps tie.
ORDERINGS = {
    "updated": ["-updated_at", "-id"],
    "newest": ["-id"],
    "oldest": ["id"],
    "priority": ["-priority", "-updated_at", "-id"],
}


def is_technician(member: Membership | None) -> bool:
    return member is not None and member.kind == MembershipKind.STAFF


def _name(member: Membership | None) -> str | None:
    return member.person.full_name if member is not None else None


class InReach(serializers.PrimaryKeyRelatedField):
    """An id among what the policy lets the caller see; an id past 64 bits is "does not exist"
    before the database is asked (it would overflow the query instead of matching nothing)."""

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        if isinstance(data, str) and data.isascii() and data.isdigit() and int(data) > MAX_ID:
            self.fail("does_not_exist", pk_value=data[:30])
        return super().to_internal_value(data)


def _caller(serializer: serializers.BaseSerializer) -> Membership | None:
    return caller(dict(serializer.context))


def _organizations(serializer: serializers.BaseSerializer):
    return policy.restrict(Organization.objects.all(), _caller(serializer), Action.VIEW)


def _people(serializer: serializers.BaseSerializer, kind: str):
    return policy.restrict(Membership.objects.filter(kind=kind), _caller(serializer), Action.VIEW)


# Query strings


class TicketFilterSerializer(serializers.Serializer):
    """The list's filters, as on the technicians' board (TK-6); a value that does not fit is a 400."""

    status = serializers.ChoiceField(
        choices=[(ACTIVE, _("Not closed")), *TicketStatus.choices], required=False,
        help_text="One status, or `active` for every status but closed. Default: every status.",
    )
    priority = serializers.ChoiceField(choices=TicketPriority.choices, required=False)
    assignee = serializers.RegexField(
        r"^(me|none|[1-9][0-9]{0,18})$", required=False,
        help_text="A technician's id, `me` or `none` (technicians only).",
    )
    organization = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    requester = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    q = serializers.CharField(
        max_length=SEARCH_LIMIT, required=False, allow_blank=True,
        help_text="Words of the subject, description or public comments.",
    )
    sort = serializers.ChoiceField(choices=list(ORDERINGS), required=False, default="updated")

    def validate_assignee(self, value: str) -> str:
        if not is_technician(_caller(self)):
            raise serializers.ValidationError(_("Only technicians filter by assignee."))
        if value.isdigit() and int(value) > MAX_ID:
            raise serializers.ValidationError(_("Enter a valid id."))
        return value


# Responses


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    content_type = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    comment = serializers.IntegerField(source="comment_id", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    download = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField())
    def get_download(self, attachment) -> str:
        path = reverse("api:ticket-attachment", kwargs={"pk": attachment.ticket_id, "attachment_pk": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class PortalTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    organization = serializers.IntegerField(source="organization_id", read_only=True)
    requester = serializers.IntegerField(source="requester_id", read_only=True)
    requester_name = serializers.SerializerMethodField()
    subject = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=TicketStatus.choices, read_only=True)
    priority = serializers.ChoiceField(choices=TicketPriority.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_requester_name(self, ticket) -> str:
        return _name(ticket.requester) or ""


class TicketSerializer(PortalTicketSerializer):
    """A ticket. The assignee fields are in technicians' answers only."""

    # Not read-only, so the schema does not mark them required: end users' answers lack them.
    assignee = serializers.IntegerField(
        source="assignee_id", allow_null=True, required=False, help_text="Technicians only."
    )
    assignee_name = serializers.CharField(
        source="assignee.person.full_name", allow_null=True, required=False, help_text="Technicians only."
    )


class PortalCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author_name = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    source = serializers.CharField(read_only=True)  # type: ignore[assignment]  # web, email or api
    created_at = serializers.DateTimeField(read_only=True)
    attachments = AttachmentSerializer(source="shown_attachments", many=True, read_only=True)


class CommentSerializer(PortalCommentSerializer):
    """A comment of the thread. Technicians also get internal notes, marked, with their author."""

    internal = serializers.BooleanField(required=False, help_text="Technicians only: an internal note (TK-6).")
    author = serializers.IntegerField(source="author_id", allow_null=True, required=False, help_text="Technicians only.")


def ticket_serializer_for(member: Membership | None) -> type[PortalTicketSerializer]:
    return TicketSerializer if is_technician(member) or member is None else PortalTicketSerializer


def comment_serializer_for(member: Membership | None) -> type[PortalCommentSerializer]:
    return CommentSerializer if is_technician(member) or member is None else PortalCommentSerializer


# Requests


class FilesField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.FileField(), required=False, max_length=MAX_FILES,
            help_text="Files, sent as multipart/form-data; the size limit and the accepted types are the portal's.",
            **kwargs,
        )


def uploads_of(data: dict) -> list[Upload]:
    return [Upload(name=f.name or "", size=f.size, file=f) for f in data.get("attachments", [])]


class TicketCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=SUBJECT_LIMIT)
    description = serializers.CharField(max_length=TEXT_LIMIT)
    priority = serializers.ChoiceField(choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    requester = InReach(
        queryset=Membership.objects.none(), required=False,
        help_text="Technicians: the end user who asks for help; the ticket is of their organization. "
        "End users always open tickets for themselves.",
    )
    attachments = FilesField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        member = _caller(self)
        if member is not None and not is_technician(member):
            del self.fields["requester"]  # an end user's tickets are their own
        else:
            self.fields["requester"].queryset = _people(self, MembershipKind.END_USER)


class TicketChangeSerializer(serializers.Serializer):
    """Technicians change status, priority and assignee; end users only close and reopen (TK-4)."""

    status = serializers.ChoiceField(
        choices=TicketStatus.choices, required=False, help_text="End users: `open` or `closed` only (TK-4)."
    )
    priority = serializers.ChoiceField(choices=TicketPriority.choices, required=False, help_text="Technicians only.")
    assignee = InReach(
        queryset=Membership.objects.none(), required=False, allow_null=True,
        help_text="Technicians only: a technician who can work the ticket, or null.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _people(self, MembershipKind.STAFF)


class MoveSerializer(serializers.Serializer):
    organization = InReach(queryset=Organization.objects.none())
    requester = InReach(
        queryset=Membership.objects.none(), required=False,
        help_text="A new requester of the new organization, in the same step (TK-5).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = _organizations(self)
        self.fields["requester"].queryset = _people(self, MembershipKind.END_USER)


class _NoteSerializer(serializers.Serializer):
    internal = serializers.BooleanField(required=False, default=False, help_text="Technicians only (TK-6).")

    def validate_internal(self, value: bool) -> bool:
        if value and not is_technician(_caller(self)):
            raise serializers.ValidationError(_("Only technicians write internal notes."))
        return value


class CommentCreateSerializer(_NoteSerializer):
    body = serializers.CharField(max_length=TEXT_LIMIT, required=False, allow_blank=True, default="")
    attachments = FilesField()


class AttachmentUploadSerializer(_NoteSerializer):
    """Files alone, added to the thread as a comment without text, as in the portal."""

    attachments = serializers.ListField(
        child=serializers.FileField(), min_length=1, max_length=MAX_FILES,
        help_text="One or more files, sent as multipart/form-data.",
    )
