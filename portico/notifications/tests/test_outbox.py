"""The email outbox: a row first, retried while SMTP is down, failed but kept after the limit (NOTIF-5)."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portico.notifications import services
from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.tasks import send_due_emails
from tests.support import text_body

TO = "emma@contoso.test"


def queue(**fields) -> OutboundEmail:
    return services.queue_rendered(
        to=TO, subject="Your report", body_text="Here it is.", body_html="<p>Here it is.</p>", language="en", **fields
    )


def time_passes(email: OutboundEmail) -> None:
    """Make the email's next attempt due, as if its back-off had elapsed."""
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def smtp_down(settings, smtp_server):
    """Point sending at a loopback port nobody listens on; `smtp_down.restore()` brings the server back."""
    controller, _inbox = smtp_server
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_PORT = closed_port

    class Switch:
        def restore(self) -> None:
            settings.EMAIL_PORT = controller.port

    return Switch()


def test_notif5_email_is_a_row_before_it_is_sent(db, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email = queue()
        stored = OutboundEmail.objects.get(pk=email.pk)
        assert (stored.state, stored.attempts, stored.sent_at) == (EmailState.PENDING, 0, None)
        assert mailbox.messages == []
    [message] = mailbox.wait_for(TO)
    assert message["Subject"] == "Your report"
    assert text_body(message).strip() == "Here it is."
    email.refresh_from_db()
    assert email.state == EmailState.SENT and email.attempts == 1 and email.sent_at is not None


def test_notif5_email_queued_in_a_rolled_back_transaction_is_neither_stored_nor_sent(
    db, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            queue()
            raise RuntimeError("the change failed")
    assert callbacks == []
    assert not OutboundEmail.objects.exists()
    assert mailbox.messages == []


def test_notif5_failed_send_stays_pending_and_is_delivered_once_smtp_is_back(
    db, mailbox, smtp_down, django_capture_on_commit_callbacks
):
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        email = queue()
    email.refresh_from_db()
    assert email.state == EmailState.PENDING
    assert email.attempts == 1
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at > before + timedelta(seconds=20)
    assert email.sent_at is None
    # Not due yet: the sweep leaves it alone even though the server is back.
    smtp_down.restore()
    send_due_emails()
    assert mailbox.messages == []
    time_passes(email)
    send_due_emails()
    [message] = mailbox.wait_for(TO)
    assert message["Subject"] == "Your report"
    email.refresh_from_db()
    assert (email.state, email.attempts, email.last_error) == (EmailState.SENT, 2, "")
    assert email.sent_at is not None
    # Sent is final: another sweep sends nothing twice.
    time_passes(email)
    send_due_emails()
    assert len(mailbox.to(TO)) == 1


def test_notif5_after_max_attempts_email_is_failed_and_kept(db, settings, mailbox, smtp_down):
    email = queue()
    retry_times = []
    for attempt in range(1, settings.OUTBOX_MAX_ATTEMPTS + 1):
        time_passes(email)
        send_due_emails()
        email.refresh_from_db()
        assert email.attempts == attempt
        assert "ConnectionRefusedError" in email.last_error
        retry_times.append(email.next_attempt_at - timezone.now())
    assert email.state == EmailState.FAILED
    assert retry_times == sorted(retry_times), "the back-off grows with each attempt"
    assert retry_times[-1] <= timedelta(hours=1)
    # Kept, and never tried again, even once the server is back.
    smtp_down.restore()
    time_passes(email)
    assert services.due_emails() == []
    assert services.deliver(email.pk) is None
    send_due_emails()
    assert mailbox.messages == []
    email.refresh_from_db()
    assert email.state == EmailState.FAILED and email.attempts == settings.OUTBOX_MAX_ATTEMPTS
    assert OutboundEmail.objects.filter(pk=email.pk).exists()


def test_notif5_sweep_sends_only_what_is_due(db, mailbox):
    due = queue()
    later = services.queue_rendered(
        to="later@contoso.test", subject="Later", body_text=".", body_html="", language="en"
    )
    OutboundEmail.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert services.due_emails() == [due.pk]
    send_due_emails()
    mailbox.wait_for(TO)
    assert mailbox.to("later@contoso.test") == []
    assert OutboundEmail.objects.get(pk=later.pk).state == EmailState.PENDING
