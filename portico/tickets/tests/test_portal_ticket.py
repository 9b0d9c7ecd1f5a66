"""A new ticket and a ticket's page in the portal, through the real pages (TK-1, TK-2, TK-3,
TK-4, TK-6): what is shown, who may comment, close and reopen, and what bad input gets."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given

from portico import seed
from portico.audit.models import AuditEvent
from portico.tickets import services
from portico.tickets.attachments import from_bytes
from portico.tickets.models import Ticket, TicketAttachment, TicketComment, TicketStatus
from tests.bad_input import FUZZ, NASTY_STRINGS, assert_handled, encodings, form, post

pytestmark = pytest.mark.django_db

NEW = "/portal/tickets/new/"
ANSWERS = {200, 302, 400, 403, 404}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def pdf(name="scan.pdf", size=None):
    return SimpleUploadedFile(name, b"%PDF-1.4 " + b"x" * (size or 10), content_type="application/pdf")


def page_of(ticket) -> str:
    return f"/portal/tickets/{ticket.pk}/"


# A new ticket (TK-1)


def test_tk1_end_user_opens_a_ticket_with_an_attachment(user_own_tickets, org_a, signed_in):
    client = signed_in(user_own_tickets)
    form_page = client.get(NEW).content.decode()
    assert 'type="file" name="attachments" multiple' in form_page and "Urgency" in form_page
    response = client.post(NEW, {
        "subject": "Printer jams", "description": "Paper stuck.\nSince Monday.", "priority": "3",
        "attachments": [pdf(), SimpleUploadedFile("notes.txt", b"tray 2", content_type="text/plain")],
    })
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(ticket)
    assert (ticket.requester, ticket.organization, ticket.subject, ticket.priority) == (
        user_own_tickets, org_a, "Printer jams", 3
    )
    assert sorted(ticket.attachments.values_list("original_name", flat=True)) == ["notes.txt", "scan.pdf"]
    assert AuditEvent.objects.filter(action="ticket.opened", object_id=str(ticket.pk)).exists()
    shown = client.get(page_of(ticket)).content.decode()
    assert f"Ticket #{ticket.pk} is open." in shown
    assert "Paper stuck.<br>Since Monday." in shown
    assert f'href="/tickets/{ticket.pk}/attachments/' in shown and "scan.pdf" in shown


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"subject": "", "description": "x"}, "subject"),
        ({"subject": "   ", "description": "x"}, "subject"),
        ({"subject": "x" * 201, "description": "x"}, "subject"),
        ({"subject": "a\x00b", "description": "x"}, "subject"),
        ({"subject": "Printer", "description": ""}, "description"),
        ({"subject": "Printer", "description": "x" * 50_001}, "description"),
        ({"subject": "Printer", "description": "x", "priority": "9"}, "priority"),
        ({"subject": "Printer", "description": "x", "priority": "urgent"}, "priority"),
    ],
    ids=["empty", "blank", "201-chars", "nul", "no-description", "huge-description", "priority-9", "priority-text"],
)
def test_tk1_bad_ticket_fields_are_field_errors_and_nothing_is_saved(user_own_tickets, signed_in, data, field):
    response = signed_in(user_own_tickets).post(NEW, {"priority": "2", **data})
    assert response.status_code == 200
    assert re.search(rf'data-field="{field}">.*?invalid-feedback', response.content.decode(), re.S)
    assert not Ticket.objects.exists()


def test_tk1_oversized_and_disallowed_files_are_each_named_and_nothing_is_saved(user_own_tickets, signed_in):
    response = signed_in(user_own_tickets).post(NEW, {
        "subject": "", "description": "Logs attached", "priority": "2",
        "attachments": [
            pdf("huge.pdf", size=11 * 1024 * 1024),
            SimpleUploadedFile("setup.exe", b"MZ", content_type="application/octet-stream"),
            SimpleUploadedFile("page.html", b"<script>alert(1)</script>", content_type="text/html"),
            pdf("fine.pdf"),
        ],
    })
    html = response.content.decode()
    assert response.status_code == 200
    assert "huge.pdf is larger than 10.0\xa0MB." in html
    assert "setup.exe: files of this type are not accepted." in html
    assert "page.html: files of this type are not accepted." in html
    assert 'data-field="subject"' in html and "This field is required." in html  # shown together
    assert "choose your files again" in html
    assert not Ticket.objects.exists() and not TicketAttachment.objects.exists()


def test_tk1_more_than_ten_files_are_refused(user_own_tickets, signed_in):
    response = signed_in(user_own_tickets).post(NEW, {
        "subject": "Many", "description": "x", "priority": "2", "attachments": [pdf(f"{i}.pdf") for i in range(11)],
    })
    assert "Attach at most 10 files at once." in response.content.decode()
    assert not Ticket.objects.exists()


def test_tk1_a_body_larger_than_ten_full_attachments_is_refused_before_it_is_read(user_own_tickets, signed_in):
    client = signed_in(user_own_tickets)
    response = client.post(NEW, {"subject": "Big", "description": "x", "priority": "2"}, CONTENT_LENGTH=str(200 * 1024 * 1024))
    assert response.status_code == 413 and "Too large to send" in response.content.decode()
    assert not Ticket.objects.exists()


def test_tk1_the_csrf_check_still_guards_the_upload_pages(user_own_tickets, signed_in):
    client = signed_in(user_own_tickets)
    client.handler.enforce_csrf_checks = True
    response = client.post(NEW, {"subject": "Forged", "description": "x", "priority": "2"})
    assert response.status_code == 403
    assert not Ticket.objects.exists()


@FUZZ
@given(data=form(["subject", "description", "priority", "attachments"]), encoding=encodings)
def test_new_ticket_form_survives_any_input(user_own_tickets_client, data, encoding):
    assert_handled(post(user_own_tickets_client, NEW, data, encoding), ANSWERS)


@pytest.fixture
def user_own_tickets_client(signed_in, user_own_tickets):
    # Signed in once per test, not per example: sign-ins are rate limited (ID-12).
    return signed_in(user_own_tickets)


# The ticket page: the public thread (TK-6)


def test_tk6_ticket_page_shows_the_public_thread_and_never_internal_notes_or_their_files(
    user_own_tickets, support, signed_in
):
    ticket = services.open_ticket(
        user_own_tickets, services.TicketDraft(subject="VPN", description="Drops hourly"), [from_bytes("vpn.log.txt", b"log")]
    )
    services.comment_on(support, ticket, "Please restart.\nThen try again.", [from_bytes("howto.pdf", b"%PDF")])
    services.comment_on(support, ticket, "Customer's router is flaky", [from_bytes("router-notes.pdf", b"%PDF")], internal=True)
    html = signed_in(user_own_tickets).get(page_of(ticket)).content.decode()
    assert "Drops hourly" in html and "vpn.log.txt" in html
    assert "Please restart.<br>Then try again." in html and "howto.pdf" in html and "Support Staff" in html
    assert "flaky" not in html and "router-notes.pdf" not in html
    assert "Contoso" in html and "Olivia User" in html


def test_tk2_tickets_out_of_reach_are_404_for_every_page(user_own_tickets, colleague, user_org_b, signed_in):
    colleagues = seed.ticket(colleague, "Carl's")
    other_org = seed.ticket(user_org_b, "Bea's")
    client = signed_in(user_own_tickets)
    for ticket in (colleagues, other_org):
        assert client.get(page_of(ticket)).status_code == 404
        assert client.post(page_of(ticket), {"body": "Me too"}).status_code == 404
        assert client.post(f"{page_of(ticket)}status/", {"status": "closed"}).status_code == 404
    assert not TicketComment.objects.exists()
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.NEW}


@pytest.mark.parametrize("path", [
    "/portal/tickets/abc/", "/portal/tickets/0/", "/portal/tickets/-1/", "/portal/tickets/99999999999999999999/",
    "/portal/tickets/99999999999999999999/status/", "/portal/tickets/%00/",
])
def test_non_numeric_and_huge_ticket_ids_are_404(user_own_tickets, signed_in, path):
    client = signed_in(user_own_tickets)
    assert client.get(path).status_code == (405 if path.endswith("status/") else 404)
    assert client.post(path, {"status": "closed", "body": "x"}).status_code == 404


# Comments (TK-3)


def test_tk3_requester_comments_with_an_attachment(user_own_tickets, signed_in):
    ticket = seed.ticket(user_own_tickets, "Printer")
    client = signed_in(user_own_tickets)
    assert 'data-testid="comment-form"' in client.get(page_of(ticket)).content.decode()
    response = client.post(page_of(ticket), {"body": "Here is a photo.", "attachments": [pdf("photo.pdf")]})
    assert response.status_code == 302 and response["Location"] == page_of(ticket)
    comment = TicketComment.objects.get()
    assert (comment.author, comment.body, comment.internal) == (user_own_tickets, "Here is a photo.", False)
    assert comment.attachments.get().original_name == "photo.pdf"
    html = client.get(page_of(ticket)).content.decode()
    assert "Your comment is added." in html and "Here is a photo." in html and "photo.pdf" in html


def test_tk3_org_wide_user_gets_no_comment_box_on_a_colleagues_ticket_and_a_crafted_post_is_refused(
    user_org_wide, colleague, signed_in
):
    ticket = seed.ticket(colleague, "Carl's mailbox")
    client = signed_in(user_org_wide)
    html = client.get(page_of(ticket)).content.decode()
    assert 'data-testid="comment-form"' not in html
    assert "Only the person who reported this ticket can comment on it." in html
    response = client.post(page_of(ticket), {"body": "Me too", "attachments": [pdf()]})
    assert response.status_code == 403
    assert not TicketComment.objects.exists() and not TicketAttachment.objects.exists()


def test_tk3_org_wide_user_comments_on_their_own_ticket(user_org_wide, signed_in):
    ticket = seed.ticket(user_org_wide, "Wade's laptop")
    response = signed_in(user_org_wide).post(page_of(ticket), {"body": "Still broken"})
    assert response.status_code == 302 and TicketComment.objects.get().body == "Still broken"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": ""}, "This field is required."),
        ({"body": "x" * 50_001}, "at most 50000 characters"),
        ({"body": "a\x00b"}, "Null characters are not allowed."),
        ({"body": "See file", "attachments": [SimpleUploadedFile("run.exe", b"MZ")]}, "run.exe: files of this type"),
        ({"body": "See file", "attachments": [pdf("big.pdf", size=11 * 1024 * 1024)]}, "big.pdf is larger than"),
    ],
    ids=["empty", "huge", "nul", "exe", "11mb"],
)
def test_tk3_bad_comments_are_field_errors_and_nothing_is_saved(user_own_tickets, signed_in, data, message):
    ticket = seed.ticket(user_own_tickets, "Printer")
    response = signed_in(user_own_tickets).post(page_of(ticket), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not TicketComment.objects.exists() and not TicketAttachment.objects.exists()


def test_tk3_a_comment_body_too_large_is_refused_before_it_is_read(user_own_tickets, signed_in):
    ticket = seed.ticket(user_own_tickets, "Printer")
    response = signed_in(user_own_tickets).post(page_of(ticket), {"body": "x"}, CONTENT_LENGTH=str(10**9))
    assert response.status_code == 413 and f'href="{page_of(ticket)}"' in response.content.decode()
    assert not TicketComment.objects.exists()


@FUZZ
@given(data=form(["body", "attachments", "internal"]), encoding=encodings)
def test_comment_form_survives_any_input(user_own_tickets_client, user_own_tickets, data, encoding):
    ticket = Ticket.objects.filter(requester=user_own_tickets).first() or seed.ticket(user_own_tickets, "Fuzz")
    assert_handled(post(user_own_tickets_client, page_of(ticket), data, encoding), ANSWERS)
    assert not TicketComment.objects.filter(internal=True).exists()  # TK-6: an end user never writes a note


# Close and reopen (TK-4)


def test_tk4_org_wide_user_closes_and_reopens_a_colleagues_ticket(user_org_wide, colleague, signed_in):
    ticket = seed.ticket(colleague, "Carl's mailbox")
    client = signed_in(user_org_wide)
    assert "Close ticket" in client.get(page_of(ticket)).content.decode()
    response = client.post(f"{page_of(ticket)}status/", {"status": "closed"})
    assert response.status_code == 302 and response["Location"] == page_of(ticket)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    html = client.get(page_of(ticket)).content.decode()
    assert "The ticket is closed." in html and "Reopen ticket" in html
    client.post(f"{page_of(ticket)}status/", {"status": "open"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert AuditEvent.objects.filter(action="ticket.status_changed", object_id=str(ticket.pk)).count() == 2


@pytest.mark.parametrize("status", ["pending", "new", "", "\x00", "closed\x00"] + NASTY_STRINGS[:6])
def test_tk4_an_end_user_may_only_close_or_reopen(user_own_tickets, signed_in, status):
    ticket = seed.ticket(user_own_tickets, "Printer", status=TicketStatus.OPEN)
    client = signed_in(user_own_tickets)
    response = client.post(f"{page_of(ticket)}status/", {"status": status})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert 'alert-danger' in client.get(page_of(ticket)).content.decode()


def test_tk4_status_changes_are_posts_only(user_own_tickets, signed_in):
    ticket = seed.ticket(user_own_tickets, "Printer")
    assert signed_in(user_own_tickets).get(f"{page_of(ticket)}status/").status_code == 405


# Queries


def _queries_of(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_a_long_thread_costs_the_same_queries_as_a_short_one(user_own_tickets, support, signed_in, django_assert_max_num_queries):
    ticket = seed.ticket(user_own_tickets, "Printer")
    services.comment_on(support, ticket, "First", [from_bytes("a.pdf", b"%PDF")])
    client = signed_in(user_own_tickets)
    short = _queries_of(client, page_of(ticket))
    for i in range(25):
        services.comment_on(support if i % 2 else user_own_tickets, ticket, f"Reply {i}", [from_bytes(f"{i}.pdf", b"%PDF")])
    with django_assert_max_num_queries(short):
        html = client.get(page_of(ticket)).content.decode()
    assert html.count("data-comment=") == 26 and html.count("data-attachment=") == 26
