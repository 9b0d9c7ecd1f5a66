"""The end-user portal's ticket pages (TK-1 … TK-4)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.tickets.services import visible_ticket


@membership_required(MembershipKind.END_USER)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = visible_ticket(request.membership, pk)
    return render(request, "tickets/portal/detail.html", {"ticket": ticket})


urlpatterns = [
    path("portal/tickets/<int:pk>/", ticket_detail, name="portal_detail"),
]
