"""The partner portal's organizations page (ORG-1 … ORG-9): the list with its status tabs, search
and filters, a new organization, an organization's details, its credential page, and the reset
password sent to its admin.

Every staff role sees the organizations within its reach (GRP-3); anything else is a 404. Rows are
read through `portico.saas.filters`, the same rows the CSV export writes (ORG-6); every change goes
through `portico.saas.services`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.access import policy
from portico.access.policy import Action, SubscriptionAction
from portico.backups import pages as backup_pages
from portico.identity.models import Membership, MembershipKind
from portico.identity.views import membership_required
from portico.saas import services
from portico.saas.filters import OrganizationFilterForm, seats_used, storage_used, subscriptions_for
from portico.saas.forms import OrganizationForm
from portico.saas.models import (
    Account,
    AccountStatus,
    CredentialStatus,
    Plan,
    ProductType,
    Subscription,
    SubscriptionStatus,
)
from portico.web.forms import add_service_errors
from portico.web.pagination import Page, page_of

PAGE_SIZE = 20  # ORG-5
# The details page lists this many login accounts; an organization's people have their own pages.
LOGIN_ACCOUNTS_SHOWN = 50
# Filters a status tab keeps when it is chosen (the page number is not one of them).
KEPT_BY_TABS = ("q", "plan_type", "credential_status", "added_from", "added_to")
MAX_ID = 2**63 - 1


def _visible(actor: Membership, pk: int) -> Subscription:
    """The organization's subscription if `actor` sees it (GRP-3), with its usage; else a 404."""
    if pk > MAX_ID:
        raise Http404  # the URL takes any digits; the database would refuse to compare them
    subscriptions = policy.restrict(
        Subscription.objects.select_related("organization", "plan", "admin__person"), actor, Action.VIEW
    )
    return get_object_or_404(subscriptions.annotate(seats_used=seats_used(), storage_used=storage_used()), pk=pk)


def _not_viewable(request: HttpRequest, subscription: Subscription) -> HttpResponse:
    """ORG-8: a deleted organization is listed, but its details are not kept viewable."""
    return render(request, "saas/organizations/not_viewable.html", {"subscription": subscription}, status=403)


def _permitted(actor: Membership, action: str, pks: list[int]) -> set[int]:
    """Which of the page's subscriptions `actor` may do `action` on: one query for the whole page."""
    if not pks:
        return set()
    allowed = policy.restrict(Subscription.objects.filter(pk__in=pks), actor, action)
    return set(allowed.values_list("pk", flat=True))


def _mark_rows(actor: Membership, page: Page) -> None:
    """What each row offers (ORG-7, ORG-8), asked of the policy for the page at once, never per row."""
    pks = [row.pk for row in page]
    details = _permitted(actor, SubscriptionAction.VIEW_DETAILS, pks)
    resets = _permitted(actor, SubscriptionAction.SEND_RESET_PASSWORD, pks)
    manages_groups = policy.manages_groups(actor)
    for row in page:
        row.can_view_details = row.pk in details
        row.can_send_reset = row.pk in resets
        row.needs_authentication = row.credential_status == CredentialStatus.NEED_AUTHENTICATION
        row.client_login_denial = policy.client_login_denial(actor, row, manages_groups)


def _kept(chosen: dict) -> dict[str, str]:
    """The valid search and filters, as a query string keeps them."""
    return {name: str(chosen[name]) for name in KEPT_BY_TABS if chosen.get(name)}


def _tabs(chosen: dict) -> list[dict]:
    """ORG-1's status tabs; each keeps the search and filters, and starts at the first page."""
    return [
        {
            "status": status,
            "label": label,
            "query": urlencode({**_kept(chosen), "status": status}),
            "active": status == chosen["status"],
        }
        for status, label in SubscriptionStatus.choices
    ]


