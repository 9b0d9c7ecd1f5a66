"""The end-user portal's ticket pages (TK-1 … TK-4)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.tickets.models import Ticket
from portico.tickets.services import visible_ticket
from portico.web.keyset import keyset_page


@membership_required(MembershipKind.END_USER)
def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = policy.restrict(Ticket.objects.all(), request.membership, Action.VIEW)
    page = keyset_page(tickets, ["-updated_at", "-id"], request.GET.get("cursor"), 25)
    return render(request, "tickets/portal/list.html", {"page": page})


@membership_required(MembershipKind.END_USER)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = visible_ticket(request.membership, pk)
    return render(request, "tickets/portal/detail.html", {"ticket": ticket})


urlpatterns = [
    path("portal/tickets/", ticket_list, name="portal_list"),
    path("portal/tickets/<int:pk>/", ticket_detail, name="portal_detail"),
]
