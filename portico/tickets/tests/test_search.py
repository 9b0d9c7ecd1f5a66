"""Ticket search (TK-1) on what a person may see: words, prefixes, host names and other words with
punctuation, languages; on PostgreSQL the stored search vector, the index asked first for a few
tickets, and the walk for common words, neither of which may widen the person's list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from portico import seed
from portico.access import policy
from portico.access.policy import Action
from portico.tickets import search
from portico.tickets.models import Ticket, TicketStatus
from portico.tickets.search import search_tickets
from tests.support import PASSWORD

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the stored search vector and its index are PostgreSQL's"
)


@pytest.fixture
def user_foreign(foreign_org):
    """An end user of another partner's organization, whose tickets hold the same words."""
    return seed.end_user(seed.person("lee@litware.test", PASSWORD, first_name="Lee", last_name="User"), foreign_org)


def found(member, text: str, tickets=None) -> list[int]:
    """The ids `member` finds, newest first, searching their scope as the pages do."""
    scope = policy.restrict(tickets if tickets is not None else Ticket.objects.all(), member, Action.VIEW)
    return list(search_tickets(scope.order_by("-id"), text).values_list("pk", flat=True))


def test_tk1_a_rare_word_finds_its_ticket(user_own_tickets):
    seed.ticket(user_own_tickets, "Printer jams")
    error = seed.ticket(user_own_tickets, "Blue screen", "Stop code 0xC97266 after the update")
    assert found(user_own_tickets, "0xC97266") == [error.pk]
    assert found(user_own_tickets, "0xc97266 update") == [error.pk]
    assert found(user_own_tickets, "0xC97267") == []


def test_tk1_a_common_word_finds_every_ticket_holding_it(monkeypatch, user_own_tickets):
    monkeypatch.setattr(search, "FEW", 2)  # three tickets hold it: more than the index is asked for
    printers = [seed.ticket(user_own_tickets, f"Printer {i} is offline") for i in range(3)]
    seed.ticket(user_own_tickets, "VPN drops")
    assert found(user_own_tickets, "offline") == [t.pk for t in reversed(printers)]
    assert found(user_own_tickets, "printer offline") == [t.pk for t in reversed(printers)]


def test_tk1_the_last_word_of_a_term_is_a_prefix(user_own_tickets):
    printer = seed.ticket(user_own_tickets, "Printer offline", "Host PC-04217")
    assert found(user_own_tickets, "print") == [printer.pk]
    assert found(user_own_tickets, "prin off") == [printer.pk]
    assert found(user_own_tickets, "PC-042") == [printer.pk]
    assert found(user_own_tickets, "printers") == []


@pytest.mark.parametrize("text", ["PC-04217", "pc-04217", "04217", "PC 04217", "computer PC-04217", "PC-0421"])
def test_tk1_a_host_name_is_found_whole_or_by_its_parts(user_own_tickets, text):
    seed.ticket(user_own_tickets, "Laptop", "Fan is loud on PC-31337")
    host = seed.ticket(user_own_tickets, "Cannot log in", "My computer PC-04217 says the password expired")
    assert found(user_own_tickets, text) == [host.pk]


@pytest.mark.parametrize(
    ("text", "searches"),
    [
        ("Mail from jane.doe@firma.de bounces", ["jane.doe@firma.de", "firma.de", "firma", "doe"]),
        ("Mail to a@b.com fails", ["a@b.com"]),
        ("Disk full: /var/log/syslog grew", ["/var/log/syslog", "syslog", "var/log"]),
        ("Profile at C:\\Users\\jane\\AppData is broken", ["C:\\Users\\jane", "appdata"]),
        ("Client 2.4.1 crashes", ["2.4.1", "2.4", "client 2.4.1"]),
        ("See https://intranet.example.com/wiki?page=VPN_Setup", ["intranet.example.com", "vpn_setup", "wiki"]),
        ("Share \\\\fs01\\scans is gone", ["\\\\fs01\\scans", "fs01"]),
        ("Package x86_64 won't install", ["x86_64", "won't", "install"]),
        ("Error (0x80070005): access denied", ["0x80070005", "(0x80070005):", "denied"]),
    ],
)
def test_tk1_words_with_punctuation_are_found(user_own_tickets, text, searches):
    seed.ticket(user_own_tickets, "Something else entirely", "Nothing to see")
    ticket = seed.ticket(user_own_tickets, "Ticket", text)
    for searched in searches:
        assert found(user_own_tickets, searched) == [ticket.pk], searched


