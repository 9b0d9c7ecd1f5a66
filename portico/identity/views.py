"""Pages of the sign-in flow (invitation, MFA set-up, SMS, account picker) and the people pages."""

from __future__ import annotations

import time
from functools import wraps

from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from portico.access import policy
from portico.access.policy import Action
from portico.api import services as api_services
from portico.api.models import ApiToken
from portico.audit.services import record
from portico.identity import services, sms
from portico.identity.forms import ApiTokenForm, ChoosePasswordForm, CodeForm, InviteForm, PeopleFilterForm, PhoneForm
from portico.identity.middleware import has_second_factor_session, mfa_methods
from portico.identity.models import Invitation, Membership, MembershipKind, PhoneAuthenticator
from portico.tenancy.models import Organization

PAGE_SIZE = 25


def membership_required(kind: str | None = None):
    """The view runs as an active membership (of `kind`, if given); anything else is a 404.

    A GET or HEAD runs inside `policy.read_once`: it changes no roles, grants or groups."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.membership is None:
                return redirect(f"{reverse('identity:pick')}?next={request.get_full_path()}")
            if kind is not None and request.membership.kind != kind:
                raise Http404
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            # A page that only reads asks the policy about the actor's permissions and groups once.
            with policy.read_once(request.membership):
                return view(request, *args, **kwargs)

        return wrapper

    return decorator


# Invitation (ID-1, ID-2, ID-7)


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = Invitation.find_usable(token)
    if invitation is None:
        return render(request, "identity/invitation_invalid.html", status=410)
    person = invitation.membership.person
    if not services.needs_password(invitation):
        if request.method == "POST":
            try:
                services.accept_invitation(invitation, None)
            except ValidationError:
                return render(request, "identity/invitation_invalid.html", status=410)
            if request.user.is_authenticated:
                logout(request)
            messages.success(request, _("Your new access is ready. Sign in with your existing password."))
            return redirect("account_login")
        return render(request, "identity/invitation_existing.html", {"invitation": invitation, "person": person})
    form = ChoosePasswordForm(request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(invitation, form.cleaned_data["password1"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                form.add_error(None, exc)
                return render(request, "identity/invitation_accept.html", {"form": form, "invitation": invitation})
            return render(request, "identity/invitation_invalid.html", status=410)
        if request.user.is_authenticated:
            logout(request)
        person.refresh_from_db()
        # Choosing the password a moment ago counts as a fresh authentication, so MFA set-up
        # does not ask for it again.
        record_authentication(request, person, "password", email=person.email, reauthenticated=True)
        request.session["membership_preferred"] = invitation.membership_id
        return perform_login(request, person, redirect_url=reverse("identity:pick"))
    return render(request, "identity/invitation_accept.html", {"form": form, "invitation": invitation})


# Multi-factor set-up and SMS (ID-2, ID-3)


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    if has_second_factor_session(request):
        return redirect("identity:pick")
    app_or_key, phone = mfa_methods(request.user)
    if app_or_key or phone:
        # Methods exist but this session has not used one: it must sign in again properly.
        logout(request)
        return redirect("account_login")
    _count_fresh_sign_in_as_reauthentication(request)
    return render(request, "identity/mfa_setup.html", {"sms_available": True})


def _count_fresh_sign_in_as_reauthentication(request: HttpRequest) -> None:
    """A person sent here straight from the password step is not asked for the password again.

    allauth's MFA set-up pages ask for a recent re-authentication; a sign-in with the password
    within that window, in a session that has no second factor yet, is the same proof.
    """
    records = get_authentication_records(request, request.user)
    last = records[-1] if records else None
    if (
        last is not None
        and last.get("method") == "password"
        and not last.get("reauthenticated")
        and time.time() - last.get("at", 0) < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    ):
        record_authentication(request, request.user, "password", email=request.user.email, reauthenticated=True)


@login_required
def sms_setup(request: HttpRequest) -> HttpResponse:
    if PhoneAuthenticator.objects.filter(person=request.user).exists():
        return redirect("mfa_index")
    phone_form = PhoneForm(initial={"phone": request.user.phone})
    code_form = CodeForm()
    step = "phone"
    if request.method == "POST" and "phone" in request.POST:
        phone_form = PhoneForm(request.POST)
        if phone_form.is_valid():
            try:
                sms.send_code(request, phone_form.cleaned_data["phone"], _("Your Portico code is %(code)s"))
                step = "code"
            except sms.TooManyCodes:
                phone_form.add_error("phone", _("Too many codes were sent. Wait 15 minutes, then try again."))
            except sms.SmsGatewayError:
                phone_form.add_error("phone", _("The text message could not be sent. Try again in a moment."))
    elif request.method == "POST":
        step = "code"
        code_form = CodeForm(request.POST)
        if code_form.is_valid():
            phone = sms.check_code(request, code_form.cleaned_data["code"])
            if phone is None:
                code_form.add_error("code", _("Incorrect or expired code."))
            else:
                with transaction.atomic():
                    PhoneAuthenticator.objects.create(person=request.user, phone=phone)
                    record("mfa.added", obj=request.user, actor_email=request.user.email, after={"type": "sms"})
                record_authentication(request, request.user, "mfa", type="sms")
                messages.success(request, _("Text-message codes are set up."))
                return redirect("identity:pick")
    return render(request, "identity/sms_setup.html", {"phone_form": phone_form, "code_form": code_form, "step": step})


@login_required
def sms_verify(request: HttpRequest) -> HttpResponse:
    authenticator = get_object_or_404(PhoneAuthenticator, person=request.user)
    form = CodeForm()
    if request.method == "POST" and "send" in request.POST or request.method == "GET" and sms.SESSION_KEY not in request.session:
        try:
            sms.send_code(request, authenticator.phone, _("Your Portico code is %(code)s"))
        except sms.TooManyCodes:
            messages.error(request, _("Too many codes were sent. Wait 15 minutes, then try again."))
        except sms.SmsGatewayError:
            messages.error(request, _("The text message could not be sent. Try again in a moment."))
    elif request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            if sms.check_code(request, form.cleaned_data["code"]) == authenticator.phone:
                record_authentication(request, request.user, "mfa", type="sms")
                return redirect("identity:pick")
            with transaction.atomic():
                record("mfa.failed", obj=request.user, actor_email=request.user.email, after={"type": "sms"})
            form.add_error("code", _("Incorrect or expired code."))
    masked = "•" * max(0, len(authenticator.phone) - 3) + authenticator.phone[-3:]
    return render(request, "identity/sms_verify.html", {"form": form, "masked_phone": masked})


def _redirect_back(request: HttpRequest, url: str | None, fallback: str) -> HttpResponse:
    """To `url` if it stays on this site, else to the `fallback` view.

    `redirect()` would first try `url` as a view name, so a relative address such as
    "abc def" raised NoReverseMatch instead of redirecting.
    """
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(url)
    return redirect(fallback)


# Account picker (ID-5)


@login_required
def pick(request: HttpRequest) -> HttpResponse:
    reachable, other_method = services.reachable_memberships(request.user)
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if not reachable:
        logout(request)
        return render(request, "identity/no_access.html", {"other_method": other_method}, status=403)
    if request.method == "POST":
        chosen = next((m for m in reachable if str(m.pk) == request.POST.get("membership")), None)
        if chosen is None:
            messages.error(request, _("Choose one of the listed accounts."))
        else:
            services.select_membership(request, chosen)
            return _redirect_back(request, next_url, chosen.portal_url_name)
    preferred = request.session.pop("membership_preferred", None)
    auto = next((m for m in reachable if m.pk == preferred), None) or (reachable[0] if len(reachable) == 1 else None)
    if auto is not None and request.membership is None:
        services.select_membership(request, auto)
        return _redirect_back(request, next_url, auto.portal_url_name)
    return render(
        request,
        "identity/pick.html",
        {"memberships": reachable, "other_method": other_method, "next": next_url},
    )


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembered on the person for pages and emails (ID-11)."""
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.set_language(request.user, language)
    return django_set_language(request)


