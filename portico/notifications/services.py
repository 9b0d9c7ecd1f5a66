"""Queue emails in the recipient's language and send them from the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from portico.notifications.models import EmailState, OutboundEmail


def queue_email(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str,
    partner=None,
    headers: dict[str, str] | None = None,
) -> OutboundEmail:
    """Render `<template>_subject.txt`, `.txt` and `.html` in `language` and queue the email.

    The row is written in the caller's transaction; the send is queued when it commits.
    """
    with translation.override(language):
        ctx = {"site_url": settings.SITE_URL, "partner": partner, **context}
        subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).split())
        body_text = render_to_string(f"{template}.txt", ctx)
        body_html = render_to_string(f"{template}.html", ctx)
    return queue_rendered(
        to=to, subject=subject, body_text=body_text, body_html=body_html,
        language=language, partner=partner, headers=headers,
    )


def queue_rendered(
    *,
    to: str,
    subject: str,
    body_text: str,
    body_html: str,
    language: str,
    partner=None,
    headers: dict[str, str] | None = None,
) -> OutboundEmail:
    """Queue an already rendered email; it is sent once the caller's transaction commits."""
    from portico.notifications.tasks import send_email

    email = OutboundEmail.objects.create(
        partner=partner,
        to=to,
        subject=subject[:255],
        body_text=body_text,
        body_html=body_html,
        headers=headers or {},
        language=language,
    )
    transaction.on_commit(lambda: send_email(email.pk))
    return email


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** (attempts - 1)))


def deliver(email_id: int) -> OutboundEmail | None:
    """Send one pending email. Failure schedules a retry; nothing is dropped before the limit."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, state=EmailState.PENDING)
            .first()
        )
        if email is None:
            return None
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
            headers=email.headers,
        )
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        email.attempts += 1
        try:
            message.send()
        except Exception as exc:  # noqa: BLE001 - any transport error is recorded and retried
            email.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            email.next_attempt_at = timezone.now() + _backoff(email.attempts)
            if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                email.state = EmailState.FAILED
        else:
            email.state, email.sent_at, email.last_error = EmailState.SENT, timezone.now(), ""
        email.save()
    return email


def due_emails() -> list[int]:
    return list(
        OutboundEmail.objects.filter(state=EmailState.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