@postgresql_only
def test_tk1_the_words_of_a_term_must_follow_each_other(user_own_tickets):
    version = seed.ticket(user_own_tickets, "Client 2.4.1 crashes")
    seed.ticket(user_own_tickets, "Client 1.2.4 is fine, and 4 of 2 servers too")
    assert found(user_own_tickets, "2.4.1") == [version.pk]
    assert found(user_own_tickets, "PC-04217") == []


@pytest.mark.parametrize(
    ("text", "searches"),
    [
        ("Der Drucker im Büro druckt keine Umlaute, Größe A4", ["drucker", "büro", "größe", "grö"]),
        ("L'imprimante ne répond plus depuis la mise à jour", ["imprimante", "répond", "l'imprimante"]),
        ("A impressão não funciona na sala de reuniões", ["impressão", "não", "reuniões", "impres"]),
        ("プリンターが動きません。印刷できません", ["プリンター", "印刷"]),
    ],
)
def test_tk1_words_of_every_language_are_found(user_own_tickets, text, searches):
    seed.ticket(user_own_tickets, "Something else entirely", "Nothing to see")
    ticket = seed.ticket(user_own_tickets, "Ticket", text)
    for searched in searches:
        assert found(user_own_tickets, searched) == [ticket.pk], searched


def test_tk1_every_ascii_punctuation_mark_separates_words_in_text_and_search(user_own_tickets):
    tickets = {
        mark: seed.ticket(user_own_tickets, f"alpha{mark}omega{i:02}") for i, mark in enumerate(search.PUNCTUATION)
    }
    for i, (mark, ticket) in enumerate(tickets.items()):
        assert found(user_own_tickets, f"omega{i:02}") == [ticket.pk], mark
        assert found(user_own_tickets, f"alpha{mark}omega{i:02}") == [ticket.pk], mark


@pytest.mark.parametrize("text", ["", "   ", "---", "!!", "'", "\\", "&|!():*<>"])
def test_tk1_a_search_without_words_is_the_whole_list(user_own_tickets, text):
    ticket = seed.ticket(user_own_tickets, "Printer jams")
    assert found(user_own_tickets, text) == [ticket.pk]


def test_tk1_search_reads_public_comments_as_they_are_added(user_own_tickets, support):
    ticket = seed.ticket(user_own_tickets, "Printer jams")
    seed.comment(ticket, support, "Replaced the fuser unit on PC-04217")
    seed.comment(ticket, support, "Toner ordered", internal=True)
    assert found(user_own_tickets, "fuser") == [ticket.pk]
    assert found(user_own_tickets, "04217") == [ticket.pk]
    assert found(user_own_tickets, "toner") == []


@pytest.mark.parametrize("few", [500, 0])
def test_tk1_tk2_search_never_widens_the_list(
    monkeypatch, user_own_tickets, user_org_wide, colleague, user_org_b, user_foreign, admin_scoped, support, few
):
    """Both ways of searching, by the index's few ids (500) and by the walk (0), keep the scope."""
    monkeypatch.setattr(search, "FEW", few)
    own = seed.ticket(user_own_tickets, "Scanner 7 offline")
    colleagues = seed.ticket(colleague, "Scanner offline too")
    other_org = seed.ticket(user_org_b, "Scanner offline at Fabrikam")
    seed.ticket(user_foreign, "Scanner offline at Litware")
    assert found(user_own_tickets, "scanner") == [own.pk]
    assert found(user_org_wide, "scanner") == [colleagues.pk, own.pk]
    assert found(admin_scoped, "scanner") == [colleagues.pk, own.pk]
    assert found(support, "scanner") == [other_org.pk, colleagues.pk, own.pk]
    assert found(support, "scanner", Ticket.objects.filter(organization=user_org_b.organization)) == [other_org.pk]
    assert found(user_foreign, "fabrikam") == []


