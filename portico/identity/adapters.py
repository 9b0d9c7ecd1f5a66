"""django-allauth adapters: no self sign-up, and allauth's emails go through the outbox."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.db import transaction
from django.utils import translation

from portico.identity.models import Person
from portico.notifications.services import queue_rendered


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # People join by invitation only (ID-1).
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        person = Person.objects.filter(email__iexact=email).first()
        language = person.language if person else translation.get_language() or "en"
        with translation.override(language):
            message = self.render_mail(template_prefix, email, {"email": email, **context})
        html = next((body for body, mime in getattr(message, "alternatives", []) if mime == "text/html"), "")
        with transaction.atomic():
            queue_rendered(
                to=email, subject=message.subject, body_text=message.body, body_html=html, language=language
            )


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_issuer(self) -> str:
        return "Portico"
