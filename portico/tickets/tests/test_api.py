"""`/api/v1/tickets/`: the portal's and the board's rules through the API (TK-1 … TK-6, EU-5, AUD-1).

People (tickets/tests/conftest.py, root conftest.py): `user_own_tickets` and `colleague` (own
tickets, org_a), `user_org_wide` (organization-wide, org_a), `user_org_b` (organization-wide, org_b),
`user_no_tickets`, and staff `admin`, `admin_scoped` (org_a only), `support`, `finance`, `outsider`.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portico import seed
from portico.access.catalog import TICKETS_ORGANIZATION
from portico.audit.models import AuditEvent
from portico.tickets import services
from portico.tickets.attachments import from_bytes
from portico.tickets.models import Ticket, TicketAttachment, TicketComment, TicketStatus
from portico.tickets.services import TicketDraft
from tests.support import api_client

pytestmark = pytest.mark.django_db

API = "/api/v1/tickets/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _open(member, subject="Printer jams on floor 2", files=(), **kwargs) -> Ticket:
    return services.open_ticket(member, TicketDraft(subject=subject, description="Paper stuck again.", **kwargs), list(files))


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


def _pdf(name="scan.pdf", data=b"%PDF-1.4 scan"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


# TK-1: opening tickets


def test_tk1_end_user_opens_a_ticket_for_themselves_with_an_attachment(user_own_tickets, colleague, org_a):
    client = api_client(user_own_tickets)
    response = client.post(
        API,
        {"subject": "VPN drops", "description": "Every hour.", "priority": 3, "requester": colleague.pk,
         "attachments": [_pdf()]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    # The requester sent is not the caller: an end user always opens tickets for themselves.
    assert (ticket.requester, ticket.organization, ticket.priority) == (user_own_tickets, org_a, 3)
    assert body["requester"] == user_own_tickets.pk and body["status"] == TicketStatus.NEW
    assert "assignee" not in body and "assignee_name" not in body
    [attachment] = client.get(f"{API}{ticket.pk}/attachments/").json()["results"]
    assert (attachment["name"], attachment["comment"]) == ("scan.pdf", None)
    assert AuditEvent.objects.filter(action="ticket.opened", object_id=str(ticket.pk)).exists()  # AUD-1


def test_tk1_without_ticketing_the_list_is_empty_and_create_is_403(user_no_tickets, user_own_tickets):
    _open(user_own_tickets)
    client = api_client(user_no_tickets)
    assert _ids(client.get(API)) == []
    assert client.post(API, {"subject": "Help", "description": "Please"}, format="json").status_code == 403
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("who", ["finance", "outsider"])
def test_tk6_staff_who_work_no_tickets_here_see_none_and_may_not_open_one(request, who, user_own_tickets):
    ticket = _open(user_own_tickets)
    client = api_client(request.getfixturevalue(who))
    assert _ids(client.get(API)) == []
    assert client.get(f"{API}{ticket.pk}/").status_code == 404
    response = client.post(API, {"subject": "x", "description": "y", "requester": user_own_tickets.pk}, format="json")
    # Finance opens no tickets; another partner's Admin does, but not for someone out of reach.
    assert (response.status_code, "requester" in response.json()) == ((403, False) if who == "finance" else (400, True))
    assert Ticket.objects.count() == 1


def test_tk1_technician_opens_a_ticket_for_an_end_user_of_their_partner(admin, user_own_tickets, org_a):
    client = api_client(admin)
    response = client.post(API, {"subject": "Called in", "description": "Phone call", "requester": user_own_tickets.pk}, format="json")
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.requester, ticket.organization) == (user_own_tickets, org_a)
    assert response.json()["assignee"] is None
    missing = client.post(API, {"subject": "Called in", "description": "Phone call"}, format="json")
    assert missing.status_code == 400 and "requester" in missing.json()


def test_tk1_technician_may_not_open_a_ticket_for_another_partners_end_user(admin, foreign_org):
    stranger = seed.end_user(seed.person("sam@litware.test"), foreign_org)
    response = api_client(admin).post(API, {"subject": "x", "description": "y", "requester": stranger.pk}, format="json")
    assert response.status_code == 400 and "requester" in response.json()
    assert not Ticket.objects.exists()


# TK-2, EU-5: who sees what


def test_tk2_own_user_lists_only_tickets_they_reported(user_own_tickets, colleague):
    mine, theirs = _open(user_own_tickets), _open(colleague)
    client = api_client(user_own_tickets)
    assert _ids(client.get(API)) == [mine.pk]
    assert client.get(f"{API}{theirs.pk}/").status_code == 404
    for path in ("comments/", "attachments/", "move/"):
        assert client.get(f"{API}{theirs.pk}/{path}").status_code in (404, 405)
        assert client.post(f"{API}{theirs.pk}/{path}", {}).status_code == 404
    assert client.patch(f"{API}{theirs.pk}/", {"status": "closed"}, format="json").status_code == 404


def test_tk2_org_wide_user_lists_every_ticket_of_their_organization_only(user_org_wide, colleague, user_org_b):
    colleagues, own = _open(colleague), _open(user_org_wide)
    other = _open(user_org_b)
    client = api_client(user_org_wide)
    assert sorted(_ids(client.get(API))) == sorted([colleagues.pk, own.pk])
    assert _ids(client.get(API, {"requester": user_org_wide.pk})) == [own.pk]
    assert client.get(f"{API}{other.pk}/").status_code == 404


def test_eu5_an_all_organizations_user_sees_tickets_of_their_home_organization_only(org_a, org_b, user_org_b):
    roamer = seed.end_user(seed.person("riley@northwind.test"), org_a, all_organizations=True)
    seed.grant(roamer, TICKETS_ORGANIZATION)
    home, elsewhere = _open(roamer), _open(user_org_b)
    client = api_client(roamer)
    assert _ids(client.get(API)) == [home.pk]
    assert _ids(client.get(API, {"organization": org_b.pk})) == []
    assert client.get(f"{API}{elsewhere.pk}/").status_code == 404
    assert client.get(f"{API}{elsewhere.pk}/comments/").status_code == 404


def test_tk6_grp3_scoped_admin_reaches_tickets_of_their_organizations_only(admin_scoped, user_own_tickets, user_org_b):
    mine, other = _open(user_own_tickets), _open(user_org_b)
    client = api_client(admin_scoped)
    assert _ids(client.get(API)) == [mine.pk]
    assert client.get(f"{API}{other.pk}/").status_code == 404
    assert client.patch(f"{API}{other.pk}/", {"priority": 4}, format="json").status_code == 404


# TK-3: comments


def test_tk3_org_wide_user_gets_403_commenting_on_a_colleagues_ticket_and_comments_on_their_own(
    user_org_wide, colleague
):
    theirs, own = _open(colleague), _open(user_org_wide)
    client = api_client(user_org_wide)
    assert client.get(f"{API}{theirs.pk}/comments/").status_code == 200  # visible, read-only
    assert client.post(f"{API}{theirs.pk}/comments/", {"body": "Me too"}, format="json").status_code == 403
    upload = client.post(f"{API}{theirs.pk}/attachments/", {"attachments": [_pdf()]}, format="multipart")
    assert upload.status_code == 403
    assert not TicketComment.objects.filter(ticket=theirs).exists() and not theirs.attachments.exists()
    response = client.post(f"{API}{own.pk}/comments/", {"body": "Still broken"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["body"] == "Still broken" and "internal" not in response.json()
    assert TicketComment.objects.get(ticket=own).source == "api"


def test_tk3_requester_adds_files_alone_as_a_comment(user_own_tickets):
    ticket = _open(user_own_tickets)
    client = api_client(user_own_tickets)
    response = client.post(
        f"{API}{ticket.pk}/attachments/", {"attachments": [_pdf(), _pdf("log.txt", b"line")]}, format="multipart"
    )
    assert response.status_code == 201, response.content
    names = [a["name"] for a in response.json()["attachments"]]
    assert names == ["scan.pdf", "log.txt"]
    listed = client.get(f"{API}{ticket.pk}/attachments/").json()["results"]
    assert [a["name"] for a in listed] == names


def test_tk3_an_empty_comment_is_a_field_error(user_own_tickets):
    ticket = _open(user_own_tickets)
    response = api_client(user_own_tickets).post(f"{API}{ticket.pk}/comments/", {"body": "   "}, format="json")
    assert response.status_code == 400 and "body" in response.json()


# TK-4: close and reopen


def test_tk4_org_wide_user_closes_and_reopens_a_colleagues_ticket(user_org_wide, colleague):
    ticket = _open(colleague)
    client = api_client(user_org_wide)
    response = client.patch(f"{API}{ticket.pk}/", {"status": "closed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert client.patch(f"{API}{ticket.pk}/", {"status": "open"}, format="json").json()["status"] == "open"
    events = AuditEvent.objects.filter(action="ticket.status_changed", object_id=str(ticket.pk))
    assert events.count() == 2 and {e.actor_id for e in events} == {user_org_wide.pk}  # AUD-1


@pytest.mark.parametrize("body", [{"status": "pending"}, {"status": "new"}])
def test_tk4_an_end_user_may_only_close_or_reopen(user_own_tickets, body):
    ticket = _open(user_own_tickets)
    response = api_client(user_own_tickets).patch(f"{API}{ticket.pk}/", body, format="json")
    assert response.status_code == 400 and "status" in response.json()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


@pytest.mark.parametrize("body", [{"priority": 4}, {"assignee": None}, {"status": "closed", "priority": 1}])
def test_tk4_other_changes_by_an_end_user_are_403_and_change_nothing(user_own_tickets, body):
    ticket = _open(user_own_tickets)
    response = api_client(user_own_tickets).patch(f"{API}{ticket.pk}/", body, format="json")
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (TicketStatus.NEW, 2)


def test_tk4_put_is_not_offered(user_own_tickets):
    ticket = _open(user_own_tickets)
    assert api_client(user_own_tickets).put(f"{API}{ticket.pk}/", {"status": "closed"}, format="json").status_code == 405


# TK-5: moves


def test_tk5_move_is_refused_while_the_requester_lacks_access_and_done_with_a_new_requester(
    admin, user_own_tickets, user_org_b, org_a, org_b
):
    ticket = _open(user_own_tickets)
    client = api_client(admin)
    refused = client.post(f"{API}{ticket.pk}/move/", {"organization": org_b.pk}, format="json")
    assert refused.status_code == 400 and "requester" in refused.json()
    ticket.refresh_from_db()
    assert ticket.organization == org_a
    moved = client.post(f"{API}{ticket.pk}/move/", {"organization": org_b.pk, "requester": user_org_b.pk}, format="json")
    assert moved.status_code == 200, moved.content
    assert (moved.json()["organization"], moved.json()["requester"]) == (org_b.pk, user_org_b.pk)
    assert AuditEvent.objects.filter(action="ticket.moved", object_id=str(ticket.pk)).count() == 1  # AUD-1
    # The old requester no longer sees it; the new one does.
    assert api_client(user_own_tickets).get(f"{API}{ticket.pk}/").status_code == 404
    assert api_client(user_org_b).get(f"{API}{ticket.pk}/").status_code == 200


def test_tk5_a_move_to_another_partners_organization_is_a_field_error(admin, user_own_tickets, foreign_org):
    ticket = _open(user_own_tickets)
    response = api_client(admin).post(f"{API}{ticket.pk}/move/", {"organization": foreign_org.pk}, format="json")
    assert response.status_code == 400 and "organization" in response.json()


def test_tk5_an_end_user_who_sees_the_ticket_may_not_move_it(user_org_wide, org_a):
    ticket = _open(user_org_wide)
    response = api_client(user_org_wide).post(f"{API}{ticket.pk}/move/", {"organization": org_a.pk}, format="json")
    assert response.status_code == 403


# TK-6: the board's work


def test_tk6_internal_notes_and_their_files_never_reach_an_end_user(user_org_wide, user_own_tickets, support):
    ticket = _open(user_own_tickets)
    tech = api_client(support)
    note = tech.post(
        f"{API}{ticket.pk}/comments/",
        {"body": "toner is fine", "internal": "true", "attachments": [_pdf("secret.pdf")]},
        format="multipart",
    )
    assert note.status_code == 201, note.content
    assert note.json()["internal"] is True
    reply = tech.post(f"{API}{ticket.pk}/comments/", {"body": "Please restart it"}, format="json")
    assert reply.json()["internal"] is False
    secret = TicketAttachment.objects.get(original_name="secret.pdf")
    assert len(tech.get(f"{API}{ticket.pk}/comments/").json()["results"]) == 2
    assert tech.get(f"{API}{ticket.pk}/attachments/{secret.pk}/").status_code == 200
    for member in (user_own_tickets, user_org_wide):
        client = api_client(member)
        thread = client.get(f"{API}{ticket.pk}/comments/")
        assert thread.status_code == 200
        assert [c["body"] for c in thread.json()["results"]] == ["Please restart it"]
        assert b"toner" not in thread.content and b"internal" not in thread.content
        assert _ids(client.get(f"{API}{ticket.pk}/attachments/")) == []
        assert client.get(f"{API}{ticket.pk}/attachments/{secret.pk}/").status_code == 404
        # Not searchable by end users either.
        assert _ids(client.get(API, {"q": "toner"})) == []


def test_tk6_an_end_user_may_not_write_an_internal_note(user_own_tickets):
    ticket = _open(user_own_tickets)
    client = api_client(user_own_tickets)
    response = client.post(f"{API}{ticket.pk}/comments/", {"body": "psst", "internal": True}, format="json")
    assert response.status_code == 400 and "internal" in response.json()
    upload = client.post(f"{API}{ticket.pk}/attachments/", {"attachments": [_pdf()], "internal": "true"}, format="multipart")
    assert upload.status_code == 400 and "internal" in upload.json()
    assert not TicketComment.objects.exists()


def test_tk6_technician_sets_status_priority_and_assignee_in_one_change(admin, support, user_own_tickets):
    ticket = _open(user_own_tickets)
    response = api_client(admin).patch(
        f"{API}{ticket.pk}/", {"status": "pending", "priority": 4, "assignee": support.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["priority"], body["assignee"]) == ("pending", 4, support.pk)
    assert body["assignee_name"] == support.person.full_name
    assert api_client(admin).patch(f"{API}{ticket.pk}/", {"assignee": None}, format="json").json()["assignee"] is None


@pytest.mark.parametrize("who", ["finance", "user_org_wide"])
def test_tk6_only_a_technician_who_can_work_the_ticket_is_assigned(request, admin, who, user_own_tickets):
    ticket = _open(user_own_tickets)
    response = api_client(admin).patch(f"{API}{ticket.pk}/", {"assignee": request.getfixturevalue(who).pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.json()
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_tk6_a_failed_change_changes_nothing(admin, finance, user_own_tickets):
    ticket = _open(user_own_tickets)
    response = api_client(admin).patch(f"{API}{ticket.pk}/", {"status": "closed", "assignee": finance.pk}, format="json")
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_tk6_list_filters_like_the_board(admin, support, user_own_tickets, user_org_b, org_b):
    printer = _open(user_own_tickets, "Printer jams")
    vpn = _open(user_own_tickets, "VPN drops", priority=4)
    laptop = _open(user_org_b, "Laptop broken")
    services.update_ticket(admin, vpn, assignee=admin)
    services.update_ticket(admin, laptop, assignee=support)
    services.change_status(admin, printer, TicketStatus.CLOSED)
    client = api_client(admin)
    assert set(_ids(client.get(API))) == {printer.pk, vpn.pk, laptop.pk}
    assert set(_ids(client.get(API, {"status": "active"}))) == {vpn.pk, laptop.pk}
    assert _ids(client.get(API, {"status": "closed"})) == [printer.pk]
    assert _ids(client.get(API, {"priority": 4})) == [vpn.pk]
    assert _ids(client.get(API, {"assignee": "me"})) == [vpn.pk]
    assert _ids(client.get(API, {"assignee": "none"})) == [printer.pk]
    assert _ids(client.get(API, {"assignee": support.pk})) == [laptop.pk]
    assert _ids(client.get(API, {"organization": org_b.pk})) == [laptop.pk]
    assert set(_ids(client.get(API, {"requester": user_own_tickets.pk}))) == {printer.pk, vpn.pk}
    assert _ids(client.get(API, {"q": "vpn"})) == [vpn.pk]
    assert _ids(client.get(API, {"q": "printer", "status": "active"})) == []
    assert _ids(client.get(API, {"sort": "priority"}))[0] == vpn.pk
    assert _ids(client.get(API, {"sort": "oldest"})) == [printer.pk, vpn.pk, laptop.pk]


def test_tk6_an_end_user_may_not_filter_by_assignee(user_own_tickets):
    response = api_client(user_own_tickets).get(API, {"assignee": "none"})
    assert response.status_code == 400 and "assignee" in response.json()


def test_tk1_search_finds_words_of_public_comments(user_own_tickets, support):
    ticket = _open(user_own_tickets)
    services.comment_on(support, ticket, "Replaced the fuser unit")
    assert _ids(api_client(user_own_tickets).get(API, {"q": "fuser"})) == [ticket.pk]


# Pages


def test_keyset_pages_walk_every_ticket_once_in_each_order(admin, user_own_tickets):
    tickets = [_open(user_own_tickets, f"Ticket {i}") for i in range(7)]
    Ticket.objects.update(updated_at=tickets[0].updated_at)  # tied timestamps: the id decides
    client = api_client(admin)
    for sort in ("updated", "newest", "oldest", "priority"):
        seen, url = [], f"{API}?page_size=3&sort={sort}"
        while url:
            body = client.get(url).json()
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
        assert sorted(seen) == sorted(t.pk for t in tickets) and len(seen) == 7, sort


def test_a_cursor_that_does_not_decode_is_the_first_page(admin, user_own_tickets):
    ticket = _open(user_own_tickets)
    assert _ids(api_client(admin).get(API, {"cursor": "not-a-cursor"})) == [ticket.pk]


def test_a_list_of_25_costs_the_same_queries_as_a_list_of_one(
    user_org_wide, colleague, support, django_assert_max_num_queries, django_assert_num_queries
):
    first = _open(colleague)
    services.update_ticket(support, first, assignee=support)
    services.comment_on(support, first, "On it", [from_bytes("a.txt", b"a")])
    services.comment_on(support, first, "note", [from_bytes("b.txt", b"b")], internal=True)
    for member in (user_org_wide, support):
        client = api_client(member)
        counts = {}
        for path in (API, f"{API}{first.pk}/comments/", f"{API}{first.pk}/attachments/"):
            with django_assert_max_num_queries(12) as one:
                assert client.get(path).status_code == 200
            counts[path] = len(one.captured_queries)
        for i in range(24):
            ticket = _open(colleague, f"Ticket {i}")
            services.update_ticket(support, ticket, assignee=support)
            services.comment_on(support, first, f"Reply {i}", [from_bytes(f"r{i}.txt", b"r")])
        for path, count in counts.items():
            with django_assert_num_queries(count):
                response = client.get(path)
            assert len(response.json()["results"]) >= 25 if path == API else True
        Ticket.objects.exclude(pk=first.pk).delete()
        TicketComment.objects.filter(body__startswith="Reply").delete()


# Downloads


def test_tk1_download_is_the_original_file_as_a_private_unsniffed_attachment(user_own_tickets):
    ticket = _open(user_own_tickets, files=[from_bytes("Überweisung.pdf", b"%PDF-1.4 x")])
    attachment = ticket.attachments.get()
    response = api_client(user_own_tickets).get(f"{API}{ticket.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 x"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''%C3%9Cberweisung.pdf")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_tk2_an_attachment_is_looked_up_through_its_ticket(user_own_tickets):
    first = _open(user_own_tickets, files=[from_bytes("a.pdf", b"%PDF a")])
    second = _open(user_own_tickets)
    attachment = first.attachments.get()
    client = api_client(user_own_tickets)
    assert client.get(f"{API}{second.pk}/attachments/{attachment.pk}/").status_code == 404
    assert client.get(f"{API}{first.pk}/attachments/{attachment.pk}/").status_code == 200


# Bad input


ONE_MB = "x" * 1_000_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "", "description": "d"}, "subject"),
        ({"subject": "x" * 201, "description": "d"}, "subject"),
        ({"subject": ONE_MB, "description": "d"}, "subject"),
        ({"subject": "ok", "description": "x" * 50_001}, "description"),
        ({"subject": "a\x00b", "description": "d"}, "subject"),
        ({"subject": ["a"], "description": "d"}, "subject"),
        ({"subject": {"a": 1}, "description": "d"}, "subject"),
        ({"subject": "ok", "description": "d", "priority": "urgent"}, "priority"),
        ({"subject": "ok", "description": "d", "priority": 2**64}, "priority"),
        ({"subject": "ok", "description": "d", "attachments": ["not a file"]}, "attachments"),
    ],
)
def test_bad_ticket_bodies_are_field_errors(user_own_tickets, body, field):
    response = api_client(user_own_tickets).post(API, body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content[:300]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("body", [[], ["subject"], 42, None, "subject"])
def test_a_body_that_is_not_an_object_is_a_400(user_own_tickets, body):
    assert api_client(user_own_tickets).post(API, body, format="json").status_code == 400


@pytest.mark.parametrize("requester", [2**63, 2**64, -1, 0, "abc", True, 1.5])
def test_requester_ids_that_cannot_be_ids_are_field_errors(admin, requester):
    response = api_client(admin).post(API, {"subject": "s", "description": "d", "requester": requester}, format="json")
    assert response.status_code == 400 and "requester" in response.json()


@pytest.mark.parametrize("value", [2**63, 2**64, "99999999999999999999"])
def test_64_bit_overflow_ids_are_404_or_field_errors(admin, user_own_tickets, value):
    ticket = _open(user_own_tickets)
    client = api_client(admin)
    assert client.get(f"{API}{value}/").status_code == 404
    assert client.get(f"{API}{value}/comments/").status_code == 404
    assert client.get(f"{API}{ticket.pk}/attachments/{value}/").status_code == 404
    for name in ("organization", "requester", "assignee"):
        response = client.get(API, {name: value})
        assert response.status_code == 400 and name in response.json()
    moved = client.post(f"{API}{ticket.pk}/move/", {"organization": value}, format="json")
    assert moved.status_code == 400 and "organization" in moved.json()
    assigned = client.patch(f"{API}{ticket.pk}/", {"assignee": value}, format="json")
    assert assigned.status_code == 400 and "assignee" in assigned.json()


@pytest.mark.parametrize("query", [{"q": "a\x00b"}, {"status": "gone"}, {"priority": "9"}, {"sort": "random"}, {"q": "x" * 201}])
def test_bad_filters_are_field_errors(admin, query):
    response = api_client(admin).get(API, query)
    assert response.status_code == 400 and set(query) <= set(response.json())


def test_oversized_empty_and_disallowed_uploads_are_field_errors_naming_each_file(user_own_tickets, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 10
    ticket = _open(user_own_tickets)
    files = [
        SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain"),
        SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream"),
    ]
    response = api_client(user_own_tickets).post(f"{API}{ticket.pk}/attachments/", {"attachments": files}, format="multipart")
    assert response.status_code == 400
    errors = response.json()["attachments"]
    assert "big.txt" in errors[0] and "run.exe" in errors[1]
    empty = SimpleUploadedFile("empty.txt", b"", content_type="text/plain")
    response = api_client(user_own_tickets).post(f"{API}{ticket.pk}/attachments/", {"attachments": [empty]}, format="multipart")
    assert response.status_code == 400 and "attachments" in response.json()
    assert not TicketAttachment.objects.exists() and not TicketComment.objects.exists()


def test_more_than_ten_files_are_refused(user_own_tickets):
    ticket = _open(user_own_tickets)
    files = [SimpleUploadedFile(f"{i}.txt", b"x", content_type="text/plain") for i in range(11)]
    response = api_client(user_own_tickets).post(f"{API}{ticket.pk}/attachments/", {"attachments": files}, format="multipart")
    assert response.status_code == 400 and "attachments" in response.json()
    assert not TicketAttachment.objects.exists()


def test_a_body_larger_than_every_attachment_allowed_is_413_before_it_is_read(user_own_tickets, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 10
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    ticket = _open(user_own_tickets)
    big = SimpleUploadedFile("big.txt", b"x" * 2000, content_type="text/plain")
    response = api_client(user_own_tickets).post(f"{API}{ticket.pk}/attachments/", {"attachments": [big]}, format="multipart")
    assert response.status_code == 413
    assert not TicketAttachment.objects.exists()


def test_uploads_must_be_multipart(user_own_tickets):
    ticket = _open(user_own_tickets)
    response = api_client(user_own_tickets).post(f"{API}{ticket.pk}/attachments/", {"attachments": ["x"]}, format="json")
    assert response.status_code == 415


# The schema


def test_the_schema_describes_every_ticket_operation_without_warnings(client):
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    problems = [m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if "icket" in m]
    assert problems == []
    paths = response.json()["paths"]
    assert {
        f"{API}", f"{API}{{id}}/", f"{API}{{id}}/move/", f"{API}{{id}}/comments/", f"{API}{{id}}/attachments/",
        f"{API}{{id}}/attachments/{{attachment_pk}}/",
    } <= set(paths)
    assert set(paths[f"{API}{{id}}/"]) == {"get", "patch"}


def test_options_describes_the_resource_without_error(user_own_tickets, admin):
    ticket = _open(user_own_tickets)
    for member in (user_own_tickets, admin):
        assert api_client(member).options(API).status_code == 200
        assert api_client(member).options(f"{API}{ticket.pk}/").status_code == 200
