"""The technicians' ticket board (TK-6): who reaches it, its filters, sorting and keyset pages."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico import seed
from portico.tickets.models import InboundEmail, InboundState, TicketStatus
from portico.tickets.views import board as board_views

pytestmark = pytest.mark.django_db

BOARD = "/console/tickets/"


def shown(response) -> list[int]:
    """The ticket numbers on a board page, in their order."""
    assert response.status_code == 200, response.content[:500]
    return [int(n) for n in re.findall(r'data-ticket="(\d+)"', response.content.decode())]


@pytest.fixture
def world(user_own_tickets, colleague, user_org_b, support, admin):
    """Tickets of org_a and org_b in every status and priority; some assigned."""
    made = {
        "printer": seed.ticket(user_own_tickets, "Printer jams on floor 2", priority=2),
        "vpn": seed.ticket(colleague, "VPN drops every hour", priority=4, assignee=support),
        "laptop": seed.ticket(user_own_tickets, "New laptop for Olivia", status=TicketStatus.PENDING, assignee=admin),
        "old": seed.ticket(colleague, "Old monitor flickers", status=TicketStatus.CLOSED, priority=4),
        "fabrikam": seed.ticket(user_org_b, "Fabrikam mailbox full", status=TicketStatus.OPEN, priority=3),
    }
    return made


def pks(world, *names) -> set[int]:
    return {world[n].pk for n in names}


@pytest.mark.parametrize("who", ["owner", "super_admin", "admin", "support"])
def test_tk6_every_technician_role_sees_the_open_tickets_of_the_partner(request, who, world, signed_in, foreign_org):
    foreign = seed.ticket(seed.end_user(seed.person("lit@litware.test"), foreign_org), "Not ours")
    client = signed_in(request.getfixturevalue(who))
    rows = set(shown(client.get(BOARD)))
    # Open ones by default (TK-6): everything but the closed ticket, never another partner's.
    assert rows == pks(world, "printer", "vpn", "laptop", "fabrikam")
    assert foreign.pk not in set(shown(client.get(BOARD, {"status": "all"})))


@pytest.mark.parametrize("who", ["finance", "outsider", "user_own_tickets"])
def test_tk6_finance_outsiders_and_end_users_reach_no_ticket_of_the_partner(request, who, world, signed_in):
    client = signed_in(request.getfixturevalue(who))
    ticket = world["printer"]
    if who == "outsider":
        # Another partner's Admin has a board of their own, without our tickets.
        assert shown(client.get(BOARD, {"status": "all"})) == []
    else:
        for url in (BOARD, f"{BOARD}new/", f"{BOARD}held-mail/"):
            assert client.get(url).status_code == 404, url
    assert client.get(f"{BOARD}{ticket.pk}/").status_code == 404
    for url in (f"{BOARD}{ticket.pk}/", f"{BOARD}{ticket.pk}/update/", f"{BOARD}{ticket.pk}/move/"):
        data = {"body": "hi", "visibility": "public", "status": "closed", "priority": 1, "organization": ticket.organization_id}
        assert client.post(url, data).status_code == 404, url
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and not ticket.comments.exists()


def test_tk6_grp3_scoped_admin_sees_and_reaches_only_their_organizations(admin_scoped, world, signed_in, org_b):
    client = signed_in(admin_scoped)
    assert set(shown(client.get(BOARD, {"status": "all"}))) == pks(world, "printer", "vpn", "laptop", "old")
    # Asking for the other organization by id is a field error, and shows nothing of it.
    response = client.get(BOARD, {"status": "all", "organization": org_b.pk})
    assert set(shown(response)) == pks(world, "printer", "vpn", "laptop", "old")
    assert "is-invalid" in response.content.decode()
    other = world["fabrikam"]
    assert client.get(f"{BOARD}{other.pk}/").status_code == 404
    for url, data in (
        (f"{BOARD}{other.pk}/", {"body": "Hello", "visibility": "public"}),
        (f"{BOARD}{other.pk}/update/", {"status": "closed", "priority": 1, "assignee": ""}),
        (f"{BOARD}{other.pk}/move/", {"organization": other.organization_id}),
    ):
        assert client.post(url, data).status_code == 404, url
    other.refresh_from_db()
    assert (other.status, other.priority) == (TicketStatus.OPEN, 3) and not other.comments.exists()


def test_tk6_status_filter_open_ones_any_and_each_status(admin, world, signed_in):
    client = signed_in(admin)
    assert set(shown(client.get(BOARD, {"status": "active"}))) == pks(world, "printer", "vpn", "laptop", "fabrikam")
    assert set(shown(client.get(BOARD, {"status": "all"}))) == pks(world, "printer", "vpn", "laptop", "old", "fabrikam")
    assert set(shown(client.get(BOARD, {"status": "new"}))) == pks(world, "printer", "vpn")
    assert set(shown(client.get(BOARD, {"status": "open"}))) == pks(world, "fabrikam")
    assert set(shown(client.get(BOARD, {"status": "pending"}))) == pks(world, "laptop")
    assert set(shown(client.get(BOARD, {"status": "closed"}))) == pks(world, "old")


def test_tk6_priority_assignee_organization_and_requester_filters_narrow(admin, support, world, signed_in, org_b, user_own_tickets):
    client = signed_in(admin)
    every = {"status": "all"}
    assert set(shown(client.get(BOARD, every | {"priority": 4}))) == pks(world, "vpn", "old")
    assert set(shown(client.get(BOARD, every | {"assignee": "me"}))) == pks(world, "laptop")
    assert set(shown(client.get(BOARD, every | {"assignee": "none"}))) == pks(world, "printer", "old", "fabrikam")
    assert set(shown(client.get(BOARD, every | {"assignee": support.pk}))) == pks(world, "vpn")
    assert set(shown(client.get(BOARD, every | {"organization": org_b.pk}))) == pks(world, "fabrikam")
    assert set(shown(client.get(BOARD, every | {"requester": user_own_tickets.pk}))) == pks(world, "printer", "laptop")
    assert set(shown(client.get(BOARD, every | {"requester": "carl"}))) == pks(world, "vpn", "old")
    assert set(shown(client.get(BOARD, every | {"requester": "bea@fabrikam"}))) == pks(world, "fabrikam")
    assert set(shown(client.get(BOARD, every | {"requester": "Olivia User"}))) == pks(world, "printer", "laptop")
    assert set(shown(client.get(BOARD, every | {"q": "printer"}))) == pks(world, "printer")


def test_tk6_filters_combine(admin, world, signed_in, org_a, colleague):
    client = signed_in(admin)
    assert set(shown(client.get(BOARD, {"status": "all", "priority": 4, "organization": org_a.pk}))) == pks(world, "vpn", "old")
    assert set(shown(client.get(BOARD, {"status": "active", "priority": 4, "organization": org_a.pk}))) == pks(world, "vpn")
    assert shown(client.get(BOARD, {"status": "closed", "requester": colleague.pk, "q": "monitor"})) == [world["old"].pk]
    assert shown(client.get(BOARD, {"status": "closed", "requester": colleague.pk, "q": "vpn"})) == []


def test_tk6_requester_link_names_the_person_and_a_saved_url_reopens_the_same_view(admin, world, signed_in, user_own_tickets):
    client = signed_in(admin)
    url = f"{BOARD}?status=all&priority=&assignee=&organization=&requester={user_own_tickets.pk}&sort=oldest"
    first = client.get(url)
    assert shown(first) == [world["printer"].pk, world["laptop"].pk]
    html = first.content.decode()
    assert "olivia@contoso.test" in html  # the requester named by the link
    assert '<option value="oldest" selected>' in html and '<option value="all" selected>' in html
    assert shown(client.get(url)) == shown(first)


def test_tk6_quick_links(admin, support, world, signed_in):
    client = signed_in(support)
    html = client.get(BOARD).content.decode()
    links = dict(re.findall(r'href="\?([^"]+)" data-quick="(\w+)"', html))
    queries = {name: query.replace("&amp;", "&") for query, name in links.items()}
    assert set(shown(client.get(f"{BOARD}?{queries['mine']}"))) == pks(world, "vpn")
    assert set(shown(client.get(f"{BOARD}?{queries['unassigned']}"))) == pks(world, "printer", "fabrikam")
    assert set(shown(client.get(f"{BOARD}?{queries['urgent']}"))) == pks(world, "vpn")
    assert 'aria-current="page">Urgent' in client.get(f"{BOARD}?{queries['urgent']}").content.decode()


def test_tk6_with_many_organizations_the_organization_filter_searches_by_name(admin, partner, world, signed_in):
    from portico.tenancy.forms import ORGANIZATION_MENU_LIMIT
    from portico.tenancy.models import Organization

    Organization.objects.bulk_create([Organization(partner=partner, name=f"Extra {i}") for i in range(ORGANIZATION_MENU_LIMIT)])
    client = signed_in(admin)
    assert "Extra 17" not in client.get(BOARD).content.decode()
    assert set(shown(client.get(BOARD, {"status": "all", "organization": "fabri"}))) == pks(world, "fabrikam")
    # A number is an organization's id (links carry it), not a search for names holding it.
    fabrikam = world["fabrikam"].organization_id
    assert set(shown(client.get(BOARD, {"status": "all", "organization": fabrikam}))) == pks(world, "fabrikam")


def test_tk6_a_requester_search_matching_too_many_people_asks_for_more(admin, world, signed_in, monkeypatch):
    monkeypatch.setattr(board_views, "REQUESTER_MATCHES", 1)
    client = signed_in(admin)
    response = client.get(BOARD, {"status": "all", "requester": "user"})  # Olivia, Carl and Bea User
    assert "More than 1 people match" in response.content.decode()
    assert set(shown(client.get(BOARD, {"status": "all", "requester": "carl"}))) == pks(world, "vpn", "old")


def test_tk6_sorting(admin, world, signed_in):
    client = signed_in(admin)
    every = {"status": "all"}
    by_id = sorted(pks(world, "printer", "vpn", "laptop", "old", "fabrikam"))
    assert shown(client.get(BOARD, every | {"sort": "oldest"})) == by_id
    assert shown(client.get(BOARD, every | {"sort": "newest"})) == by_id[::-1]
    urgent_first = shown(client.get(BOARD, every | {"sort": "priority"}))
    assert set(urgent_first[:2]) == pks(world, "vpn", "old") and urgent_first[2] == world["fabrikam"].pk
    # Default: recently updated first.
    assert shown(client.get(BOARD, every)) == by_id[::-1]


def test_tk6_keyset_pages_walk_every_ticket_once_and_a_crafted_cursor_is_the_first_page(
    admin, user_own_tickets, signed_in, monkeypatch
):
    monkeypatch.setattr(board_views, "PAGE_SIZE", 3)
    made = [seed.ticket(user_own_tickets, f"Ticket {i}").pk for i in range(8)]
    client = signed_in(admin)
    seen, url = [], f"{BOARD}?status=all&sort=oldest"
    while url:
        response = client.get(url)
        seen += shown(response)
        found = re.search(r'rel="next" href="\?([^"]+)"', response.content.decode())
        url = f"{BOARD}?{found.group(1).replace('&amp;', '&')}" if found else None
    assert seen == made
    crafted = ["eyJkIjoic2lkZXdheXMiLCJ2IjpbMV19", "eyJkIjoibmV4dCIsInYiOlsiMSJdfQ", "eyJkIjoibmV4dCIsInYiOlsxLDIsM119",
               "eyJkIjoibmV4dCIsInYiOlsxODQ0Njc0NDA3MzcwOTU1MTYxNl19", "x", "%00", "a" * 5000]
    for cursor in crafted:
        assert shown(client.get(BOARD, {"status": "all", "sort": "oldest", "cursor": cursor})) == made[:3]


def test_tk6_board_queries_do_not_grow_with_rows_and_nothing_counts_the_tickets(admin, user_own_tickets, user_org_b, signed_in):
    client = signed_in(admin)
    client.get(BOARD)

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(BOARD, {"status": "all", "q": "ticket"}).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    for i in range(3):
        seed.ticket(user_own_tickets if i % 2 else user_org_b, f"Ticket {i}")
    few = queries()
    for i in range(30):
        seed.ticket(user_own_tickets if i % 2 else user_org_b, f"Ticket {i}", assignee=admin)
    many = queries()
    assert len(many) == len(few) <= 15
    assert not [sql for sql in many if "COUNT(" in sql.upper() and 'FROM "tickets_ticket"' in sql]


def test_tk6_held_mail_button_counts_held_messages(admin, partner, signed_in):
    InboundEmail.objects.bulk_create(
        [InboundEmail(partner=partner, raw=b"x", state=InboundState.HELD, sender=f"s{i}@x.test") for i in range(3)]
        + [InboundEmail(partner=partner, raw=b"x", state=InboundState.PLACED)]
    )
    html = signed_in(admin).get(BOARD).content.decode()
    assert re.search(r'data-testid="held-mail-link">\s*Held mail <span class="badge text-bg-warning">3</span>', html)
