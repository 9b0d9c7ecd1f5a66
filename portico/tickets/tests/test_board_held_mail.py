"""Held inbound mail on the technicians' board (TK-7): the list, a message, its raw download, and
the two ways to settle it — add it to a ticket, or dismiss it. A message is never deleted."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from portico import seed
from portico.audit.models import AuditEvent
from portico.tickets.models import InboundEmail, InboundState, ThreadMessage, TicketComment, TicketStatus
from tests.support import text_body

pytestmark = pytest.mark.django_db

HELD = "/console/tickets/held-mail/"


def raw_mail(sender: str, subject: str, body: str, *, message_id: str = "<m1@mail.test>", attachments=()) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@northwind.test", subject
    message["Message-ID"] = message_id
    message.set_content(body)
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def held(partner, raw: bytes, *, ticket=None, state=InboundState.HELD, reason="Not a reply to a ticket.") -> InboundEmail:
    from portico.tickets.inbound import parse_message

    parsed = parse_message(raw)
    return InboundEmail.objects.create(
        partner=partner, raw=raw, state=state, reason=reason, ticket=ticket,
        sender=parsed.sender, subject=parsed.subject, message_id=parsed.message_id,
    )


def listed(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [int(n) for n in re.findall(r'data-inbound="(\d+)"', response.content.decode())]


@pytest.fixture
def ticket(user_own_tickets):
    return seed.ticket(user_own_tickets, "Printer jams on floor 2", status=TicketStatus.CLOSED)


def test_tk7_held_mail_lists_held_messages_newest_first_and_filters_by_state(admin, partner, other_partner, signed_in):
    first = held(partner, raw_mail("a@x.test", "First", "one"))
    second = held(partner, raw_mail("b@x.test", "Second", "two", message_id="<m2@mail.test>"))
    placed = held(partner, raw_mail("c@x.test", "Placed", "three", message_id="<m3@mail.test>"), state=InboundState.PLACED)
    held(other_partner, raw_mail("d@x.test", "Not ours", "four", message_id="<m4@mail.test>"))
    client = signed_in(admin)
    assert listed(client.get(HELD)) == [second.pk, first.pk]
    assert listed(client.get(HELD, {"state": "placed"})) == [placed.pk]
    assert listed(client.get(HELD, {"state": "all"})) == [placed.pk, second.pk, first.pk]
    assert listed(client.get(HELD, {"state": "nonsense", "cursor": "garbage"})) == [second.pk, first.pk]


def test_tk7_held_mail_pages_with_a_cursor(admin, partner, signed_in, monkeypatch):
    from portico.tickets.views import board

    monkeypatch.setattr(board, "PAGE_SIZE", 2)
    made = [held(partner, raw_mail("a@x.test", f"Mail {i}", "x", message_id=f"<p{i}@mail.test>")).pk for i in range(5)]
    client = signed_in(admin)
    seen, url = [], HELD
    while url:
        response = client.get(url)
        seen += listed(response)
        found = re.search(r'rel="next" href="\?([^"]+)"', response.content.decode())
        url = f"{HELD}?{found.group(1).replace('&amp;', '&')}" if found else None
    assert seen == made[::-1]


def test_tk7_held_mail_list_queries_do_not_grow_with_rows(admin, partner, ticket, signed_in, django_assert_max_num_queries):
    client = signed_in(admin)
    held(partner, raw_mail("a@x.test", "First", "one"), ticket=ticket)
    with django_assert_max_num_queries(20) as few:
        client.get(HELD, {"state": "all"})
    for i in range(20):
        message = held(partner, raw_mail("a@x.test", f"Mail {i}", "x", message_id=f"<q{i}@mail.test>"), ticket=ticket)
        if i % 2:
            InboundEmail.objects.filter(pk=message.pk).update(settled_by=admin, state=InboundState.IGNORED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(listed(client.get(HELD, {"state": "all"}))) == 21


def test_tk7_held_message_shows_sender_reason_and_text_and_downloads_whole(admin, partner, signed_in):
    raw = raw_mail("Olivia User <olivia@contoso.test>", "Printer again", "It jams once more.",
                   attachments=[("photo.png", b"\x89PNG fake", "image/png")])
    message = held(partner, raw)
    client = signed_in(admin)
    html = client.get(f"{HELD}{message.pk}/").content.decode()
    assert "olivia@contoso.test" in html and "Not a reply to a ticket." in html
    assert "It jams once more." in html and "photo.png" in html
    download = client.get(f"{HELD}{message.pk}/raw/")
    assert download.status_code == 200 and download.content == raw
    assert download["Content-Type"] == "message/rfc822"
    assert download["Content-Disposition"] == f'attachment; filename="message-{message.pk}.eml"'
    # Mail from anyone: never sniffed into a page, never in a shared cache, never run in a tab.
    assert download["X-Content-Type-Options"] == "nosniff" and download["Cache-Control"] == "private"
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_tk7_a_message_from_the_requester_is_added_as_their_own_comment(
    admin, partner, ticket, user_own_tickets, signed_in, mailbox, mails
):
    raw = raw_mail("olivia@contoso.test", "Printer again", "It jams once more.",
                   attachments=[("photo.png", b"\x89PNG fake", "image/png"), ("run.exe", b"MZ", "application/octet-stream")])
    message = held(partner, raw)
    client = signed_in(admin)
    with mails():
        response = client.post(f"{HELD}{message.pk}/add/", {"ticket": f"#{ticket.pk}"})
    assert response.status_code == 302 and response["Location"] == HELD
    comment = TicketComment.objects.get()
    assert (comment.ticket, comment.author, comment.internal, comment.source) == (ticket, user_own_tickets, False, "email")
    assert comment.body == "It jams once more."
    assert [a.original_name for a in comment.attachments.all()] == ["photo.png"]
    message.refresh_from_db()
    assert (message.state, message.ticket, message.comment, message.settled_by) == (InboundState.PLACED, ticket, comment, admin)
    assert message.settled_at is not None and "run.exe" in message.reason
    assert ThreadMessage.objects.filter(message_id="m1@mail.test", ticket=ticket).exists()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN  # the requester's reply reopens the closed ticket
    event = AuditEvent.objects.get(action="inbound_email.added_to_ticket")
    assert event.actor == admin and event.before["state"] == "held" and event.after["author"] == user_own_tickets.pk
    assert not mailbox.to("olivia@contoso.test")  # their own words are not mailed back


def test_tk7_a_message_from_someone_else_is_added_by_the_technician_on_the_requesters_behalf(
    admin, partner, ticket, signed_in, mailbox, mails
):
    message = held(partner, raw_mail("Private Olivia <olivia.private@gmail.test>", "Printer", "Sent from home."), ticket=ticket,
                   reason="The sender olivia.private@gmail.test may not comment on this ticket.")
    client = signed_in(admin)
    # The ticket the poller found is offered.
    assert f'value="{ticket.pk}"' in client.get(f"{HELD}{message.pk}/").content.decode()
    with mails():
        assert client.post(f"{HELD}{message.pk}/add/", {"ticket": ticket.pk}).status_code == 302
    comment = TicketComment.objects.get()
    assert comment.author == admin and not comment.internal
    assert comment.body.startswith("Email from Private Olivia <olivia.private@gmail.test>:") and "Sent from home." in comment.body
    [notice] = mailbox.wait_for("olivia@contoso.test")
    assert "Sent from home." in text_body(notice)


def test_tk7_dismissing_keeps_the_message_and_records_who(admin, partner, signed_in):
    message = held(partner, raw_mail("spam@x.test", "Offer", "Buy now"))
    client = signed_in(admin)
    assert client.post(f"{HELD}{message.pk}/dismiss/").status_code == 302
    message.refresh_from_db()
    assert (message.state, message.settled_by) == (InboundState.IGNORED, admin) and message.raw
    assert AuditEvent.objects.filter(action="inbound_email.dismissed", actor=admin).exists()
    assert listed(client.get(HELD)) == []
    assert "Dismissed" in client.get(HELD, {"state": "ignored"}).content.decode()
    again = client.post(f"{HELD}{message.pk}/dismiss/", follow=True)
    assert "Only a held message can be dismissed." in again.content.decode()


def test_tk7_a_settled_message_is_not_added_twice(admin, partner, ticket, signed_in):
    message = held(partner, raw_mail("olivia@contoso.test", "Printer", "Once."))
    client = signed_in(admin)
    assert client.post(f"{HELD}{message.pk}/add/", {"ticket": ticket.pk}).status_code == 302
    again = client.post(f"{HELD}{message.pk}/add/", {"ticket": ticket.pk})
    assert again.status_code == 200 and "This message is already settled." in again.content.decode()
    copy = held(partner, raw_mail("olivia@contoso.test", "Printer", "Once."))
    same_id = client.post(f"{HELD}{copy.pk}/add/", {"ticket": ticket.pk})
    assert "already on a ticket" in same_id.content.decode()
    assert TicketComment.objects.count() == 1


@pytest.mark.parametrize("number", ["", "abc", "0", "-3", "99999", "9" * 40, "１２", "#"])
def test_tk7_adding_to_a_ticket_that_is_not_there_is_a_field_error(admin, partner, ticket, signed_in, number):
    message = held(partner, raw_mail("olivia@contoso.test", "Printer", "x"))
    response = signed_in(admin).post(f"{HELD}{message.pk}/add/", {"ticket": number})
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    message.refresh_from_db()
    assert message.state == InboundState.HELD and not TicketComment.objects.exists()


def test_tk7_grp3_scoped_admin_sees_held_mail_of_their_organizations_only(
    admin_scoped, partner, ticket, user_org_b, signed_in
):
    theirs = held(partner, raw_mail("x@x.test", "Theirs", "a"), ticket=ticket)
    other = held(partner, raw_mail("y@x.test", "Other", "b", message_id="<m2@mail.test>"), ticket=seed.ticket(user_org_b, "B"))
    unplaced = held(partner, raw_mail("z@x.test", "Nowhere", "c", message_id="<m3@mail.test>"))
    client = signed_in(admin_scoped)
    assert listed(client.get(HELD)) == [theirs.pk]
    for message in (other, unplaced):
        assert client.get(f"{HELD}{message.pk}/").status_code == 404
        assert client.get(f"{HELD}{message.pk}/raw/").status_code == 404
        assert client.post(f"{HELD}{message.pk}/add/", {"ticket": ticket.pk}).status_code == 404
        assert client.post(f"{HELD}{message.pk}/dismiss/").status_code == 404
    # A ticket out of their reach reads like one that does not exist.
    response = client.post(f"{HELD}{theirs.pk}/add/", {"ticket": other.ticket_id})
    assert "There is no ticket" in response.content.decode()
    assert InboundEmail.objects.filter(state=InboundState.HELD).count() == 3


@pytest.mark.parametrize("who", ["finance", "outsider"])
def test_tk7_finance_and_outsiders_reach_no_held_mail(request, who, partner, signed_in):
    message = held(partner, raw_mail("x@x.test", "Mail", "a"))
    client = signed_in(request.getfixturevalue(who))
    for url in (f"{HELD}{message.pk}/", f"{HELD}{message.pk}/raw/"):
        assert client.get(url).status_code == 404
    for url in (f"{HELD}{message.pk}/add/", f"{HELD}{message.pk}/dismiss/"):
        assert client.post(url, {"ticket": 1}).status_code == 404
    message.refresh_from_db()
    assert message.state == InboundState.HELD


def test_tk7_broken_mail_is_shown_and_downloadable(admin, partner, signed_in):
    raw = b"From: \xff\xfe broken\r\nSubject: =?utf-8?q?=ZZ?=\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n\x00\x01 body"
    message = InboundEmail.objects.create(partner=partner, raw=raw, state=InboundState.HELD, reason="Not a reply to a ticket.")
    client = signed_in(admin)
    assert client.get(f"{HELD}{message.pk}/").status_code == 200
    assert client.get(f"{HELD}{message.pk}/raw/").content == raw
