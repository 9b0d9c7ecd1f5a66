"""What a list row shows, formatted once per row for the portal's and the board's lists."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.timezone import localtime

from portico.tickets.models import TicketPriority, TicketStatus


def label_rows(tickets) -> None:
    """Status and priority labels translated, and times formatted, once per row: in the template,
    `get_status_display` translates every label of the field each time, an include costs more than
    the row's SQL, and each `date` filter looks its format up again; a row shows them twice (phone
    and table)."""
    statuses = {value: str(label) for value, label in TicketStatus.choices}
    priorities = {value: str(label) for value, label in TicketPriority.choices}
    for ticket in tickets:
        ticket.status_label, ticket.priority_label = statuses[ticket.status], priorities[ticket.priority]
        updated = localtime(ticket.updated_at)
        ticket.updated_iso, ticket.updated_label = updated.isoformat(), date_format(updated, "SHORT_DATETIME_FORMAT")
