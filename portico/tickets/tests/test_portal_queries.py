"""What the portal's ticket pages cost: the end user's permissions are read once per request,
never beyond it (PERM-5), and the list's queries do not grow with its rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico import seed
from portico.tickets.models import Ticket, TicketStatus
from tests.support import sign_in

pytestmark = pytest.mark.django_db

LIST = "/portal/tickets/"
# Session, person, membership (the middleware); the permissions (a full-access role, then the
# grants); the page of tickets, requesters joined.
LIST_QUERIES = 6


def ids_on(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [int(pk) for pk in re.findall(r'<tr data-ticket="(\d+)"', response.content.decode())]


def tabs_on(response) -> list[str]:
    return re.findall(r'data-tab="(\w+)"', response.content.decode())


def permission_reads(captured: CaptureQueriesContext) -> int:
    return sum('FROM "access_grant"' in query["sql"] for query in captured.captured_queries)


@pytest.mark.parametrize("tab", ["mine", "organization"])
def test_the_list_costs_the_same_queries_for_3_rows_as_for_25(
    user_org_wide, colleague, signed_in, django_assert_max_num_queries, tab
):
    for i in range(3):
        seed.ticket(colleague if tab == "organization" and i % 2 else user_org_wide, f"First {i}")
    client = signed_in(user_org_wide)
    with CaptureQueriesContext(connection) as three:
        assert len(ids_on(client.get(LIST, {"tab": tab}))) == 3
    for i in range(40):
        seed.ticket(colleague if tab == "organization" and i % 2 else user_org_wide, f"More {i}")
    with django_assert_max_num_queries(LIST_QUERIES) as twenty_five:
        assert len(ids_on(client.get(LIST, {"tab": tab}))) == 25
    assert len(twenty_five) == len(three)
    assert permission_reads(twenty_five) == 1


def test_each_portal_ticket_page_reads_the_permissions_once(user_own_tickets, support, signed_in):
    ticket = seed.ticket(user_own_tickets, "Printer")
    seed.comment(ticket, support, "Which floor?")
    client = signed_in(user_own_tickets)
    page = f"{LIST}{ticket.pk}/"
    requests = [
        lambda: client.get(LIST, {"tab": "open", "q": "printer"}),
        lambda: client.get(page),
        lambda: client.post(page, {"body": "Second floor."}),
        lambda: client.get(f"{LIST}new/"),
        lambda: client.post(f"{page}status/", {"status": TicketStatus.CLOSED}),
    ]
    for send in requests:
        with CaptureQueriesContext(connection) as captured:
            assert send().status_code in (200, 302)
        assert permission_reads(captured) == 1
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED


def test_a_row_shows_its_status_urgency_and_time_on_the_phone_and_in_the_table(user_own_tickets, signed_in):
    ticket = seed.ticket(user_own_tickets, "Printer", priority=4, status=TicketStatus.PENDING)
    updated = timezone.localtime(Ticket.objects.get(pk=ticket.pk).updated_at)
    html = signed_in(user_own_tickets).get(LIST).content.decode()
    assert html.count('<span class="badge text-bg-warning" data-status="pending">Waiting for reply</span>') == 2
    assert html.count('<span class="badge text-bg-danger">Urgent</span>') == 2
    assert html.count(f'<time datetime="{updated.isoformat()}">') == 2


def test_a_row_speaks_the_persons_language(user_own_tickets, signed_in):
    seed.ticket(user_own_tickets, "Drucker", status=TicketStatus.CLOSED)
    user_own_tickets.person.language = "de"
    user_own_tickets.person.save(update_fields=["language"])
    html = signed_in(user_own_tickets).get(LIST, {"tab": "closed"}).content.decode()
    assert html.count('data-status="closed">Geschlossen</span>') == 2


def test_perm5_a_ticketing_change_counts_on_the_portals_next_request(user_org_wide, colleague, admin, signed_in):
    own = seed.ticket(user_org_wide, "Wade's laptop")
    seed.ticket(colleague, "Carl's mailbox")
    portal = signed_in(user_org_wide)
    technician = sign_in(Client(), admin)
    permissions = f"/console/end-users/{user_org_wide.pk}/permissions/"
    assert len(ids_on(portal.get(LIST, {"tab": "organization"}))) == 2

    assert technician.post(permissions, {"ticketing": "own"}).status_code == 302
    response = portal.get(LIST, {"tab": "organization"})
    assert tabs_on(response) == ["mine", "open", "closed"]
    assert ids_on(response) == [own.pk]  # a crafted "organization" tab is their own tickets (PERM-3)

    assert technician.post(permissions, {"ticketing": "organization"}).status_code == 302
    assert len(ids_on(portal.get(LIST, {"tab": "organization"}))) == 2

    assert technician.post(permissions, {"ticketing": ""}).status_code == 302
    assert portal.get(LIST).status_code == 404
    assert portal.get(f"{LIST}{own.pk}/").status_code == 404
