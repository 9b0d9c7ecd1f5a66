"""Downloading ticket attachments (TK-1, TK-2, TK-6): only through a ticket one may see, never an
internal note's file for an end user, always as a download that a browser does not sniff."""

from __future__ import annotations

import pytest

from portico import seed
from portico.tickets import services
from portico.tickets.attachments import from_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(attachment, ticket=None) -> str:
    return f"/tickets/{(ticket or attachment.ticket).pk}/attachments/{attachment.pk}/"


def _ticket_with_file(requester, name="scan.pdf", data=b"%PDF-1.4 scan"):
    ticket = services.open_ticket(
        requester, services.TicketDraft(subject="Printer", description="Jams"), [from_bytes(name, data)]
    )
    return ticket, ticket.attachments.get()


def test_tk1_requester_downloads_with_the_original_name_as_a_private_unsniffed_download(user_own_tickets, signed_in):
    _ticket, attachment = _ticket_with_file(user_own_tickets)
    response = signed_in(user_own_tickets).get(url(attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 scan"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="scan.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private"


def test_tk1_a_non_ascii_name_is_kept_in_the_download(user_own_tickets, signed_in):
    _ticket, attachment = _ticket_with_file(user_own_tickets, name="Überweisung März.pdf")
    response = signed_in(user_own_tickets).get(url(attachment))
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%C3%9Cberweisung%20M%C3%A4rz.pdf"


def test_tk2_org_wide_user_downloads_a_colleagues_file_and_an_own_user_may_not(
    user_org_wide, user_own_tickets, colleague, signed_in, client
):
    _ticket, attachment = _ticket_with_file(colleague)
    assert signed_in(user_org_wide).get(url(attachment)).status_code == 200
    client.logout()
    assert signed_in(user_own_tickets).get(url(attachment)).status_code == 404


def test_tk2_eu5_another_organizations_user_gets_404(user_org_b, user_own_tickets, signed_in):
    _ticket, attachment = _ticket_with_file(user_own_tickets)
    assert signed_in(user_org_b).get(url(attachment)).status_code == 404


def test_another_partners_technician_gets_404(outsider, user_own_tickets, signed_in):
    _ticket, attachment = _ticket_with_file(user_own_tickets)
    assert signed_in(outsider).get(url(attachment)).status_code == 404


def test_tk2_a_file_is_found_only_through_its_own_ticket(user_own_tickets, colleague, support, signed_in, client):
    """A guessed id of another ticket's file, behind a ticket one may see, is a 404 (even for technicians)."""
    mine, _mine_file = _ticket_with_file(user_own_tickets)
    theirs, their_file = _ticket_with_file(colleague)
    assert signed_in(user_own_tickets).get(url(their_file, ticket=mine)).status_code == 404
    client.logout()
    technician = signed_in(support)
    assert technician.get(url(their_file, ticket=theirs)).status_code == 200
    assert technician.get(url(their_file, ticket=mine)).status_code == 404


def test_tk6_an_internal_notes_file_is_404_for_end_users_and_200_for_technicians(
    user_org_wide, support, signed_in, client
):
    ticket = seed.ticket(user_org_wide, "Laptop")
    note = services.comment_on(support, ticket, "Serial numbers", [from_bytes("serials.txt", b"SN-1")], internal=True)
    reply = services.comment_on(support, ticket, "Guide attached", [from_bytes("guide.pdf", b"%PDF")])
    note_file, reply_file = note.attachments.get(), reply.attachments.get()
    end_user = signed_in(user_org_wide)
    assert end_user.get(url(note_file)).status_code == 404
    assert end_user.get(url(reply_file)).status_code == 200
    client.logout()
    technician = signed_in(support)
    assert technician.get(url(note_file)).status_code == 200
    assert technician.get(url(reply_file)).status_code == 200


def test_grp3_a_technician_outside_the_tickets_organization_gets_404(admin_scoped, user_org_b, signed_in):
    _ticket, attachment = _ticket_with_file(user_org_b)
    assert signed_in(admin_scoped).get(url(attachment)).status_code == 404


def test_finance_and_users_without_ticketing_get_404(finance, user_no_tickets, user_own_tickets, signed_in, client):
    _ticket, attachment = _ticket_with_file(user_own_tickets)
    assert signed_in(finance).get(url(attachment)).status_code == 404
    client.logout()
    assert signed_in(user_no_tickets).get(url(attachment)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(user_own_tickets, client):
    _ticket, attachment = _ticket_with_file(user_own_tickets)
    response = client.get(url(attachment))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_file_missing_from_storage_is_404_not_500(user_own_tickets, signed_in):
    _ticket, attachment = _ticket_with_file(user_own_tickets)
    attachment.file.storage.delete(attachment.file.name)
    assert signed_in(user_own_tickets).get(url(attachment)).status_code == 404


@pytest.mark.parametrize("path", [
    "/tickets/abc/attachments/1/", "/tickets/1/attachments/abc/", "/tickets/99999999999999999999/attachments/1/",
    "/tickets/{ticket}/attachments/99999999999999999999/", "/tickets/{ticket}/attachments/0/", "/tickets/0/attachments/0/",
])
def test_non_numeric_and_huge_ids_are_404(user_own_tickets, signed_in, path):
    ticket, _attachment = _ticket_with_file(user_own_tickets)
    assert signed_in(user_own_tickets).get(path.format(ticket=ticket.pk)).status_code == 404
