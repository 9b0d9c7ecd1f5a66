"""The technicians' ticket board (TK-5, TK-6)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.tickets.models import Ticket
from portico.web.keyset import keyset_page


@membership_required(MembershipKind.STAFF)
def board(request: HttpRequest) -> HttpResponse:
    tickets = policy.restrict(Ticket.objects.select_related("organization"), request.membership, Action.VIEW)
    page = keyset_page(tickets, ["-updated_at", "-id"], request.GET.get("cursor"), 25)
    return render(request, "tickets/board/list.html", {"page": page})


urlpatterns = [
    path("console/tickets/", board, name="board"),
]