@membership_required(MembershipKind.STAFF)
def organization_list(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    filters = OrganizationFilterForm(request.GET)
    filters.is_valid()
    chosen = filters.filters()
    page = page_of(subscriptions_for(actor, chosen), request.GET.get("page"), PAGE_SIZE)
    _mark_rows(actor, page)
    return render(
        request,
        "saas/organizations/list.html",
        {
            "page": page,
            "filters": filters,
            "status": chosen["status"],
            "tabs": _tabs(chosen),
            # Where a row's action returns to: this page, as its valid filters describe it.
            "back": f"{reverse('saas:organizations')}?{urlencode({**_kept(chosen), 'status': chosen['status'], 'page': page.number})}",
            "can_create": policy.can_create(actor, Subscription),
        },
    )


@membership_required(MembershipKind.STAFF)
def organization_new(request: HttpRequest) -> HttpResponse:
    """ORG-9: the organization, its subscription, and its contact invited as its admin."""
    actor = request.membership
    if not policy.can_create(actor, Subscription):
        raise PermissionDenied
    plans = policy.restrict(Plan.objects.all(), actor, Action.VIEW).order_by("name", "pk")
    form = OrganizationForm(request.POST or None, plans=plans, country=actor.partner.country)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription = services.create_organization(
                actor,
                plan=data["plan"],
                name=data["name"],
                contact_email=data["contact_email"],
                contact_first_name=data["contact_first_name"],
                contact_last_name=data["contact_last_name"],
                paid_seats=data["paid_seats"],
                storage_quota_gib=data["storage_quota_gib"],
                country=data["country"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is created. %(email)s is invited as its admin.")
                % {"name": subscription.organization.name, "email": subscription.contact_email},
            )
            return redirect("saas:organization", pk=subscription.pk)
    return render(request, "saas/organizations/new.html", {"form": form, "has_plans": plans.exists()})


def _features(actor: Membership, subscription: Subscription) -> list[tuple[str, int]]:
    """The product types the organization has accounts in, with their counts, in ACC-1's order:
    one GROUP BY. Deleted accounts no longer use a feature."""
    counts = dict(
        policy.restrict(Account.objects.filter(organization_id=subscription.pk), actor, Action.VIEW)
        .exclude(status=AccountStatus.DELETED)
        .order_by()
        .values_list("product_type")
        .annotate(n=Count("pk"))
    )
    return [(label, counts[value]) for value, label in ProductType.choices if counts.get(value)]


def _login_accounts(actor: Membership, subscription: Subscription) -> list[Membership]:
    """The organization's customer-portal users that `actor` may see, by email."""
    people = policy.restrict(
        Membership.objects.filter(kind=MembershipKind.CUSTOMER, organization_id=subscription.pk), actor, Action.VIEW
    )
    return list(people.select_related("person").order_by("person__email", "pk")[: LOGIN_ACCOUNTS_SHOWN + 1])


@membership_required(MembershipKind.STAFF)
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """ORG-8: general, features, subscription, login accounts, credentials, journaling."""
    actor = request.membership
    subscription = _visible(actor, pk)
    if not policy.can(actor, SubscriptionAction.VIEW_DETAILS, subscription):
        return _not_viewable(request, subscription)
    login_accounts = _login_accounts(actor, subscription)
    return render(
        request,
        "saas/organizations/detail.html",
        {
            "subscription": subscription,
            "features": _features(actor, subscription),
            "login_accounts": login_accounts[:LOGIN_ACCOUNTS_SHOWN],
            "more_login_accounts": len(login_accounts) > LOGIN_ACCOUNTS_SHOWN,
            "needs_authentication": subscription.credential_status == CredentialStatus.NEED_AUTHENTICATION,
            "can_send_reset": policy.can(actor, SubscriptionAction.SEND_RESET_PASSWORD, subscription),
            "client_login_denial": policy.client_login_denial(actor, subscription, policy.manages_groups(actor)),
            "device_backups": backup_pages.organization_health(actor, subscription.organization_id),
        },
    )


@membership_required(MembershipKind.STAFF)
def organization_credentials(request: HttpRequest, pk: int) -> HttpResponse:
    """SB-3, ORG-8: why the backup service cannot sign in to the organization's data, and what
    its admin does about it. The connectors that re-authenticate come with the backup engine, so
    this page explains and changes nothing."""
    actor = request.membership
    subscription = _visible(actor, pk)
    if not policy.can(actor, SubscriptionAction.VIEW_DETAILS, subscription):
        return _not_viewable(request, subscription)
    if subscription.credential_status != CredentialStatus.NEED_AUTHENTICATION:
        messages.info(
            request,
            _("The credentials of %(name)s work: nothing needs authentication.")
            % {"name": subscription.organization.name},
        )
        return redirect("saas:organization", pk=subscription.pk)
    return render(request, "saas/organizations/credentials.html", {"subscription": subscription})


def _back(request: HttpRequest) -> HttpResponse:
    """To the page the action was sent from (the list with its filters), if it is on this site."""
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(url)
    return redirect(reverse("saas:organizations"))


@require_POST
@membership_required(MembershipKind.STAFF)
def organization_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    """ORG-8, ID-7: the organization's admin (its contact) gets a link to choose a new password."""
    actor = request.membership
    subscription = _visible(actor, pk)
    services.send_reset_password(actor, subscription)
    messages.success(
        request,
        _("A password reset link is on its way to %(email)s, the admin of %(name)s.")
        % {"email": subscription.admin.person.email, "name": subscription.organization.name},
    )
    return _back(request)

