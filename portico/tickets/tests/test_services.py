"""Ticket services: who may open, comment, close and move tickets, and what the requester is mailed."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from portico import seed
from portico.audit.models import AuditEvent
from portico.tickets import services
from portico.tickets.attachments import from_bytes
from portico.tickets.models import Ticket, TicketAttachment, TicketStatus
from portico.tickets.services import TicketDraft
from tests.support import text_body


def _open(member, subject="Printer jams on floor 2", **kwargs):
    return services.open_ticket(member, TicketDraft(subject=subject, description="Paper stuck again.", **kwargs))


@pytest.mark.django_db
def test_tk1_end_user_opens_ticket_in_home_organization_with_attachment(user_own_tickets, org_a, mailbox, mails):
    with mails():
        ticket = services.open_ticket(
            user_own_tickets,
            TicketDraft(subject="  Printer jams  ", description="Paper stuck.", priority=3),
            [from_bytes("../../etc/scan.pdf", b"%PDF-1.4 test")],
        )
    assert (ticket.organization, ticket.requester, ticket.subject, ticket.priority) == (
        org_a, user_own_tickets, "Printer jams", 3
    )
    attachment = ticket.attachments.get()
    assert attachment.original_name == "scan.pdf"
    assert attachment.content_type == "application/pdf"
    assert "scan" not in attachment.file.name and attachment.file.read() == b"%PDF-1.4 test"
    assert AuditEvent.objects.filter(action="ticket.opened", object_id=str(ticket.pk)).exists()
    # The requester hears that the ticket exists, in the thread every later notice joins (TK-7).
    [notice] = mailbox.wait_for("olivia@contoso.test")
    assert notice["Subject"] == f"[Ticket#{ticket.pk}] Printer jams"
    root = ticket.thread_messages.order_by("id").first().message_id
    assert re.fullmatch(rf"ticket-{ticket.pk}\.[0-9a-f]{{16}}@127\.0\.0\.1", root)  # not guessable ahead
    assert notice["In-Reply-To"] == notice["References"] == f"<{root}>"


@pytest.mark.django_db
def test_tk1_without_ticketing_no_ticket_is_opened(user_no_tickets):
    with pytest.raises(PermissionDenied):
        _open(user_no_tickets)
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("subject", "field"),
    [("", "subject"), ("   ", "subject"), ("x" * 201, "subject")],
)
def test_tk1_bad_subject_is_a_field_error(user_own_tickets, subject, field):
    with pytest.raises(ValidationError) as error:
        _open(user_own_tickets, subject=subject)
    assert field in error.value.message_dict
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_tk1_oversized_and_disallowed_attachments_are_refused_and_nothing_is_saved(user_own_tickets, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as error:
        services.open_ticket(
            user_own_tickets,
            TicketDraft(subject="Logs", description="See files"),
            [from_bytes("big.txt", b"x" * 11), from_bytes("run.exe", b"MZ"), from_bytes("page.html", b"<script>")],
        )
    messages = error.value.message_dict["attachments"]
    assert len(messages) == 3 and "big.txt" in messages[0] and "run.exe" in messages[1]
    assert not Ticket.objects.exists() and not TicketAttachment.objects.exists()


@pytest.mark.django_db
def test_tk3_org_wide_user_cannot_comment_on_colleagues_ticket_but_can_close_it(user_org_wide, colleague):
    ticket = _open(colleague)
    assert services.visible_ticket(user_org_wide, ticket.pk) == ticket
    with pytest.raises(PermissionDenied):
        services.comment_on(user_org_wide, ticket, "Me too")
    services.change_status(user_org_wide, ticket, TicketStatus.CLOSED)  # TK-4
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    assert not ticket.comments.exists()


@pytest.mark.django_db
def test_tk2_own_user_does_not_see_colleagues_ticket(user_own_tickets, colleague):
    ticket = _open(colleague)
    with pytest.raises(Http404):
        services.visible_ticket(user_own_tickets, ticket.pk)
    with pytest.raises(Http404):
        services.comment_on(user_own_tickets, ticket, "Hello")


@pytest.mark.django_db
def test_eu5_all_organizations_user_never_sees_another_organizations_tickets(user_org_b, user_own_tickets):
    ticket = _open(user_own_tickets)
    with pytest.raises(Http404):
        services.visible_ticket(user_org_b, ticket.pk)
    with pytest.raises(Http404):
        services.change_status(user_org_b, ticket, TicketStatus.CLOSED)


@pytest.mark.django_db
def test_tk4_requester_reopens_and_may_not_set_other_statuses(user_own_tickets):
    ticket = _open(user_own_tickets)
    services.change_status(user_own_tickets, ticket, TicketStatus.CLOSED)
    services.change_status(user_own_tickets, ticket, TicketStatus.OPEN)
    with pytest.raises(ValidationError):
        services.change_status(user_own_tickets, ticket, TicketStatus.PENDING)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


@pytest.mark.django_db
def test_tk7_technician_reply_is_mailed_to_requester_in_their_language_and_note_is_not(
    user_own_tickets, support, mailbox, mails
):
    user_own_tickets.person.language = "de"
    user_own_tickets.person.save()
    with mails():
        ticket = _open(user_own_tickets)
        services.comment_on(support, ticket, "Internal: the toner is fine", internal=True)
        services.comment_on(support, ticket, "Please restart the printer.")
    notices = mailbox.wait_for("olivia@contoso.test", count=2)
    assert len(notices) == 2  # the internal note sent nothing
    reply = notices[-1]
    body = text_body(reply)
    assert "Please restart the printer." in body and "toner" not in body
    assert f"Support Staff hat auf Ticket #{ticket.pk} geantwortet:" in body
    assert reply["Subject"].startswith(f"[Ticket#{ticket.pk}]")
    assert reply["In-Reply-To"] == notices[0]["In-Reply-To"]
    assert reply["Message-ID"] != notices[0]["Message-ID"]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert "toner" not in ticket.search_text and "restart" in ticket.search_text


@pytest.mark.django_db
def test_tk7_status_change_by_technician_is_mailed_but_requesters_own_close_is_not(
    user_own_tickets, support, mailbox, mails
):
    with mails():
        ticket = _open(user_own_tickets)
        services.change_status(user_own_tickets, ticket, TicketStatus.CLOSED)
        services.change_status(support, ticket, TicketStatus.OPEN)
    notices = mailbox.wait_for("olivia@contoso.test", count=2)
    assert len(notices) == 2 and "Closed" in text_body(notices[-1]) and "Open" in text_body(notices[-1])


@pytest.mark.django_db
def test_requesters_reply_reopens_a_closed_ticket(user_own_tickets):
    ticket = _open(user_own_tickets)
    services.change_status(user_own_tickets, ticket, TicketStatus.CLOSED)
    services.comment_on(user_own_tickets, ticket, "It happened again")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.closed_at is None


@pytest.mark.django_db
def test_tk6_end_user_cannot_write_internal_notes(user_own_tickets):
    ticket = _open(user_own_tickets)
    with pytest.raises(PermissionDenied):
        services.comment_on(user_own_tickets, ticket, "secret", internal=True)


@pytest.mark.django_db
def test_tk5_move_refused_while_requester_lacks_access_then_done_with_new_requester(
    user_own_tickets, user_org_b, org_b, admin
):
    ticket = _open(user_own_tickets)
    with pytest.raises(ValidationError) as error:
        services.move_ticket(admin, ticket, org_b)
    assert "requester" in error.value.message_dict
    ticket.refresh_from_db()
    assert ticket.organization_id == user_own_tickets.organization_id
    services.move_ticket(admin, ticket, org_b, requester=user_org_b)
    ticket.refresh_from_db()
    assert (ticket.organization, ticket.requester) == (org_b, user_org_b)
    event = AuditEvent.objects.get(action="ticket.moved")
    assert event.before["organization"] != event.after["organization"]


@pytest.mark.django_db
def test_tk5_move_to_another_partners_organization_is_refused(user_own_tickets, foreign_org, admin):
    ticket = _open(user_own_tickets)
    with pytest.raises(ValidationError) as error:
        services.move_ticket(admin, ticket, foreign_org)
    assert "organization" in error.value.message_dict


@pytest.mark.django_db
def test_tk6_scoped_admin_reaches_tickets_of_their_organizations_only(admin_scoped, user_own_tickets, user_org_b):
    mine = _open(user_own_tickets)
    other = _open(user_org_b)
    assert services.visible_ticket(admin_scoped, mine.pk) == mine
    with pytest.raises(Http404):
        services.visible_ticket(admin_scoped, other.pk)


@pytest.mark.django_db
def test_tk6_finance_and_outsiders_do_not_see_tickets(finance, outsider, user_own_tickets):
    ticket = _open(user_own_tickets)
    for someone in (finance, outsider):
        with pytest.raises(Http404):
            services.visible_ticket(someone, ticket.pk)


@pytest.mark.django_db
def test_tk6_assignee_must_be_a_technician_who_can_work_the_ticket(user_org_b, admin, admin_scoped, support):
    ticket = _open(user_org_b)
    with pytest.raises(ValidationError):
        services.update_ticket(admin, ticket, assignee=admin_scoped)  # org_b is outside their group
    services.update_ticket(admin, ticket, assignee=support, priority=4)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (support, 4)


@pytest.mark.django_db
def test_technician_opens_ticket_for_an_end_user(support, user_own_tickets, org_a):
    ticket = services.open_ticket(support, TicketDraft("VPN down", "Called in", requester=user_own_tickets))
    assert (ticket.organization, ticket.requester) == (org_a, user_own_tickets)


@pytest.mark.django_db
def test_huge_comment_is_a_field_error(user_own_tickets):
    ticket = seed.ticket(user_own_tickets, "Slow laptop")
    with pytest.raises(ValidationError) as error:
        services.comment_on(user_own_tickets, ticket, "x" * (services.TEXT_LIMIT + 1))
    assert "body" in error.value.message_dict
