"""Sign-in and MFA events written to the audit log (AUD-1)."""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from allauth.account.signals import user_logged_in
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from portico.audit.services import record


def _person_event(action: str, person, **data) -> None:
    with transaction.atomic():
        record(action, obj=person, actor_email=person.email, after=data or None)


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs):
    _person_event("sign_in.succeeded", user)


@receiver(user_logged_out)
def audit_sign_out(sender, request, user, **kwargs):
    if user is not None:
        _person_event("sign_out", user)


@receiver(user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs):
    email = str(credentials.get("email") or credentials.get("username") or "")[:254]
    with transaction.atomic():
        record("sign_in.failed", actor_email=email, after={"email": email})


@receiver(mfa_signals.authentication_failed)
def audit_mfa_failed(sender, request, user, authenticator, **kwargs):
    _person_event("mfa.failed", user, type=authenticator.type)


@receiver(mfa_signals.authenticator_added)
def audit_mfa_added(sender, request, user, authenticator, **kwargs):
    # Setting a method up needs a valid code from it, so this session has passed the second factor.
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    _person_event("mfa.added", user, type=authenticator.type)


@receiver(mfa_signals.authenticator_removed)
def audit_mfa_removed(sender, request, user, authenticator, **kwargs):
    _person_event("mfa.removed", user, type=authenticator.type)


@receiver(mfa_signals.authenticator_reset)
def audit_mfa_reset(sender, request, user, authenticator, **kwargs):
    _person_event("mfa.recovery_codes_regenerated", user, type=authenticator.type)
