"""`/api/v1/tickets/`: tickets, their comments and attachments, with the portal's and the board's
rules (TK-1 … TK-6, EU-5).

What a caller sees is what the one policy lets them see; anything else is a 404. A visible ticket
the caller may not change in the asked way (an organization-wide user commenting on a colleague's
ticket, an end user moving one) is a 403. Every change goes through `portico.tickets.services`.
Lists page by keyset in their own order and never count the table.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from portico.access import policy
from portico.access.policy import Action, TicketAction
from portico.api.pagination import KeysetPages
from portico.api.viewsets import PolicyViewSetMixin, caller
from portico.identity.models import MembershipKind
from portico.tickets import services
from portico.tickets.attachments import download_response
from portico.tickets.models import OPEN_STATUSES, CommentSource, Ticket, TicketAttachment, TicketComment
from portico.tickets.search import search_tickets
from portico.tickets.serializers import (
    ACTIVE,
    ORDERINGS,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    MoveSerializer,
    TicketChangeSerializer,
    TicketCreateSerializer,
    TicketFilterSerializer,
    TicketSerializer,
    comment_serializer_for,
    is_technician,
    ticket_serializer_for,
    uploads_of,
)
from portico.tickets.services import TicketDraft, visible_ticket
from portico.tickets.views.attachments import upload_limit


class ThreadPages(KeysetPages):
    page_size = 50
    max_page_size = 200
    ordering = ["created_at", "id"]


class FilePages(KeysetPages):
    page_size = 50
    max_page_size = 200


class TooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request is larger than the attachment limits allow.")
    default_code = "too_large"


ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The ticket's id")


@extend_schema_view(
    list=extend_schema(
        summary="Tickets in reach (TK-2, TK-6)",
        parameters=[TicketFilterSerializer],
        responses=TicketSerializer(many=True),
    ),
    retrieve=extend_schema(summary="One ticket", parameters=[ID], responses=TicketSerializer),
    create=extend_schema(
        summary="Open a ticket (TK-1); technicians open one for an end user",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
    ),
    partial_update=extend_schema(
        summary="Change status, priority or assignee (TK-4, TK-6)",
        parameters=[ID],
        request=TicketChangeSerializer,
        responses=TicketSerializer,
    ),
)
class TicketViewSet(PolicyViewSetMixin, viewsets.GenericViewSet):
    """Tickets the caller may see: an end user's own, or their organization's with organization-wide
    ticketing (TK-2, never another organization: EU-5); a technician's within their organizations
    (GRP-3). Outside that, a 404."""

    base_queryset = Ticket.objects.select_related("requester__person", "assignee__person").defer("search_text")
    serializer_class = TicketSerializer
    pagination_class = KeysetPages  # type: ignore[assignment]
    keyset_ordering: list[str] | None = None

    def initial(self, request, *args, **kwargs):
        # Before anything reads the body (the session's CSRF check would): Django spools uploads
        # of any size to disk and has no bound of its own on a whole request.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > upload_limit():
            raise TooLarge
        super().initial(request, *args, **kwargs)

    def get_serializer_class(self):
        # While the schema is generated there is no caller: the technicians' shape is described.
        return ticket_serializer_for(caller({"request": getattr(self, "request", None)}))

    def get_object(self) -> Ticket:
        return visible_ticket(self.membership, self.kwargs["pk"])

    def _answer(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        ticket = visible_ticket(self.membership, ticket.pk)
        return Response(self.get_serializer(ticket).data, status=code)

    # Tickets

    def list(self, request):
        filters = TicketFilterSerializer(data=request.query_params, context=self.get_serializer_context())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        tickets = self.get_queryset()
        if data.get("status") == ACTIVE:
            tickets = tickets.filter(status__in=OPEN_STATUSES)
        elif data.get("status"):
            tickets = tickets.filter(status=data["status"])
        if "priority" in data:
            tickets = tickets.filter(priority=data["priority"])
        assignee = data.get("assignee")
        if assignee == "me":
            tickets = tickets.filter(assignee_id=self.membership.pk)
        elif assignee == "none":
            tickets = tickets.filter(assignee__isnull=True)
        elif assignee:
            tickets = tickets.filter(assignee_id=int(assignee))
        for name in ("organization", "requester"):
            if name in data:
                tickets = tickets.filter(**{f"{name}_id": data[name]})
        tickets = search_tickets(tickets, data.get("q", ""))
        self.keyset_ordering = ORDERINGS[data["sort"]]
        page = self.paginate_queryset(tickets)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        actor = self.membership
        if actor.kind == MembershipKind.END_USER:
            allowed = policy.can_open_ticket(actor)
        else:
            allowed = actor.kind == MembershipKind.STAFF and actor.staff_role in policy.TICKET_HANDLERS
        if not allowed:
            raise ApiPermissionDenied
        body = TicketCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        draft = TicketDraft(
            subject=data["subject"], description=data["description"], priority=data["priority"],
            requester=data.get("requester") if is_technician(actor) else None,
        )
        ticket = services.open_ticket(actor, draft, uploads_of(data))
        return self._answer(ticket, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        actor = self.membership
        ticket = self.get_object()
        technician = is_technician(actor)
        if not policy.can(actor, Action.CHANGE if technician else TicketAction.CLOSE, ticket):
            raise ApiPermissionDenied
        if not technician and hasattr(request.data, "keys") and {"priority", "assignee"} & set(request.data.keys()):
            # TK-4: an end user closes and reopens; everything else about a ticket is the technicians'.
            raise ApiPermissionDenied(_("You can close a ticket or reopen it."))
        body = TicketChangeSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with transaction.atomic():  # all of it or nothing
            if "status" in data:
                ticket = services.change_status(actor, ticket, data["status"])
            changes = {name: data[name] for name in ("priority", "assignee") if name in data}
            if changes:
                ticket = services.update_ticket(actor, ticket, **changes)
        return self._answer(ticket)

    @extend_schema(
        summary="Move the ticket to another organization, changing the requester in the same step (TK-5)",
        parameters=[ID],
        request=MoveSerializer,
        responses=TicketSerializer,
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        actor = self.membership
        ticket = self.get_object()
        if not policy.can(actor, Action.CHANGE, ticket):
            raise ApiPermissionDenied
        body = MoveSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        ticket = services.move_ticket(actor, ticket, body.validated_data["organization"], body.validated_data.get("requester"))
        return self._answer(ticket)

    # The thread

    def _shown_files(self):
        return policy.restrict(TicketAttachment.objects.all(), self.membership, Action.VIEW).order_by("id")

    def _comment_answer(self, comment: TicketComment) -> Response:
        shown = list(self._shown_files().filter(comment=comment))
        comment.shown_attachments = shown  # type: ignore[attr-defined]
        serializer = comment_serializer_for(self.membership)
        return Response(serializer(comment, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="The thread, oldest first: public comments, and internal notes for technicians (TK-6)",
        parameters=[ID],
        responses=CommentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Comment (TK-3: end users only on tickets they reported); technicians may write an internal note",
        parameters=[ID],
        request=CommentCreateSerializer,
        responses={201: CommentSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=ThreadPages)
    def comments(self, request, pk=None):
        actor = self.membership
        ticket = self.get_object()
        serializer = comment_serializer_for(actor)
        if request.method == "POST":
            if not policy.can(actor, TicketAction.COMMENT, ticket):
                raise ApiPermissionDenied
            body = CommentCreateSerializer(data=request.data, context=self.get_serializer_context())
            body.is_valid(raise_exception=True)
            data = body.validated_data
            comment = services.comment_on(
                actor, ticket, data["body"], uploads_of(data), internal=data["internal"], source=CommentSource.API
            )
            return self._comment_answer(comment)
        thread = (
            policy.restrict(TicketComment.objects.filter(ticket=ticket), actor, Action.VIEW)
            .prefetch_related(Prefetch("attachments", queryset=self._shown_files(), to_attr="shown_attachments"))
        )
        page = self.paginate_queryset(thread)
        return self.get_paginated_response(serializer(page, many=True, context=self.get_serializer_context()).data)

    # Attachments

    @extend_schema(
        methods=["GET"],
        summary="The ticket's files the caller may see (an internal note's files for technicians only)",
        parameters=[ID],
        responses=AttachmentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add files to the thread, as a comment without text (TK-1, TK-3); the answer is that comment",
        parameters=[ID],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: CommentSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=FilePages, parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        actor = self.membership
        ticket = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            if not policy.can(actor, TicketAction.COMMENT, ticket):
                raise ApiPermissionDenied
            body = AttachmentUploadSerializer(data=request.data, context=context)
            body.is_valid(raise_exception=True)
            data = body.validated_data
            comment = services.comment_on(actor, ticket, "", uploads_of(data), internal=data["internal"], source=CommentSource.API)
            return self._comment_answer(comment)
        page = self.paginate_queryset(self._shown_files().filter(ticket=ticket))
        return self.get_paginated_response(AttachmentSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary="Download one file, looked up through its ticket",
        parameters=[ID, OpenApiParameter("attachment_pk", int, OpenApiParameter.PATH, description="The file's id")],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file"),
            404: OpenApiResponse(description="No such file on a ticket in reach"),
        },
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_pk>[0-9]+)", url_name="attachment")
    def attachment(self, request, pk=None, attachment_pk=None):
        ticket = self.get_object()
        number = int(attachment_pk)
        found = (
            self._shown_files().filter(ticket=ticket, pk=number).first() if 0 < number < 2**63 else None
        )
        if found is None:
            raise Http404
        return download_response(found)


def register(router) -> None:
    router.register("tickets", TicketViewSet, basename="ticket")
