"""Hostile input to every form of the technicians' board (TK-5, TK-6, TK-7): the filters, a new
ticket, a reply, status / priority / assignee, a move, held mail. Never a 500; a refused request
changes nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given

from portico import seed
from portico.audit.models import AuditEvent
from portico.tickets.models import InboundEmail, InboundState, Ticket, TicketComment
from tests.bad_input import FUZZ, NON_UTF8_BODIES, assert_handled, encodings, form, post

pytestmark = pytest.mark.django_db

BOARD = "/console/tickets/"
# A body past DATA_UPLOAD_MAX_MEMORY_SIZE (several 1 MB values) is Django's 400, before any view runs.
HANDLED = {200, 302, 400}
FILTERS = ["q", "status", "priority", "assignee", "organization", "requester", "sort", "cursor"]


@pytest.fixture
def admin_client(signed_in, admin):
    # Signed in once per test, not per example: sign-ins are rate limited (ID-12).
    return signed_in(admin)


@pytest.fixture
def ticket(user_own_tickets, user_org_b):
    seed.ticket(user_org_b, "Fabrikam mailbox full")
    return seed.ticket(user_own_tickets, "Printer jams on floor 2")


def _state(ticket: Ticket) -> tuple:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (ticket.status, ticket.priority, ticket.assignee_id, ticket.organization_id, ticket.requester_id,
            TicketComment.objects.filter(ticket=ticket).count())


@FUZZ
@given(data=form(FILTERS))
def test_tk6_board_filters_survive_any_query(admin_client, ticket, data):
    assert_handled(admin_client.get(f"{BOARD}?{urlencode(data, doseq=True)}"), {200})


@FUZZ
@given(data=form(["who", "requester", "subject", "description", "priority"]), encoding=encodings)
def test_tk6_new_ticket_form_survives_any_input(admin_client, ticket, data, encoding):
    before = Ticket.objects.count()
    assert_handled(admin_client.get(f"{BOARD}new/?{urlencode(data, doseq=True)}"), {200})
    response = post(admin_client, f"{BOARD}new/", data, encoding)
    assert_handled(response, HANDLED)
    if response.status_code != 302:
        assert Ticket.objects.count() == before


@FUZZ
@given(data=form(["visibility", "body"]), encoding=encodings)
def test_tk6_reply_form_survives_any_input(admin_client, ticket, data, encoding):
    before = TicketComment.objects.count()
    response = post(admin_client, f"{BOARD}{ticket.pk}/", data, encoding)
    assert_handled(response, HANDLED)
    if response.status_code != 302:
        assert TicketComment.objects.count() == before


@FUZZ
@given(data=form(["status", "priority", "assignee"]), encoding=encodings)
def test_tk6_status_priority_assignee_form_survives_any_input(admin_client, ticket, data, encoding):
    before = _state(ticket)
    response = post(admin_client, f"{BOARD}{ticket.pk}/update/", data, encoding)
    assert_handled(response, HANDLED)
    if response.status_code != 302:
        assert _state(ticket) == before


@FUZZ
@given(data=form(["organization", "requester"]), encoding=encodings)
def test_tk5_move_form_survives_any_input(admin_client, ticket, data, encoding):
    before = _state(ticket)
    events = AuditEvent.objects.filter(action="ticket.moved").count()
    response = post(admin_client, f"{BOARD}{ticket.pk}/move/", data, encoding)
    assert_handled(response, HANDLED)
    if response.status_code != 302:
        assert _state(ticket) == before
        assert AuditEvent.objects.filter(action="ticket.moved").count() == events


@FUZZ
@given(data=form(["ticket", "state", "cursor"]), encoding=encodings)
def test_tk7_held_mail_forms_survive_any_input(admin_client, partner, ticket, data, encoding):
    message = InboundEmail.objects.create(partner=partner, raw=b"From: a@x.test\r\n\r\nhello", state=InboundState.HELD)
    assert_handled(admin_client.get(f"{BOARD}held-mail/?{urlencode(data, doseq=True)}"), {200})
    response = post(admin_client, f"{BOARD}held-mail/{message.pk}/add/", data, encoding)
    assert_handled(response, HANDLED)
    message.refresh_from_db()
    assert message.state == (InboundState.PLACED if response.status_code == 302 else InboundState.HELD)


@pytest.mark.parametrize("body", NON_UTF8_BODIES)
def test_tk6_bytes_that_are_not_utf8_get_no_500(admin_client, ticket, body):
    for url in (f"{BOARD}new/", f"{BOARD}{ticket.pk}/", f"{BOARD}{ticket.pk}/update/", f"{BOARD}{ticket.pk}/move/"):
        response = admin_client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert_handled(response)


@pytest.mark.parametrize("pk", ["0", "-1", "abc", "9" * 30, "١٢"])
def test_tk6_ids_that_are_not_tickets_are_404(admin_client, pk):
    for url in (f"{BOARD}{pk}/", f"{BOARD}{pk}/update/", f"{BOARD}held-mail/{pk}/", f"{BOARD}held-mail/{pk}/raw/"):
        assert admin_client.get(url).status_code in (404, 405)