@postgresql_only
@pytest.mark.parametrize("matching", [3, 4])
def test_tk1_a_few_tickets_are_asked_of_the_index_first_more_are_walked(monkeypatch, support, user_org_wide, matching):
    """FEW is 3 here: three tickets holding the word are an id list, four the match on the walk;
    the caller's filters and order are kept either way."""
    monkeypatch.setattr(search, "FEW", 3)
    scanners = [seed.ticket(user_org_wide, f"Scanner {i}", priority=1 + i % 4) for i in range(matching - 1)]
    closed = seed.ticket(user_org_wide, "Scanner retired", status=TicketStatus.CLOSED, priority=4)
    seed.ticket(user_org_wide, "Printer jams")
    listed = policy.restrict(Ticket.objects.exclude(status=TicketStatus.CLOSED), support, Action.VIEW)
    with CaptureQueriesContext(connection) as queries:
        searched = search_tickets(listed.order_by("-priority", "-id"), "scanner")
        rows = list(searched.values_list("pk", flat=True))
    assert rows == [t.pk for t in sorted(scanners, key=lambda t: (-t.priority, -t.pk))]
    assert closed.pk not in rows
    probe, page = (q["sql"] for q in queries.captured_queries)
    assert "@@" in probe and "LIMIT 4" in probe
    assert ("@@" in page) == (matching > 3)


@postgresql_only
def test_tk1_the_stored_vector_follows_the_text_as_django_writes_it(user_own_tickets):
    ticket = seed.ticket(user_own_tickets, "Printer jams")
    assert found(user_own_tickets, "jams") == [ticket.pk]
    ticket.search_text = "Monitor flickers"
    ticket.save()
    assert found(user_own_tickets, "flickers") == [ticket.pk]
    assert found(user_own_tickets, "jams") == []
    Ticket.objects.filter(pk=ticket.pk).update(search_text="Keyboard PC-04217")
    assert found(user_own_tickets, "04217") == [ticket.pk]
    Ticket.objects.filter(pk=ticket.pk).update(search_text="")
    assert found(user_own_tickets, "keyboard") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM tickets_ticket WHERE id = %s", [ticket.pk])
        assert cursor.fetchone() == ("",)


@postgresql_only
def test_tk1_the_index_is_asked_within_the_lists_partner(monkeypatch, support, user_org_wide, user_foreign):
    """A word in many tickets of another partner and few of this one is still a short id list here."""
    monkeypatch.setattr(search, "FEW", 2)
    ours = seed.ticket(user_org_wide, "Plotter offline")
    for i in range(3):
        seed.ticket(user_foreign, f"Plotter {i} offline")
    listed = policy.restrict(Ticket.objects.all(), support, Action.VIEW)
    assert search.partner_of(listed) == support.partner_id
    assert search.partner_of(Ticket.objects.filter(Q(partner_id=support.partner_id) | Q(status="open"))) is None
    assert search.partner_of(Ticket.objects.exclude(partner_id=support.partner_id)) is None
    with CaptureQueriesContext(connection) as queries:
        assert list(search_tickets(listed, "plotter").values_list("pk", flat=True)) == [ours.pk]
    probe, page = (q["sql"] for q in queries.captured_queries)
    assert '"partner_id" = ' in probe and "@@" not in page
    everyone = search_tickets(Ticket.objects.order_by("id"), "plotter")  # no partner: the walk
    assert len(everyone) == 4 and "@@" in str(everyone.query)
