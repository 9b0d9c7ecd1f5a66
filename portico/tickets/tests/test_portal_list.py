"""The portal's ticket list through the real page (TK-1, TK-2, PERM-3, EU-5): tabs, search,
sorting, keyset pages, bounded queries, and the Tickets card of the portal's home."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico import seed
from portico.access.catalog import TICKETS_ORGANIZATION
from portico.identity.models import Membership, MembershipKind
from portico.tickets import services
from portico.tickets.models import Ticket, TicketStatus
from tests.bad_input import NASTY_STRINGS, assert_handled
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db

LIST = "/portal/tickets/"


def ids_on(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [int(pk) for pk in re.findall(r'<tr data-ticket="(\d+)"', response.content.decode())]


def link(response, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return LIST + html.unescape(found.group(1)) if found else None


def tabs_on(response) -> list[str]:
    return re.findall(r'data-tab="(\w+)"', response.content.decode())


@pytest.fixture
def world(user_own_tickets, user_org_wide, colleague, user_org_b):
    """A ticket of each org_a person (one closed), and one of org_b."""
    tickets = {
        "olivia": seed.ticket(user_own_tickets, "Olivia's printer"),
        "wade": seed.ticket(user_org_wide, "Wade's laptop"),
        "carl": seed.ticket(colleague, "Carl's mailbox"),
        "carl_closed": seed.ticket(colleague, "Carl's old VPN", status=TicketStatus.CLOSED),
        "bea": seed.ticket(user_org_b, "Bea's phone at Fabrikam"),
    }
    return {name: t.pk for name, t in tickets.items()}


def test_tk2_own_user_mine_tab_lists_only_their_tickets(world, user_own_tickets, signed_in):
    client = signed_in(user_own_tickets)
    assert ids_on(client.get(LIST)) == [world["olivia"]]
    assert ids_on(client.get(LIST, {"tab": "mine"})) == [world["olivia"]]


def test_perm3_own_user_is_not_offered_the_organization_tab_and_a_crafted_one_is_their_own(
    world, user_own_tickets, signed_in
):
    client = signed_in(user_own_tickets)
    response = client.get(LIST)
    assert tabs_on(response) == ["mine", "open", "closed"]
    crafted = client.get(LIST, {"tab": "organization"})
    assert ids_on(crafted) == [world["olivia"]]
    assert 'data-tab="mine" aria-current="page"' in crafted.content.decode()


def test_perm3_tk2_org_wide_user_sees_every_ticket_of_their_organization_and_no_other(
    world, user_org_wide, signed_in
):
    client = signed_in(user_org_wide)
    response = client.get(LIST, {"tab": "organization"})
    assert tabs_on(response) == ["mine", "organization", "open", "closed"]
    assert set(ids_on(response)) == {world["olivia"], world["wade"], world["carl"], world["carl_closed"]}
    assert "Carl User" in response.content.decode()  # the requester column of organization-wide users
    assert ids_on(client.get(LIST)) == [world["wade"]]  # "Mine" is the default


def test_tk2_open_and_closed_tabs_split_what_the_user_sees(world, user_org_wide, user_own_tickets, signed_in):
    client = signed_in(user_org_wide)
    assert set(ids_on(client.get(LIST, {"tab": "open"}))) == {world["olivia"], world["wade"], world["carl"]}
    assert ids_on(client.get(LIST, {"tab": "closed"})) == [world["carl_closed"]]
    client.logout()
    client = signed_in(user_own_tickets)
    assert ids_on(client.get(LIST, {"tab": "open"})) == [world["olivia"]]
    assert ids_on(client.get(LIST, {"tab": "closed"})) == []


def test_eu5_org_wide_user_of_another_organization_sees_only_theirs(world, user_org_b, signed_in):
    client = signed_in(user_org_b)
    for tab in ("mine", "organization", "open", "closed", "nonsense"):
        assert set(ids_on(client.get(LIST, {"tab": tab}))) <= {world["bea"]}


def test_eu5_device_access_to_all_organizations_does_not_widen_tickets(world, org_a, signed_in):
    person = seed.person("ada@contoso.test", PASSWORD, first_name="Ada", last_name="User")
    roaming = Membership.objects.create(
        person=person, partner=org_a.partner, kind=MembershipKind.END_USER, organization=org_a, all_organizations=True
    )
    seed.grant(roaming, TICKETS_ORGANIZATION)
    client = signed_in(roaming)
    seen = {pk for tab in ("organization", "open", "closed") for pk in ids_on(client.get(LIST, {"tab": tab}))}
    assert seen == {world["olivia"], world["wade"], world["carl"], world["carl_closed"]}
    assert client.get(f"{LIST}{world['bea']}/").status_code == 404


def test_perm3_user_without_ticketing_finds_no_ticket_pages(user_no_tickets, signed_in):
    client = signed_in(user_no_tickets)
    assert client.get(LIST).status_code == 404
    assert client.get("/portal/tickets/new/").status_code == 404
    assert 'data-testid="open-count"' not in client.get("/portal/").content.decode()


def test_technicians_use_the_board_not_the_portal(support, signed_in):
    assert signed_in(support).get(LIST).status_code == 404


def test_tk1_search_finds_subject_description_and_public_comments_never_internal_notes(
    user_own_tickets, support, signed_in
):
    printer = seed.ticket(user_own_tickets, "Printer jams", "Paper stuck on floor two")
    vpn = seed.ticket(user_own_tickets, "VPN drops", "Every hour")
    services.comment_on(support, vpn, "Please send the client log from yesterday")
    services.comment_on(support, printer, "Toner supplier invoice 4711", internal=True)
    client = signed_in(user_own_tickets)
    assert ids_on(client.get(LIST, {"q": "printer"})) == [printer.pk]
    assert ids_on(client.get(LIST, {"q": "stuck floor"})) == [printer.pk]
    assert ids_on(client.get(LIST, {"q": "client log"})) == [vpn.pk]
    assert ids_on(client.get(LIST, {"q": "toner"})) == []  # TK-6: a note's words find nothing
    assert ids_on(client.get(LIST, {"q": "invoice 4711"})) == []
    assert "No ticket matches your search." in client.get(LIST, {"q": "toner"}).content.decode()


def test_tk2_search_stays_within_scope(world, user_own_tickets, signed_in):
    client = signed_in(user_own_tickets)
    assert ids_on(client.get(LIST, {"q": "Carl", "tab": "open"})) == []
    assert ids_on(client.get(LIST, {"q": "Fabrikam"})) == []


def test_tk1_sorting_by_update_creation_and_urgency(user_own_tickets, signed_in):
    now = timezone.now()
    low = seed.ticket(user_own_tickets, "Low", priority=1)
    urgent = seed.ticket(user_own_tickets, "Urgent", priority=4)
    normal = seed.ticket(user_own_tickets, "Normal", priority=2)
    for ticket, minutes in ((low, 1), (urgent, 3), (normal, 2)):
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now - timedelta(minutes=minutes))
    client = signed_in(user_own_tickets)
    assert ids_on(client.get(LIST)) == [low.pk, normal.pk, urgent.pk]
    assert ids_on(client.get(LIST, {"sort": "newest"})) == [normal.pk, urgent.pk, low.pk]
    assert ids_on(client.get(LIST, {"sort": "oldest"})) == [low.pk, urgent.pk, normal.pk]
    assert ids_on(client.get(LIST, {"sort": "priority"})) == [urgent.pk, normal.pk, low.pk]
    assert ids_on(client.get(LIST, {"sort": "' OR 1=1 --"})) == [low.pk, normal.pk, urgent.pk]


@pytest.mark.parametrize("sort", ["updated", "newest", "oldest", "priority"])
def test_tk1_keyset_pages_walk_every_ticket_once_both_ways_with_tied_update_times(
    user_org_wide, colleague, signed_in, sort
):
    tickets = [seed.ticket(colleague if i % 2 else user_org_wide, f"Ticket {i}", priority=1 + i % 4) for i in range(60)]
    Ticket.objects.update(updated_at=timezone.now())  # every row ties on the time
    client = signed_in(user_org_wide)
    pages = [client.get(LIST, {"tab": "organization", "sort": sort})]
    while link(pages[-1], "next"):
        pages.append(client.get(link(pages[-1], "next")))
    assert [len(ids_on(p)) for p in pages] == [25, 25, 10]
    forward = [pk for p in pages for pk in ids_on(p)]
    assert sorted(forward) == sorted(t.pk for t in tickets)  # nothing twice, nothing missing
    back = pages[-1]
    backward = ids_on(back)
    while link(back, "prev"):
        back = client.get(link(back, "prev"))
        backward = ids_on(back) + backward
    assert backward == forward
    assert "tab=organization" in link(pages[0], "next") and f"sort={sort}" in link(pages[0], "next")


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJkIjoibmV4dCIsInYiOlsiMjAyNC0wMS0wMSIsIjEiXX0"},  # a valid shape, wrong types
        {"cursor": "\x00"},
        {"q": "x" * 1_000_000},
        {"q": "abc\x00def"},
        {"tab": "\x00", "sort": "\x00"},
        {"tab": ["mine", "closed"], "sort": ["newest", "x"]},
    ]
    + [{"q": s, "sort": s, "tab": s, "cursor": s} for s in NASTY_STRINGS],
)
def test_bad_list_input_is_never_a_server_error(world, user_org_wide, signed_in, query):
    response = signed_in(user_org_wide).get(LIST, query)
    assert_handled(response, {200})


def test_a_search_too_long_is_a_field_error_not_a_filter(world, user_own_tickets, signed_in):
    response = signed_in(user_own_tickets).get(LIST, {"q": "x" * 201})
    assert "is-invalid" in response.content.decode()
    assert ids_on(response) == [world["olivia"]]


def _queries_of(client, query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST, query).status_code == 200
    return len(captured)


@pytest.mark.parametrize("tab", ["mine", "organization"])
def test_a_page_of_25_rows_costs_the_same_queries_as_one_row(
    user_org_wide, colleague, signed_in, django_assert_max_num_queries, tab
):
    seed.ticket(user_org_wide, "First")
    seed.ticket(colleague, "Second")
    client = signed_in(user_org_wide)
    few = _queries_of(client, {"tab": tab})
    # On PostgreSQL a search first asks the index how many tickets hold the words: one query more.
    few_found = _queries_of(client, {"tab": tab, "q": "first", "sort": "priority"})
    for i in range(40):
        seed.ticket(colleague if tab == "organization" else user_org_wide, f"More {i}")
    with django_assert_max_num_queries(few):
        assert len(ids_on(client.get(LIST, {"tab": tab}))) == 25
    with django_assert_max_num_queries(few_found):
        assert len(ids_on(client.get(LIST, {"tab": tab, "q": "more", "sort": "priority"}))) == 25


def test_portal_home_card_links_to_the_open_tickets_in_scope(world, user_org_wide, user_own_tickets, signed_in):
    client = signed_in(user_org_wide)
    home = client.get("/portal/").content.decode()
    assert re.search(r'data-testid="open-count">3<', home)  # olivia, wade, carl: org-wide (PERM-3)
    assert 'href="/portal/tickets/?tab=open"' in home
    client.logout()
    home = signed_in(user_own_tickets).get("/portal/").content.decode()
    assert re.search(r'data-testid="open-count">1<', home)
