"""Log in as client (ORG-7): a staff user opens an organization's customer portal as its admin.

The session keeps the staff membership as its own (ID-5) and holds a marker beside it: the admin
membership acted as, its organization and the start. On every request the membership middleware
asks `act_as_client` to re-check the marker in SQL against the policy (GRP-3, ID-6), to run the
request as the admin with the staff user as impersonator (CP-6, AUD-1), and to keep it inside the
customer portal. Start and end are audited, with the impersonator on both.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.policy import Action, SubscriptionAction
from portico.audit import context
from portico.audit.services import record
from portico.identity.models import Membership
from portico.saas.models import Subscription

SESSION_KEY = "client_login"
# A visit to a customer portal is short work; a forgotten tab must not keep the customer's data open.
MAX_MINUTES = 60

# Why a visit ended, as the "client_login.ended" event records it.
RETURNED = "returned"
SIGNED_OUT = "signed_out"
EXPIRED = "expired"
NOT_ALLOWED = "not_allowed"
ACCESS_DISABLED = "access_disabled"

# What stays reachable while acting as the admin: the customer portal, leaving it, signing out,
# the language switch and static files. Never the staff console, nor the pages that change the
# person's password, MFA or tokens (they are the staff user's, not the customer's), nor the API.
CUSTOMER_PREFIXES = ("/customer/", "/static/", "/i18n/", "/healthz")
SIGN_OUT = "/accounts/logout/"
# The home page only sends a membership on to its portal, here the customer portal.
HOME = "/"


@dataclass(frozen=True)
class ClientLogin:
    """The session's marker: whom the staff user acts as, where, since when (a UNIX time)."""

    admin: int
    organization: int
    partner: int
    started_at: float

    @property
    def expired(self) -> bool:
        return time.time() - self.started_at > MAX_MINUTES * 60


def marker(request: HttpRequest) -> ClientLogin | None:
    data = request.session.get(SESSION_KEY)
    try:
        return ClientLogin(**data)
    except TypeError:
        return None


@contextmanager
def _as_impersonator(staff: Membership | None) -> Iterator[None]:
    """Start and end are the staff user's own acts, and carry them as impersonator too, so one
    filter on the impersonator finds a whole visit, its start and end included."""
    before = context.current()
    context.set_actor(staff, impersonator=staff)
    try:
        yield
    finally:
        context.set_actor(before.actor, impersonator=before.impersonator)


def start_client_login(actor: Membership, subscription: Subscription, request: HttpRequest) -> None:
    """ORG-7: the session acts as the organization's admin from its next request on.

    The staff membership stays the session's own, and nothing of the sign-in is rotated: leaving
    the customer portal brings the staff user back where they were.
    """
    if not policy.can(actor, SubscriptionAction.LOG_IN_AS_CLIENT, subscription):
        raise PermissionDenied
    admin = subscription.admin
    started = ClientLogin(
        admin=admin.pk,
        organization=subscription.organization_id,
        partner=subscription.partner_id,
        started_at=time.time(),
    )
    with transaction.atomic(), _as_impersonator(actor):
        record(
            "client_login.started",
            actor=actor,
            obj=admin,
            partner_id=subscription.partner_id,
            organization_id=subscription.organization_id,
            after={"admin": admin.person.email, "organization": subscription.organization.name, "max_minutes": MAX_MINUTES},
        )
    request.session[SESSION_KEY] = asdict(started)


def end_client_login(request: HttpRequest, staff: Membership | None, reason: str) -> None:
    """The visit ends: audited with its reason and length, the marker cleared; the rest of this
    request runs as the staff user again."""
    login = marker(request)
    request.session.pop(SESSION_KEY, None)
    request.impersonator = None  # type: ignore[attr-defined]
    if login is None:
        return
    admin = Membership.objects.select_related("person", "partner", "organization").filter(pk=login.admin).first()
    with transaction.atomic(), _as_impersonator(staff):
        record(
            "client_login.ended",
            actor=staff,
            obj=admin,
            partner_id=login.partner,
            organization_id=login.organization,
            after={
                "reason": reason,
                "started_at": datetime.fromtimestamp(login.started_at, tz=UTC).isoformat(),
                "minutes": round((time.time() - login.started_at) / 60, 1),
            },
        )
    if staff is not None:
        request.membership = staff  # type: ignore[attr-defined]
        context.set_actor(staff)


def _allowed_subscription(staff: Membership, login: ClientLogin) -> Subscription | None:
    """The subscription the marker names, if the staff user may still log in as its admin: one query."""
    allowed = policy.restrict(
        Subscription.objects.filter(organization_id=login.organization, admin_id=login.admin),
        staff,
        SubscriptionAction.LOG_IN_AS_CLIENT,
    )
    return allowed.select_related("organization", "admin__person", "admin__partner", "admin__organization").first()


def _why_not_allowed(staff: Membership, login: ClientLogin) -> str:
    """The reason shown when a visit ends because the policy no longer allows it."""
    visible = (
        policy.restrict(Subscription.objects.select_related("admin"), staff, Action.VIEW)
        .filter(organization_id=login.organization)
        .first()
    )
    if visible is None:
        return _("The organization is no longer within your reach.")
    if visible.admin_id != login.admin:
        return _("The organization has another admin now.")
    return policy.client_login_denial(staff, visible, policy.manages_groups(staff)) or _(
        "You may no longer log in as client to this organization."
    )


def _refuse(request: HttpRequest, message: str, to: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    messages.warning(request, message)
    return redirect(to)


def act_as_client(request: HttpRequest, staff: Membership) -> HttpResponse | None:
    """Run this request as the admin the session acts as, or end the visit; a response when the
    request goes no further. `staff` is the session's own, enabled membership (ID-6 checked)."""
    login = marker(request)
    if login is None or not staff.is_staff_member:
        request.session.pop(SESSION_KEY, None)
        return None
    if request.path == SIGN_OUT and request.method == "POST":
        # Signing out ends the visit first, so the sign-out itself is the staff user's own.
        end_client_login(request, staff, SIGNED_OUT)
        return None
    if login.expired:
        end_client_login(request, staff, EXPIRED)
        return _refuse(
            request,
            _("Your visit to the customer portal ended after %(minutes)d minutes. Log in as client again to continue.")
            % {"minutes": MAX_MINUTES},
            "saas:organizations",
        )
    subscription = _allowed_subscription(staff, login)
    if subscription is None:
        reason = _why_not_allowed(staff, login)
        end_client_login(request, staff, NOT_ALLOWED)
        return _refuse(request, _("Your visit to the customer portal ended. %(reason)s") % {"reason": reason}, "saas:organizations")
    admin = subscription.admin
    request.membership = admin  # type: ignore[attr-defined]
    request.impersonator = staff  # type: ignore[attr-defined]
    context.set_actor(admin, impersonator=staff)
    if request.path == HOME or request.path == SIGN_OUT or request.path.startswith(CUSTOMER_PREFIXES):
        return None
    return _refuse(
        request,
        _("While you are in %(organization)s's customer portal, only the customer portal is open. "
          "Go back to the partner portal first.") % {"organization": subscription.organization.name},
        "web:customer",
    )


def record_client_view(request: HttpRequest, action: str, obj, **details) -> None:
    """A customer-portal page read during a visit is audited: what the staff user saw as the admin
    (CP-6). The customer's own reads are not: they see their own data."""
    if getattr(request, "impersonator", None) is None:
        return
    membership = request.membership  # type: ignore[attr-defined]
    with transaction.atomic():
        record(
            action,
            obj=obj,
            partner_id=membership.partner_id,
            organization_id=membership.organization_id,
            after=details or None,
        )
