"""A ticket on the technicians' board (TK-5, TK-6, TK-7): opened for an end user, its thread with
internal notes, public replies, status, priority, assignee, and moves."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portico import seed
from portico.access import policy
from portico.access.policy import Action
from portico.access.roles import StaffRole
from portico.audit.models import AuditEvent
from portico.identity.models import Membership
from portico.tickets import services
from portico.tickets.models import Ticket, TicketComment, TicketPriority, TicketStatus
from tests.support import PASSWORD, text_body

pytestmark = pytest.mark.django_db


def page(ticket: Ticket) -> str:
    return f"/console/tickets/{ticket.pk}/"


def select(html: str, name: str) -> str:
    """The <select> named `name` in a page."""
    return re.search(rf'<select name="{name}".*?</select>', html, re.DOTALL).group(0)


@pytest.fixture
def ticket(user_own_tickets):
    return seed.ticket(user_own_tickets, "Printer jams on floor 2", "Paper stuck again.")


def test_tk6_technician_opens_a_ticket_for_an_end_user_found_by_name(support, user_own_tickets, signed_in, mailbox, mails):
    client = signed_in(support)
    found = client.get("/console/tickets/new/", {"who": "olivia"}).content.decode()
    assert f'value="{user_own_tickets.pk}"' in found and "olivia@contoso.test" in found
    with mails():
        response = client.post(
            "/console/tickets/new/?who=olivia",
            {"requester": user_own_tickets.pk, "subject": "Phone call: Outlook crashes", "description": "Since the update.",
             "priority": TicketPriority.HIGH, "attachments": [SimpleUploadedFile("log.txt", b"crash log")]},
        )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == page(ticket)
    assert (ticket.requester, ticket.organization_id, ticket.priority) == (user_own_tickets, user_own_tickets.organization_id, 3)
    assert ticket.attachments.get().original_name == "log.txt"
    assert AuditEvent.objects.filter(action="ticket.opened", actor=support).exists()
    mailbox.wait_for("olivia@contoso.test")


def test_tk6_scoped_admin_cannot_open_a_ticket_for_an_end_user_out_of_scope(admin_scoped, user_org_b, user_own_tickets, signed_in):
    client = signed_in(admin_scoped)
    assert "bea@fabrikam.test" not in client.get("/console/tickets/new/", {"who": "bea"}).content.decode()
    response = client.post("/console/tickets/new/", {"requester": user_org_b.pk, "subject": "x", "description": "y", "priority": 2})
    assert response.status_code == 200 and "Choose one of your end users." in response.content.decode()
    assert not Ticket.objects.exists()


def test_tk6_internal_note_is_marked_on_the_board_and_never_shown_on_the_portal(
    admin, user_own_tickets, ticket, signed_in, client, mailbox, mails
):
    board = signed_in(admin)
    with mails():
        response = board.post(page(ticket), {"visibility": "internal", "body": "Toner is the culprit, order one."})
    note = TicketComment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{page(ticket)}#comment-{note.pk}"
    assert note.internal
    html = board.get(page(ticket)).content.decode()
    assert "Toner is the culprit" in html
    assert f'data-comment="{note.pk}" data-internal' in html and "Internal note" in html
    assert not mailbox.to("olivia@contoso.test")  # never emailed (TK-6)
    client.logout()
    portal = signed_in(user_own_tickets).get(f"/portal/tickets/{ticket.pk}/")
    assert portal.status_code == 200 and "Printer jams" in portal.content.decode()
    assert "Toner is the culprit" not in portal.content.decode()


def test_tk7_public_reply_with_attachment_is_emailed_to_the_requester(admin, ticket, signed_in, mailbox, mails):
    client = signed_in(admin)
    with mails():
        response = client.post(
            page(ticket),
            {"visibility": "public", "body": "Please restart the printer.", "attachments": [SimpleUploadedFile("steps.pdf", b"%PDF-1.4")]},
        )
    assert response.status_code == 302
    reply = TicketComment.objects.get()
    assert not reply.internal and reply.attachments.get().original_name == "steps.pdf"
    [notice] = mailbox.wait_for("olivia@contoso.test")
    assert notice["Subject"] == f"[Ticket#{ticket.pk}] Printer jams on floor 2"
    assert "Please restart the printer." in text_body(notice)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN  # a technician's first reply opens a new ticket


def test_tk6_empty_or_huge_reply_is_a_field_error(admin, ticket, signed_in):
    client = signed_in(admin)
    for data in ({"visibility": "public", "body": ""}, {"visibility": "public", "body": "x" * 60_000}, {"body": "hi"},
                 {"visibility": "loud", "body": "hi"}):
        response = client.post(page(ticket), data)
        assert response.status_code == 200 and "invalid-feedback" in response.content.decode(), data
    assert not TicketComment.objects.exists()


def test_tk7_status_priority_and_assignee_change_together_and_the_requester_hears_of_the_status(
    admin, support, ticket, signed_in, mailbox, mails
):
    client = signed_in(admin)
    with mails():
        response = client.post(f"{page(ticket)}update/", {"status": "pending", "priority": 4, "assignee": support.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == (TicketStatus.PENDING, 4, support)
    assert {"ticket.updated", "ticket.status_changed"} <= set(AuditEvent.objects.values_list("action", flat=True))
    [notice] = mailbox.wait_for("olivia@contoso.test")
    assert f"[Ticket#{ticket.pk}]" in notice["Subject"]


def test_tk6_assignee_choices_are_the_technicians_who_may_work_the_ticket(
    partner, owner, admin, admin_scoped, support, finance, outsider, user_org_b, ticket, signed_in
):
    disabled = seed.staff(seed.person("gone@northwind.test", PASSWORD), partner, StaffRole.SUPPORT, enabled=False)
    # GRP-1: a group with an empty scope means all organizations; another limits to org_b.
    seed.group(partner, "Everyone", organizations=[], managers=[support])
    fabrikam_desk = seed.staff(seed.person("desk@northwind.test", PASSWORD), partner, StaffRole.SUPPORT)
    seed.group(partner, "Fabrikam desk", organizations=[user_org_b.organization], managers=[fabrikam_desk])
    fabrikam = seed.ticket(user_org_b, "Fabrikam mailbox full")
    for some in (ticket, fabrikam):
        workers = set(policy.ticket_workers(some, Membership.objects.all()))
        # The same answer as asking the policy one technician at a time.
        assert workers == {m for m in Membership.objects.all() if policy.can(m, Action.CHANGE, some)}
        assert finance not in workers and outsider not in workers and disabled not in workers
    assert admin_scoped in set(policy.ticket_workers(ticket, Membership.objects.all()))
    assert admin_scoped not in set(policy.ticket_workers(fabrikam, Membership.objects.all()))
    assert fabrikam_desk in set(policy.ticket_workers(fabrikam, Membership.objects.all()))
    assert fabrikam_desk not in set(policy.ticket_workers(ticket, Membership.objects.all()))
    assert support in set(policy.ticket_workers(ticket, Membership.objects.all()))
    menu = select(signed_in(owner).get(page(fabrikam)).content.decode(), "assignee")
    assert f'<option value="{support.pk}">' in menu and f'<option value="{admin_scoped.pk}">' not in menu


def test_tk6_assignee_outside_scope_or_unknown_is_refused_and_nothing_changes(
    admin, admin_scoped, finance, outsider, user_org_b, signed_in
):
    fabrikam = seed.ticket(user_org_b, "Fabrikam mailbox full")
    client = signed_in(admin)
    for assignee in (admin_scoped.pk, finance.pk, outsider.pk, user_org_b.pk, 99999, "abc", "9" * 30, "-1"):
        response = client.post(f"{page(fabrikam)}update/", {"status": "closed", "priority": 1, "assignee": assignee})
        assert response.status_code == 200 and "invalid-feedback" in response.content.decode(), assignee
    fabrikam.refresh_from_db()
    assert (fabrikam.status, fabrikam.priority, fabrikam.assignee) == (TicketStatus.NEW, TicketPriority.NORMAL, None)


def test_tk6_saving_the_status_keeps_an_assignee_who_no_longer_reaches_the_ticket(admin, admin_scoped, user_org_b, signed_in):
    fabrikam = seed.ticket(user_org_b, "Fabrikam mailbox full", assignee=admin_scoped)
    response = signed_in(admin).post(f"{page(fabrikam)}update/", {"status": "open", "priority": 2, "assignee": admin_scoped.pk})
    assert response.status_code == 302
    fabrikam.refresh_from_db()
    assert (fabrikam.status, fabrikam.assignee) == (TicketStatus.OPEN, admin_scoped)


def test_tk5_move_refused_while_the_requester_lacks_access_then_done_with_a_new_requester_in_one_submit(
    admin, ticket, org_a, org_b, user_org_b, signed_in
):
    client = signed_in(admin)
    refused = client.post(f"{page(ticket)}move/", {"organization": org_b.pk, "requester": ""})
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "has no access to tickets of Fabrikam" in html
    # The requester field now lists the people of the organization chosen.
    assert f'<option value="{user_org_b.pk}">' in select(html, "requester") and "An end user of Fabrikam." in html
    ticket.refresh_from_db()
    assert (ticket.organization, ticket.requester.organization) == (org_a, org_a)
    done = client.post(f"{page(ticket)}move/", {"organization": org_b.pk, "requester": user_org_b.pk})
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.organization, ticket.requester) == (org_b, user_org_b)
    event = AuditEvent.objects.get(action="ticket.moved")
    assert event.before["organization"] == org_a.pk and event.after["requester"] == user_org_b.pk


def test_tk5_past_the_menu_limit_the_organization_and_the_new_requester_are_typed(
    admin, ticket, org_b, user_org_b, signed_in, monkeypatch
):
    from portico.tickets import board_forms

    monkeypatch.setattr(board_forms, "MENU_LIMIT", 0)
    client = signed_in(admin)
    refused = client.post(f"{page(ticket)}move/", {"organization": "Fabrikam"}).content.decode()
    assert "has no access to tickets of Fabrikam" in refused and "An end user of Fabrikam." in refused
    assert '<select name="requester"' not in refused and 'name="requester"' in refused
    done = client.post(f"{page(ticket)}move/", {"organization": "Fabrikam", "requester": "bea@fabrikam.test"})
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.organization, ticket.requester) == (org_b, user_org_b)


def test_tk5_moving_to_where_the_ticket_is_changes_nothing(admin, ticket, org_a, signed_in):
    response = signed_in(admin).post(f"{page(ticket)}move/", {"organization": org_a.pk, "requester": ""}, follow=True)
    assert "Nothing to change." in response.content.decode()
    assert not AuditEvent.objects.filter(action="ticket.moved").exists()


def test_tk5_the_new_requester_can_be_given_by_email(admin, ticket, org_b, user_org_b, signed_in):
    response = signed_in(admin).post(f"{page(ticket)}move/", {"organization": org_b.pk, "requester": "BEA@fabrikam.test"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.requester == user_org_b


def test_tk5_move_to_another_partners_organization_is_refused_and_nothing_changes(admin, ticket, org_a, foreign_org, signed_in):
    foreign_user = seed.end_user(seed.person("lit@litware.test"), foreign_org)
    client = signed_in(admin)
    for data in ({"organization": foreign_org.pk}, {"organization": "Litware"},
                 {"organization": org_a.pk, "requester": foreign_user.pk}, {"organization": org_a.pk, "requester": "lit@litware.test"}):
        response = client.post(f"{page(ticket)}move/", data)
        assert response.status_code == 200 and "invalid-feedback" in response.content.decode(), data
    ticket.refresh_from_db()
    assert (ticket.organization, ticket.requester.organization) == (org_a, org_a)
    assert not AuditEvent.objects.filter(action="ticket.moved").exists()


def test_tk5_scoped_admin_moves_only_to_their_organizations(admin_scoped, ticket, org_b, user_org_b, signed_in):
    client = signed_in(admin_scoped)
    assert f'<option value="{org_b.pk}"' not in select(client.get(page(ticket)).content.decode(), "organization")
    response = client.post(f"{page(ticket)}move/", {"organization": org_b.pk, "requester": user_org_b.pk})
    assert response.status_code == 200 and "Choose one of your organizations." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.organization_id != org_b.pk


def test_tk5_with_many_organizations_the_move_takes_a_name(admin, partner, ticket, org_b, user_org_b, signed_in):
    from portico.tenancy.forms import ORGANIZATION_MENU_LIMIT
    from portico.tenancy.models import Organization

    Organization.objects.bulk_create([Organization(partner=partner, name=f"Extra {i}") for i in range(ORGANIZATION_MENU_LIMIT)])
    Organization.objects.bulk_create([Organization(partner=partner, name="Twin"), Organization(partner=partner, name="twin")])
    client = signed_in(admin)
    assert "Extra 17" not in client.get(page(ticket)).content.decode()
    twins = client.post(f"{page(ticket)}move/", {"organization": "TWIN"})
    assert "enter its number instead" in twins.content.decode()
    response = client.post(f"{page(ticket)}move/", {"organization": "fabrikam", "requester": user_org_b.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.organization == org_b


def test_tk6_ticket_page_queries_do_not_grow_with_the_thread(admin, ticket, signed_in, django_assert_max_num_queries):
    client = signed_in(admin)
    for i in range(3):
        services.comment_on(admin, ticket, f"Note {i}", internal=bool(i % 2))
    with django_assert_max_num_queries(25) as few:
        client.get(page(ticket))
    for i in range(20):
        services.comment_on(admin, ticket, f"More {i}", internal=bool(i % 2))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "More 19" in client.get(page(ticket)).content.decode()
