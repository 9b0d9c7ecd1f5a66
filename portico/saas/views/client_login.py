"""Log in as client (ORG-7): the partner portal's way into an organization's customer portal as its
admin, and the banner's way back. The visit itself is kept by `portico.saas.impersonation`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.saas import impersonation
from portico.saas.models import Subscription


@require_POST
@membership_required(MembershipKind.STAFF)
def log_in_as_client(request: HttpRequest, pk: int) -> HttpResponse:
    """An organization out of reach is a 404; one in reach but not allowed says why, with a 403."""
    actor = request.membership
    subscription = get_object_or_404(
        policy.restrict(Subscription.objects.select_related("organization", "admin__person"), actor, Action.VIEW), pk=pk
    )
    try:
        impersonation.start_client_login(actor, subscription, request)
    except PermissionDenied:
        reason = policy.client_login_denial(actor, subscription, policy.manages_groups(actor)) or _(
            "You may not log in as client to this organization."
        )
        return render(
            request, "saas/customer/client_login_refused.html", {"subscription": subscription, "reason": reason}, status=403
        )
    return redirect("web:customer")


@require_POST
def end_client_login(request: HttpRequest) -> HttpResponse:
    """"Back to the partner portal": the visit ends and the staff user is on the organizations page."""
    staff = getattr(request, "impersonator", None)
    if staff is None:
        return redirect("web:home")
    impersonation.end_client_login(request, staff, impersonation.RETURNED)
    messages.success(request, _("You are back in the partner portal."))
    return redirect("saas:organizations")
