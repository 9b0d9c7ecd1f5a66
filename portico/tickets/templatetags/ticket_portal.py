"""Pieces of the ticket portal that other pages show: the Tickets card of the portal's home."""

from __future__ import annotations

from django import template

from portico.tickets.views.portal import OPEN_COUNT_LIMIT, open_ticket_count

register = template.Library()


@register.inclusion_tag("tickets/portal/home_card.html", takes_context=True)
def tickets_home_card(context) -> dict:
    return {"open_count": open_ticket_count(context.get("membership")), "limit": OPEN_COUNT_LIMIT}
