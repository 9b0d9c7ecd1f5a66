"""Per request: the active membership (ID-5, ID-6) or the admin a staff user logs in as (ORG-7), the
person's language (ID-11), the MFA gate (ID-2, ID-3)."""

from __future__ import annotations

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from portico.audit import context
from portico.identity.models import Membership, PhoneAuthenticator
from portico.saas import impersonation

SESSION_MEMBERSHIP = "membership_id"
SESSION_CHOSEN_AT = "membership_chosen_at"
# What a signed-in person may reach before passing the second factor: sign-in pages only.
OPEN_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/2fa/authenticate/",
    "/accounts/password/reset/",
    "/accounts/mfa-setup/",
    "/accounts/sms/verify/",
    "/static/",
    "/i18n/",
    "/healthz",
    "/invitations/",
    "/api/v1/schema/",
    "/api/v1/docs/",
)
# ... and, while they have no second factor at all, the pages that set one up. Someone who has a
# method must use it first: otherwise the password alone would let them add their own (ID-3).
SETUP_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/accounts/sms/setup/",
)


class ActiveMembershipMiddleware:
    """Loads the membership this session acts as; ends the session if it was disabled since.

    While a staff user logs in as client (ORG-7), the request runs as the organization's admin with
    the staff user as impersonator, after `act_as_client` has checked the visit is still allowed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        request.impersonator = None  # type: ignore[attr-defined]
        user = request.user
        membership_id = request.session.get(SESSION_MEMBERSHIP) if user.is_authenticated else None
        if membership_id is not None:
            membership = (
                Membership.objects.select_related("person", "partner", "organization")
                .filter(pk=membership_id, person_id=user.pk)
                .first()
            )
            chosen_at = request.session.get(SESSION_CHOSEN_AT, 0)
            if membership is None or not membership.enabled or chosen_at < membership.sessions_valid_after.timestamp():
                if impersonation.SESSION_KEY in request.session:
                    impersonation.end_client_login(request, membership, impersonation.ACCESS_DISABLED)
                logout(request)
                messages.error(request, _("Your access was disabled. Contact your administrator."))
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": _("Your access was disabled.")}, status=401)
                return redirect("account_login")
            request.membership = membership  # type: ignore[attr-defined]
            context.set_actor(membership)
            if impersonation.SESSION_KEY in request.session:
                refused = impersonation.act_as_client(request, membership)
                if refused is not None:
                    return refused
        return self.get_response(request)


class PersonLanguageMiddleware:
    """Pages speak the signed-in person's display language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and request.user.language:
            translation.activate(request.user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


def has_second_factor_session(request: HttpRequest) -> bool:
    return any(r.get("method") == "mfa" for r in get_authentication_records(request, request.user))


def mfa_methods(person) -> tuple[bool, bool]:
    """(has an app/key method handled at allauth's MFA stage, has an SMS phone)."""
    app_or_key = Authenticator.objects.filter(
        user=person, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()
    return app_or_key, PhoneAuthenticator.objects.filter(person=person).exists()


def mfa_required(person) -> bool:
    return any(m.requires_mfa for m in person.memberships.filter(enabled=True).select_related("partner"))


class SecondFactorGateMiddleware:
    """Nothing but sign-in pages is reachable until the second factor is set up and used."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or request.path.startswith(OPEN_PREFIXES) or has_second_factor_session(request):
            return self.get_response(request)
        app_or_key, sms = mfa_methods(user)
        if app_or_key:
            # allauth's MFA stage ran at sign-in; a session without its record is not trusted.
            target = "identity:mfa_setup"
        elif sms:
            target = "identity:sms_verify"
        elif request.path.startswith(SETUP_PREFIXES):
            return self.get_response(request)
        elif mfa_required(user):
            target = "identity:mfa_setup"
        else:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": _("Complete multi-factor authentication first.")}, status=403)
        return redirect(target)
