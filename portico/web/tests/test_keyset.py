"""Keyset pages walk a list exactly once in both directions, whatever the ties and the cursor."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico import seed
from portico.tickets.models import Ticket
from portico.web.keyset import keyset_page
from tests.support import PASSWORD

ORDERINGS = [["-updated_at", "-id"], ["id"], ["-id"], ["-priority", "-updated_at", "-id"], ["priority", "-id"]]


@pytest.fixture
def tickets(org_a):
    requester = seed.end_user(seed.person("olivia@contoso.test", PASSWORD), org_a)
    moment = timezone.now()
    made = [seed.ticket(requester, f"Ticket {n}", priority=1 + n % 4) for n in range(23)]
    # Many rows share an instant, so only the id tells them apart.
    for n, ticket in enumerate(made):
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=moment - timedelta(seconds=n // 5))
    return Ticket.objects.all()


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", ORDERINGS)
def test_next_pages_then_previous_pages_see_every_row_once(tickets, ordering):
    expected = list(tickets.order_by(*ordering).values_list("pk", flat=True))
    seen, pages, cursor = [], [], None
    while True:
        page = keyset_page(tickets, ordering, cursor, 5)
        pages.append([t.pk for t in page])
        seen += pages[-1]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
    back = page.previous_cursor
    for earlier in reversed(pages[:-1]):
        page = keyset_page(tickets, ordering, back, 5)
        assert [t.pk for t in page] == earlier
        back = page.previous_cursor
    assert back is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "e30",
        base64.urlsafe_b64encode(b'{"d":"next","v":[1]}').decode(),
        base64.urlsafe_b64encode(b'{"d":"next","v":["x", 99999999999999999999999]}').decode(),
        base64.urlsafe_b64encode(b'{"d":"sideways","v":["2026-01-01T00:00:00+00:00", 1]}').decode(),
        base64.urlsafe_b64encode(b'{"d":"next","v":[null, true]}').decode(),
        "\x00",
    ],
)
def test_a_cursor_that_is_not_ours_gives_the_first_page(tickets, cursor):
    first = keyset_page(tickets, ["-updated_at", "-id"], None, 5)
    page = keyset_page(tickets, ["-updated_at", "-id"], cursor, 5)
    assert [t.pk for t in page] == [t.pk for t in first]


@pytest.mark.django_db
def test_a_number_the_column_cannot_hold_gives_the_first_page(tickets):
    ordering = ["-priority", "-updated_at", "-id"]
    cursor = base64.urlsafe_b64encode(b'{"d":"next","v":[40000,"2026-01-01T00:00:00+00:00",1]}').decode()
    page = keyset_page(tickets, ordering, cursor, 5)
    assert [t.pk for t in page] == [t.pk for t in keyset_page(tickets, ordering, None, 5)]


def _cursor_condition(sql: str) -> str:
    return sql[sql.index(" WHERE ") :].split(" ORDER BY ")[0]


@pytest.mark.django_db
@pytest.mark.parametrize("direction", ["next_cursor", "previous_cursor"])
def test_a_cursor_of_an_ordering_one_way_is_one_row_comparison(tickets, direction):
    """The condition PostgreSQL can start an index range at; an OR makes it read every row before the cursor."""
    first = keyset_page(tickets, ["-updated_at", "-id"], None, 5)
    second = keyset_page(tickets, ["-updated_at", "-id"], first.next_cursor, 5)
    with CaptureQueriesContext(connection) as queries:
        keyset_page(tickets, ["-updated_at", "-id"], getattr(second, direction), 5)
    condition = _cursor_condition(queries[-1]["sql"])
    table, q = Ticket._meta.db_table, connection.ops.quote_name
    columns = f"({q(table)}.{q('updated_at')}, {q(table)}.{q('id')})"
    assert f"{columns} {'<' if direction == 'next_cursor' else '>'} (" in condition
    assert " OR " not in condition


@pytest.mark.django_db
def test_a_cursor_of_a_mixed_ordering_compares_column_by_column(tickets):
    first = keyset_page(tickets, ["priority", "-id"], None, 5)
    with CaptureQueriesContext(connection) as queries:
        keyset_page(tickets, ["priority", "-id"], first.next_cursor, 5)
    assert " OR " in _cursor_condition(queries[-1]["sql"])


@pytest.mark.django_db
def test_an_ordering_led_by_priority_reads_the_cursors_priority_then_the_lower_ones(tickets):
    """PostgreSQL estimates a row comparison by its first column alone, so a priority-led cursor is
    two index ranges: the rest of its priority, then, only when the page is not full, lower ones."""
    ordering = ["-priority", "-updated_at", "-id"]
    ids = list(tickets.order_by("id").values_list("pk", flat=True))
    Ticket.objects.filter(pk__in=ids[:15]).update(priority=3)
    Ticket.objects.filter(pk__in=ids[15:]).update(priority=1)
    table, q = Ticket._meta.db_table, connection.ops.quote_name
    rest = f"({q(table)}.{q('updated_at')}, {q(table)}.{q('id')}) < ("
    cursor, query_counts = None, []
    while True:
        with CaptureQueriesContext(connection) as queries:
            page = keyset_page(tickets, ordering, cursor, 5)
        if cursor:
            query_counts.append(len(queries))
            assert rest in _cursor_condition(queries[0]["sql"]) and " OR " not in queries[0]["sql"]
            if len(queries) == 2:
                assert f"{q(table)}.{q('priority')} < " in _cursor_condition(queries[1]["sql"])
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    # 15 urgent-ish tickets, then 8 low ones, in pages of 5: page 2 stays within the first
    # priority (one query), page 3 reaches its end and goes on in the lower one (two).
    assert query_counts[0] == 1 and 2 in query_counts