# People of the partner (ID-1, ID-6, ID-7) — the full editors come with the technician console.


def _organizations(membership: Membership):
    return Organization.objects.filter(partner_id=membership.partner_id).order_by("name")


def _may_invite_anywhere(membership: Membership) -> bool:
    """The invite form offers every organization and all-organizations access: staff without a group limit."""
    first = _organizations(membership).order_by().first()
    return policy.can_invite(membership, MembershipKind.END_USER, organization=first, all_organizations=True)


@membership_required(MembershipKind.STAFF)
def people(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    filters = PeopleFilterForm(request.GET or None)
    queryset = policy.restrict(
        Membership.objects.select_related("person", "organization"), membership, Action.VIEW
    ).order_by("person__last_name", "person__first_name", "id")
    if filters.is_valid():
        q = filters.cleaned_data["q"].strip()
        if q:
            queryset = queryset.filter(
                Q(person__email__icontains=q) | Q(person__first_name__icontains=q) | Q(person__last_name__icontains=q)
            )
        if filters.cleaned_data["kind"]:
            queryset = queryset.filter(kind=filters.cleaned_data["kind"])
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    manageable = set(
        policy.restrict(Membership.objects.filter(pk__in=[m.pk for m in page]), membership, Action.DISABLE).values_list("pk", flat=True)
    )
    return render(
        request,
        "identity/people.html",
        {"page": page, "filters": filters, "manageable": manageable, "can_invite": _may_invite_anywhere(membership)},
    )


@membership_required(MembershipKind.STAFF)
def invite(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    form = InviteForm(
        request.POST or None,
        organizations=_organizations(membership),
        staff_roles=policy.invitable_staff_roles(membership),
        initial={"language": membership.partner.default_language},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organization = data["organization"]
        try:
            invited = services.invite(
                membership,
                services.InviteRequest(
                    email=data["email"],
                    kind=data["kind"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    phone=data["phone"],
                    language=data["language"],
                    organization=organization if data["kind"] == MembershipKind.END_USER else None,
                    all_organizations=data["kind"] == MembershipKind.END_USER and data["all_organizations"],
                    staff_role=data["staff_role"],
                    security_type=data["security_type"],
                ),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied:
            form.add_error(None, _("You may not give this access."))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invited.person.email})
            return redirect("identity:people")
    return render(request, "identity/invite.html", {"form": form})


def _manageable(request: HttpRequest, pk: int, action: str) -> Membership:
    membership = get_object_or_404(
        policy.restrict(Membership.objects.select_related("person"), request.membership, Action.VIEW), pk=pk
    )
    if not policy.can(request.membership, action, membership):
        raise PermissionDenied
    return membership


@require_POST
@membership_required(MembershipKind.STAFF)
def toggle_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    target = _manageable(request, pk, Action.DISABLE)
    enable = request.POST.get("enabled") == "1"
    services.set_enabled(request.membership, target, enable)
    if enable:
        messages.success(request, _("%(email)s is enabled again.") % {"email": target.person.email})
    else:
        messages.success(request, _("%(email)s is disabled and signed out.") % {"email": target.person.email})
    return _redirect_back(request, request.POST.get("back"), "identity:people")


@require_POST
@membership_required(MembershipKind.STAFF)
def reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    target = _manageable(request, pk, Action.RESET_PASSWORD)
    services.reset_password(request.membership, target)
    messages.success(request, _("A new invitation was sent to %(email)s.") % {"email": target.person.email})
    return _redirect_back(request, request.POST.get("back"), "identity:people")


# Personal API tokens (shown once, stored hashed)


@membership_required()
def tokens(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_token = api_services.create_token(membership, form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = ApiTokenForm()
    active = ApiToken.objects.filter(membership=membership, revoked_at__isnull=True)
    return render(request, "identity/tokens.html", {"form": form, "tokens": active, "new_token": new_token})


@require_POST
@membership_required()
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, membership=request.membership, revoked_at__isnull=True)
    api_services.revoke_token(request.membership, token)
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect("identity:tokens")
