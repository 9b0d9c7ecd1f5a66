"""The technicians' ticket board (TK-5, TK-6, TK-7): the filtered list on keyset pages, a ticket
opened for an end user, the ticket page (thread with internal notes, replies, status, priority,
assignee, moves), and the inbound mail the mailbox poller held for a person.

Owner, Super Admin, Admin and Support work tickets, Admin and Support only within their groups'
organizations (GRP-3); everyone else finds no page here (404). Every list and lookup goes through
the one policy; every change through `portico.tickets.services`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import Membership, MembershipKind
from portico.identity.views import membership_required
from portico.tenancy.forms import filter_by_organization
from portico.tenancy.models import Organization
from portico.tickets import services
from portico.tickets.attachments import private_download
from portico.tickets.board_forms import (
    ACTIVE,
    ANY_STATUS,
    ME,
    MENU_LIMIT,
    NOBODY,
    AddToTicketForm,
    BoardFilterForm,
    BoardTicketForm,
    HeldMailFilterForm,
    MoveForm,
    ReplyForm,
    TicketEditForm,
    as_id,
    matching_people,
)
from portico.tickets.inbound import parse_message
from portico.tickets.models import (
    OPEN_STATUSES,
    InboundEmail,
    InboundState,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketPriority,
)
from portico.tickets.search import search_tickets
from portico.tickets.services import TicketDraft, visible_ticket
from portico.tickets.views.attachments import limit_upload_body
from portico.tickets.views.rows import label_rows
from portico.web.forms import add_service_errors
from portico.web.keyset import keyset_page

PAGE_SIZE = 25
# End users listed by the requester search of a new ticket.
CANDIDATE_LIMIT = 20
# People a requester filter by name or email may match.
REQUESTER_MATCHES = 50
# The board's "Held mail" button counts up to here and shows "99+" beyond.
HELD_COUNT_LIMIT = 100

QUICK_FILTERS = [
    ("mine", gettext_lazy("My open tickets"), {"status": ACTIVE, "assignee": ME}),
    ("unassigned", gettext_lazy("Unassigned"), {"status": ACTIVE, "assignee": NOBODY}),
    ("urgent", gettext_lazy("Urgent"), {"status": ACTIVE, "priority": str(TicketPriority.URGENT)}),
]


def _technician(request: HttpRequest) -> Membership:
    """The signed-in staff member, if their role works tickets (TK-6); Finance gets a 404."""
    actor = request.membership
    if actor.staff_role not in policy.TICKET_HANDLERS:
        raise Http404
    return actor


def _organizations(actor: Membership):
    return policy.restrict(Organization.objects.all(), actor, Action.VIEW).order_by("name")


def _end_users(actor: Membership):
    return policy.restrict(Membership.objects.filter(kind=MembershipKind.END_USER), actor, Action.VIEW)


def _technicians(actor: Membership) -> list[Membership]:
    """Staff of the partner whose role works tickets, for the assignee filter (bounded)."""
    staff = policy.restrict(
        Membership.objects.filter(kind=MembershipKind.STAFF, staff_role__in=policy.TICKET_HANDLERS), actor, Action.VIEW
    )
    return list(staff.select_related("person").order_by("person__first_name", "person__last_name", "pk")[:MENU_LIMIT])


def _workers(ticket: Ticket) -> list[Membership]:
    """Who may be assigned `ticket`: one query, however many technicians there are."""
    workers = policy.ticket_workers(ticket, Membership.objects.select_related("person"))
    return list(workers.order_by("person__first_name", "person__last_name", "pk")[:MENU_LIMIT])


# The board.


def filtered_tickets(tickets, filters: BoardFilterForm, actor: Membership):
    """`tickets` narrowed by every filter that was given and fits; and the requester a link named."""
    status = filters.status_filter()
    if status == ACTIVE:
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif status != ANY_STATUS:
        tickets = tickets.filter(status=status)
    if filters.value("priority") is not None:
        tickets = tickets.filter(priority=filters.value("priority"))
    assignee = filters.value("assignee")
    if assignee == ME:
        tickets = tickets.filter(assignee_id=actor.pk)
    elif assignee == NOBODY:
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=int(assignee))
    organization = filters.value("organization")
    if isinstance(organization, str) and as_id(organization) is not None:
        # Past the menu's 200 organizations the filter is a name search; a number is an id from a link.
        organization = as_id(organization)
    tickets = filter_by_organization(tickets, organization)
    requester, named = filters.value("requester"), None
    if requester:
        number = as_id(requester)
        if number is not None:
            tickets = tickets.filter(requester_id=number)
            named = _end_users(actor).select_related("person").filter(pk=number).first()
        else:
            # Resolved first and bounded: "all tickets of 2,000 people called Marino" is no filter.
            people = list(matching_people(_end_users(actor), requester).values_list("pk", flat=True)[: REQUESTER_MATCHES + 1])
            if len(people) > REQUESTER_MATCHES:
                filters.add_error("requester", _("More than %(count)d people match. Add to the name or give the email address.") % {
                    "count": REQUESTER_MATCHES
                })
            else:
                tickets = tickets.filter(requester_id__in=people)
    return search_tickets(tickets, filters.value("q") or ""), named


def _quick_links(request: HttpRequest) -> list[dict]:
    given = {k: v for k, v in request.GET.items() if v and k not in ("cursor", "sort")}
    return [
        {"name": name, "label": label, "query": urlencode(params), "active": given == params}
        for name, label, params in QUICK_FILTERS
    ]


@membership_required(MembershipKind.STAFF)
def board(request: HttpRequest) -> HttpResponse:
    actor = _technician(request)
    filters = BoardFilterForm(request.GET, organizations=_organizations(actor), technicians=_technicians(actor))
    filters.is_valid()
    tickets = policy.restrict(
        Ticket.objects.select_related("organization", "requester__person", "assignee__person"), actor, Action.VIEW
    )
    tickets, named_requester = filtered_tickets(tickets, filters, actor)
    page = keyset_page(tickets, filters.ordering(), request.GET.get("cursor"), PAGE_SIZE)
    label_rows(page)
    held = policy.restrict(InboundEmail.objects.filter(state=InboundState.HELD), actor, Action.VIEW)
    return render(
        request,
        "tickets/board/list.html",
        {
            "page": page,
            "filters": filters,
            "quick_links": _quick_links(request),
            "named_requester": named_requester,
            "held_count": held.order_by()[:HELD_COUNT_LIMIT].count(),
            "held_limit": HELD_COUNT_LIMIT,
        },
    )


@limit_upload_body
@membership_required(MembershipKind.STAFF)
def board_new(request: HttpRequest) -> HttpResponse:
    """A ticket on behalf of an end user: find them by name or email, then write the ticket."""
    actor = _technician(request)
    people = _end_users(actor).filter(organization__isnull=False).select_related("person", "organization")
    who = (request.GET.get("who") or "").replace("\x00", "").strip()[:200]
    candidates = list(matching_people(people, who).order_by("person__last_name", "person__first_name", "pk")[:CANDIDATE_LIMIT]) if who else []
    chosen = as_id(request.POST.get("requester") if request.method == "POST" else request.GET.get("requester"))
    if chosen is not None and chosen not in {m.pk for m in candidates}:
        candidates[:0] = list(people.filter(pk=chosen))
    if request.method == "POST":
        form = BoardTicketForm(request.POST, request.FILES, people=people, candidates=candidates)
    else:
        form = BoardTicketForm(initial={"requester": chosen}, people=people, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = TicketDraft(
            subject=data["subject"], description=data["description"], priority=data["priority"], requester=data["requester"]
        )
        try:
            ticket = services.open_ticket(actor, draft, data["attachments"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Ticket #%(number)d is open for %(name)s.") % {
                "number": ticket.pk, "name": ticket.requester.person.full_name
            })
            return redirect("tickets:board_detail", pk=ticket.pk)
    return render(request, "tickets/board/new.html", {"form": form, "who": who, "candidates": candidates})


# One ticket.


def _thread(actor: Membership, ticket: Ticket):
    """Every comment the technician sees, internal notes included (TK-6), oldest first."""
    files = policy.restrict(TicketAttachment.objects.all(), actor, Action.VIEW).order_by("id")
    return (
        policy.restrict(TicketComment.objects.filter(ticket=ticket), actor, Action.VIEW)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=files, to_attr="shown_attachments"))
        .order_by("created_at", "id")
    )


def _move_form(actor: Membership, data=None, ticket: Ticket | None = None) -> MoveForm:
    initial = {"organization": ticket.organization_id} if ticket is not None else None
    return MoveForm(
        data, initial=initial, organizations=_organizations(actor),
        end_users=_end_users(actor).select_related("person", "organization"),
    )


def _detail(request: HttpRequest, actor: Membership, ticket: Ticket, **forms) -> HttpResponse:
    """The ticket page; a form given in `forms` is shown as posted, with its errors."""
    files = policy.restrict(ticket.attachments.filter(comment__isnull=True), actor, Action.VIEW).order_by("id")
    can_change = policy.can(actor, Action.CHANGE, ticket)
    return render(
        request,
        "tickets/board/detail.html",
        {
            "ticket": ticket,
            "files": files,
            "thread": _thread(actor, ticket),
            "can_change": can_change,
            "reply_form": forms.get("reply_form") or ReplyForm(),
            "edit_form": forms.get("edit_form") or TicketEditForm(ticket=ticket, workers=_workers(ticket)),
            "move_form": forms.get("move_form") or _move_form(actor, ticket=ticket),
        },
    )


@limit_upload_body
@membership_required(MembershipKind.STAFF)
def board_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The ticket; a POST is a public reply (emailed to the requester, TK-7) or an internal note (TK-6)."""
    actor = _technician(request)
    ticket = visible_ticket(actor, pk)
    if request.method != "POST":
        return _detail(request, actor, ticket)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            comment = services.comment_on(
                actor, ticket, form.cleaned_data["body"], form.cleaned_data["attachments"], internal=form.internal
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Internal note added.") if comment.internal else _("Reply sent to the requester."))
            return redirect(f"{reverse('tickets:board_detail', args=[ticket.pk])}#comment-{comment.pk}")
    return _detail(request, actor, ticket, reply_form=form)


@require_POST
@membership_required(MembershipKind.STAFF)
def board_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Status (TK-7: the requester is emailed), priority and assignee, together or not at all."""
    actor = _technician(request)
    ticket = visible_ticket(actor, pk)
    form = TicketEditForm(request.POST, ticket=ticket, workers=_workers(ticket))
    if form.is_valid():
        data = form.cleaned_data
        changes = {}
        if data["priority"] != ticket.priority:
            changes["priority"] = data["priority"]
        if data["assignee"] != str(ticket.assignee_id or ""):
            changes["assignee"] = form.workers[data["assignee"]] if data["assignee"] else None
        try:
            with transaction.atomic():
                if changes:
                    services.update_ticket(actor, ticket, **changes)
                if data["status"] != ticket.status:
                    services.change_status(actor, ticket, data["status"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            changed = changes or data["status"] != ticket.status
            messages.success(request, _("Ticket updated.") if changed else _("Nothing to change."))
            return redirect("tickets:board_detail", pk=ticket.pk)
    return _detail(request, actor, ticket, edit_form=form)


@require_POST
@membership_required(MembershipKind.STAFF)
def board_move(request: HttpRequest, pk: int) -> HttpResponse:
    """TK-5: the move and, when needed, the new requester, in one step of one service."""
    actor = _technician(request)
    ticket = visible_ticket(actor, pk)
    form = _move_form(actor, request.POST)
    if form.is_valid():
        organization, requester = form.cleaned_data["organization"], form.cleaned_data["requester"]
        if organization == ticket.organization and requester in (None, ticket.requester):
            messages.info(request, _("Nothing to change."))
            return redirect("tickets:board_detail", pk=ticket.pk)
        try:
            moved = services.move_ticket(actor, ticket, organization, requester)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Ticket #%(number)d is now in %(organization)s, requested by %(name)s.") % {
                "number": moved.pk, "organization": moved.organization.name,
                "name": moved.requester.person.full_name,
            })
            return redirect("tickets:board_detail", pk=moved.pk)
    return _detail(request, actor, ticket, move_form=form)


# Held inbound mail (TK-7): what the mailbox poller could not place, for a person to settle.


def _visible_inbound(actor: Membership, pk: int) -> InboundEmail:
    found = (
        policy.restrict(InboundEmail.objects.select_related("ticket", "settled_by__person"), actor, Action.VIEW)
        .filter(pk=pk)
        .first()
        if 0 < pk < 2**63
        else None
    )
    if found is None:
        raise Http404
    return found


@membership_required(MembershipKind.STAFF)
def held_mail(request: HttpRequest) -> HttpResponse:
    actor = _technician(request)
    filters = HeldMailFilterForm(request.GET)
    filters.is_valid()
    inbound = policy.restrict(
        InboundEmail.objects.defer("raw").select_related("ticket", "settled_by__person"), actor, Action.VIEW
    )
    state = filters.state_filter()
    if state != ANY_STATUS:
        inbound = inbound.filter(state=state)
    page = keyset_page(inbound, ["-received_at", "-id"], request.GET.get("cursor"), PAGE_SIZE)
    return render(request, "tickets/board/held_list.html", {"page": page, "filters": filters})


def _held_detail(request: HttpRequest, inbound: InboundEmail, add_form: AddToTicketForm | None = None) -> HttpResponse:
    parsed = parse_message(bytes(inbound.raw))
    return render(
        request,
        "tickets/board/held_detail.html",
        {
            "inbound": inbound,
            "parsed": parsed,
            "can_add": inbound.state in services.ADDABLE_STATES,
            "can_dismiss": inbound.state == InboundState.HELD,
            "add_form": add_form or AddToTicketForm(initial={"ticket": inbound.ticket_id or ""}),
        },
    )


@membership_required(MembershipKind.STAFF)
def held_mail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _technician(request)
    return _held_detail(request, _visible_inbound(actor, pk))


@membership_required(MembershipKind.STAFF)
def held_mail_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """The message exactly as received, as an .eml download."""
    actor = _technician(request)
    inbound = _visible_inbound(actor, pk)
    response = private_download(HttpResponse(bytes(inbound.raw), content_type="message/rfc822"))
    response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
    return response


@require_POST
@membership_required(MembershipKind.STAFF)
def held_mail_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _technician(request)
    inbound = _visible_inbound(actor, pk)
    form = AddToTicketForm(request.POST)
    if form.is_valid():
        number = form.cleaned_data["ticket"]
        try:
            ticket = visible_ticket(actor, number)
        except Http404:
            # A ticket out of reach and one that does not exist read the same.
            form.add_error("ticket", _("There is no ticket #%(number)d that you work.") % {"number": number})
        else:
            try:
                services.add_inbound_to_ticket(actor, inbound, ticket)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The message is added to ticket #%(number)d.") % {"number": ticket.pk})
                return redirect("tickets:held_mail")
    return _held_detail(request, inbound, form)


@require_POST
@membership_required(MembershipKind.STAFF)
def held_mail_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _technician(request)
    inbound = _visible_inbound(actor, pk)
    try:
        services.dismiss_inbound(actor, inbound)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("tickets:held_mail_detail", pk=inbound.pk)
    messages.success(request, _("The message is dismissed. It stays in the list of ignored messages."))
    return redirect("tickets:held_mail")


urlpatterns = [
    path("console/tickets/", board, name="board"),
    path("console/tickets/new/", board_new, name="board_new"),
    path("console/tickets/<int:pk>/", board_detail, name="board_detail"),
    path("console/tickets/<int:pk>/update/", board_update, name="board_update"),
    path("console/tickets/<int:pk>/move/", board_move, name="board_move"),
    path("console/tickets/held-mail/", held_mail, name="held_mail"),
    path("console/tickets/held-mail/<int:pk>/", held_mail_detail, name="held_mail_detail"),
    path("console/tickets/held-mail/<int:pk>/raw/", held_mail_raw, name="held_mail_raw"),
    path("console/tickets/held-mail/<int:pk>/add/", held_mail_add, name="held_mail_add"),
    path("console/tickets/held-mail/<int:pk>/dismiss/", held_mail_dismiss, name="held_mail_dismiss"),
]
