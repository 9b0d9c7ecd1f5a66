"""The partner portal's accounts page (ACC-1, ACC-2) and an account's details (ACC-3): every
backed-up mailbox, drive, site and team of the organizations a staff user sees (GRP-3).

Every staff role sees them, Finance too (it bills the seats they take); an account out of reach is
a 404. These pages only read: the backup engine writes the results they show.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from portico.access import policy
from portico.access.policy import Action, SubscriptionAction
from portico.identity.models import Membership, MembershipKind
from portico.identity.views import membership_required
from portico.saas.badges import RESULT_BADGES, STATUS_BADGES
from portico.saas.filters import AccountFilterForm, account_status_worst, accounts_for
from portico.saas.models import (
    Account,
    AccountSection,
    AccountStatus,
    BackupResult,
    EmailKind,
    ProductType,
    Section,
    Subscription,
)
from portico.tenancy.models import Organization
from portico.web.keyset import keyset_page

PAGE_SIZE = 25
# Newest first: the `account_page` index (partner, product type, status, id) serves it filtered.
ORDERING = ["-id"]



def _organizations(actor: Membership) -> QuerySet[Organization]:
    """The organization filter's choices (ACC-1): those the actor sees (GRP-3)."""
    return policy.restrict(Organization.objects.all(), actor, Action.VIEW).order_by("name", "pk")


def _with_details(actor: Membership, organization_ids: set[int]) -> set[int]:
    """Of these organizations, those whose details page `actor` may open (ORG-8: not deleted ones),
    asked once for the whole page."""
    if not organization_ids:
        return set()
    subscriptions = Subscription.objects.filter(organization_id__in=organization_ids)
    allowed = policy.restrict(subscriptions, actor, SubscriptionAction.VIEW_DETAILS)
    return set(allowed.values_list("organization_id", flat=True))


def _label_rows(accounts) -> None:
    """Labels translated once per page rather than through `get_..._display` in every row."""
    types = {value: str(label) for value, label in ProductType.choices}
    kinds = {value: str(label) for value, label in EmailKind.choices}
    statuses = {value: str(label) for value, label in AccountStatus.choices}
    results = {value: str(label) for value, label in BackupResult.choices}
    for account in accounts:
        # An account without sections has not been backed up yet.
        result = account.backup_status or BackupResult.NEVER
        account.type_label = f"{types[account.product_type]} — {kinds[account.email_kind]}" if account.email_kind else types[account.product_type]
        account.status_label, account.status_badge = statuses[account.status], STATUS_BADGES[account.status]
        account.result_label, account.result_badge = results[result], RESULT_BADGES[result]


@membership_required(MembershipKind.STAFF)
def account_list(request: HttpRequest) -> HttpResponse:
    """ACC-1, ACC-2: the filtered accounts, newest first, on keyset pages (no count of the list)."""
    actor = request.membership
    filters = AccountFilterForm(request.GET, organizations=_organizations(actor))
    filters.is_valid()
    accounts = accounts_for(actor, filters.filters()).annotate(backup_status=account_status_worst())
    page = keyset_page(accounts, ORDERING, request.GET.get("cursor"), PAGE_SIZE)
    _label_rows(page)
    return render(
        request,
        "saas/accounts/list.html",
        {
            "page": page,
            "filters": filters,
            "with_details": _with_details(actor, {account.organization_id for account in page}),
        },
    )


@membership_required(MembershipKind.STAFF)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """ACC-3: "Account details" with a card per section, or "Site details" / "Group details"
    for SharePoint sites and groups or teams, whose files are their one section."""
    actor = request.membership
    account = get_object_or_404(
        policy.restrict(Account.objects.select_related("organization"), actor, Action.VIEW).annotate(
            backup_status=account_status_worst()
        ),
        pk=pk,
    )
    _label_rows([account])
    order = {value: rank for rank, value in enumerate(Section.values)}
    sections = sorted(
        policy.restrict(AccountSection.objects.filter(account=account), actor, Action.VIEW),
        key=lambda section: order[section.section],
    )
    for section in sections:
        section.result_badge = RESULT_BADGES[section.last_result]
        section.status_badge = STATUS_BADGES[section.status]
    context = {
        "account": account,
        "sections": sections,
        "total_bytes": sum(section.bytes for section in sections),
        "can_view_organization": bool(_with_details(actor, {account.organization_id})),
    }
    if account.is_site:
        context["files"] = next((s for s in sections if s.section == Section.FILES), None)
        return render(request, "saas/accounts/site.html", context)
    return render(request, "saas/accounts/detail.html", context)
