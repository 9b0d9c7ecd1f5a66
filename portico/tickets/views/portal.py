"""The end-user portal's ticket pages (TK-1 … TK-4, PERM-3): the list with its tabs, search and
sorting on keyset pages; a new ticket; a ticket with its public thread, comments, close and reopen.

What a user sees comes from the one policy; a user without ticketing finds no ticket page (404).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portico.access import catalog, policy
from portico.access.policy import Action, TicketAction
from portico.identity.models import Membership, MembershipKind
from portico.identity.views import membership_required
from portico.tickets import services
from portico.tickets.forms import CommentForm, NewTicketForm, TicketListForm
from portico.tickets.models import OPEN_STATUSES, Ticket, TicketAttachment, TicketComment, TicketStatus
from portico.tickets.search import search_tickets
from portico.tickets.services import TicketDraft, visible_ticket
from portico.tickets.views.attachments import limit_upload_body
from portico.tickets.views.rows import label_rows
from portico.web.forms import add_service_errors
from portico.web.keyset import keyset_page

PAGE_SIZE = 25
# The home card counts open tickets up to here and shows "999+" beyond.
OPEN_COUNT_LIMIT = 1000

MINE, ORGANIZATION, OPEN, CLOSED = "mine", "organization", "open", "closed"
TAB_LABELS = {
    MINE: gettext_lazy("Mine"),
    ORGANIZATION: gettext_lazy("My organization"),
    OPEN: gettext_lazy("Open"),
    CLOSED: gettext_lazy("Closed"),
}


def read_once(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The end user's permissions are read once for the whole request, POSTs included, the template
    too, instead of once per policy question (PERM-5: nothing outlives the request). No portal view
    changes roles or grants."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        with policy.read_once(request.membership):
            return view(request, *args, **kwargs)

    return wrapper


def ticket_scope(actor: Membership) -> str:
    """PERM-3: "organization", "own", or "" for a user without ticketing (who then gets a 404)."""
    return catalog.ticket_scope(policy.effective_permissions(actor)) if policy.can_open_ticket(actor) else ""


def open_ticket_count(actor: Membership | None) -> int | None:
    """Open tickets the user sees, for the portal's home; None without ticketing."""
    if actor is None or not policy.can_open_ticket(actor):
        return None
    tickets = policy.restrict(Ticket.objects.filter(status__in=OPEN_STATUSES), actor, Action.VIEW)
    return tickets[:OPEN_COUNT_LIMIT].count()


def _tab_tickets(actor: Membership, tab: str):
    # A row shows none of the long text; the searchable text alone may be 200 kB a ticket.
    tickets = policy.restrict(Ticket.objects.defer("description", "search_text"), actor, Action.VIEW)
    if tab == MINE:
        return tickets.filter(requester_id=actor.pk)
    if tab == OPEN:
        return tickets.filter(status__in=OPEN_STATUSES)
    if tab == CLOSED:
        return tickets.filter(status=TicketStatus.CLOSED)
    return tickets


def _tab_links(tabs: list[str], current: str, filters: TicketListForm) -> list[dict]:
    """Each tab keeps the search and the sort, and starts at the first page."""
    kept = {name: filters.cleaned_data[name] for name in ("q", "sort") if filters.cleaned_data.get(name)}
    return [
        {"name": tab, "label": TAB_LABELS[tab], "query": urlencode({"tab": tab, **kept}), "active": tab == current}
        for tab in tabs
    ]


@membership_required(MembershipKind.END_USER)
@read_once
def ticket_list(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    scope = ticket_scope(actor)
    if not scope:
        raise Http404
    org_wide = scope == "organization"
    tabs = [MINE, ORGANIZATION, OPEN, CLOSED] if org_wide else [MINE, OPEN, CLOSED]
    # A tab that is not offered (an own-tickets user's crafted "organization") is "Mine".
    tab = request.GET.get("tab", MINE)
    if tab not in tabs:
        tab = MINE
    filters = TicketListForm(request.GET)
    filters.is_valid()
    tickets = _tab_tickets(actor, tab)
    if org_wide:
        tickets = tickets.select_related("requester__person")
    tickets = search_tickets(tickets, filters.search())
    page = keyset_page(tickets, filters.ordering(), request.GET.get("cursor"), PAGE_SIZE)
    label_rows(page)
    return render(
        request,
        "tickets/portal/list.html",
        {
            "page": page,
            "filters": filters,
            "tab": tab,
            "tabs": _tab_links(tabs, tab, filters),
            "show_requester": org_wide,
        },
    )


@limit_upload_body
@membership_required(MembershipKind.END_USER)
@read_once
def ticket_new(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    if not policy.can_open_ticket(actor):
        raise Http404
    form = NewTicketForm(request.POST, request.FILES) if request.method == "POST" else NewTicketForm()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = TicketDraft(subject=data["subject"], description=data["description"], priority=data["priority"])
        try:
            ticket = services.open_ticket(actor, draft, data["attachments"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Ticket #%(number)d is open. Replies appear here and reach you by email.") % {
                "number": ticket.pk
            })
            return redirect("tickets:portal_detail", pk=ticket.pk)
    return render(request, "tickets/portal/new.html", {"form": form})


def _thread(actor: Membership, ticket: Ticket):
    """The public thread (TK-6: never an internal note, never a note's files), oldest first."""
    shown_files = policy.restrict(TicketAttachment.objects.all(), actor, Action.VIEW).order_by("id")
    return (
        policy.restrict(TicketComment.objects.filter(ticket=ticket), actor, Action.VIEW)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=shown_files, to_attr="shown_attachments"))
        .order_by("created_at", "id")
    )


@limit_upload_body
@membership_required(MembershipKind.END_USER)
@read_once
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The ticket and its thread; a POST is a comment (TK-3: only on tickets one reported)."""
    actor = request.membership
    ticket = visible_ticket(actor, pk)
    can_comment = policy.can(actor, TicketAction.COMMENT, ticket)
    form = CommentForm()
    if request.method == "POST":
        if not can_comment:
            raise PermissionDenied
        form = CommentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.comment_on(actor, ticket, form.cleaned_data["body"], form.cleaned_data["attachments"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Your comment is added."))
                return redirect("tickets:portal_detail", pk=ticket.pk)
    files = policy.restrict(ticket.attachments.filter(comment__isnull=True), actor, Action.VIEW).order_by("id")
    return render(
        request,
        "tickets/portal/detail.html",
        {
            "ticket": ticket,
            "files": files,
            "thread": _thread(actor, ticket),
            "form": form,
            "can_comment": can_comment,
            "can_close": policy.can(actor, TicketAction.CLOSE, ticket),
        },
    )


@require_POST
@membership_required(MembershipKind.END_USER)
@read_once
def ticket_status(request: HttpRequest, pk: int) -> HttpResponse:
    """TK-4: close a ticket one can see, or reopen it."""
    actor = request.membership
    ticket = visible_ticket(actor, pk)
    try:
        ticket = services.change_status(actor, ticket, request.POST.get("status", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if ticket.is_closed:
            messages.success(request, _("The ticket is closed. You can reopen it at any time."))
        else:
            messages.success(request, _("The ticket is open again."))
    return redirect("tickets:portal_detail", pk=ticket.pk)


urlpatterns = [
    path("portal/tickets/", ticket_list, name="portal_list"),
    path("portal/tickets/new/", ticket_new, name="portal_new"),
    path("portal/tickets/<int:pk>/", ticket_detail, name="portal_detail"),
    path("portal/tickets/<int:pk>/status/", ticket_status, name="portal_status"),
]
