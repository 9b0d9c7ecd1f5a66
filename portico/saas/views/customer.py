"""The customer portal's home: the organization's plan, its backup figures, and the backed-up
accounts the customer-portal membership may see with how their backups are doing. A staff user
who logs in as client (ORG-7) lands here as the organization's admin."""

from __future__ import annotations

from django import forms
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import Membership, MembershipKind
from portico.identity.views import membership_required
from portico.saas.badges import RESULT_BADGES, STATUS_BADGES
from portico.saas.filters import SEARCH_MAX, account_status_worst, seats_used
from portico.saas.impersonation import record_client_view
from portico.saas.models import Account, AccountSection, AccountStatus, BackupResult, Subscription
from portico.web.pagination import page_of

PAGE_SIZE = 25


class AccountSearchForm(forms.Form):
    q = forms.CharField(label=_("Search by email, name or account id"), required=False, max_length=SEARCH_MAX)

    def text(self) -> str:
        """The search text, or "" when none was given or it is invalid (its error is shown)."""
        return self.cleaned_data.get("q", "").strip() if self.is_valid() else ""


def _last_backup() -> Subquery:
    latest = (
        AccountSection.objects.filter(account_id=OuterRef("pk"), last_backup_at__isnull=False)
        .order_by("-last_backup_at")
        .values("last_backup_at")[:1]
    )
    return Subquery(latest)


def _accounts(membership: Membership, text: str) -> QuerySet[Account]:
    rows = policy.restrict(Account.objects.all(), membership, Action.VIEW)
    if text:
        # Django's icontains escapes % and _ and binds the text.
        rows = rows.filter(Q(address__icontains=text) | Q(external_id__icontains=text))
    return rows.annotate(backup_status=account_status_worst(), last_backup=_last_backup()).order_by("address", "id")


def _figures(membership: Membership) -> dict[str, int]:
    """The accounts the membership sees that are not deleted, and those of them backed up: one query."""
    visible = policy.restrict(Account.objects.exclude(status=AccountStatus.DELETED), membership, Action.VIEW)
    return visible.aggregate(
        accounts=Count("pk"), backed_up=Count("pk", filter=Q(status=AccountStatus.ACTIVE, backed_up=True))
    )


def _label(row: Account) -> Account:
    """Labels and badge colours of one row, in Python: the page stays one query however many rows."""
    row.status_badge = STATUS_BADGES.get(row.status, "text-bg-secondary")
    if not row.backed_up:
        row.backup_label, row.backup_badge = _("Not backed up"), "text-bg-light border"
    else:
        result = BackupResult(row.backup_status or BackupResult.NEVER)
        row.backup_label, row.backup_badge = result.label, RESULT_BADGES[result]
    return row


@membership_required(MembershipKind.CUSTOMER)
def customer_home(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    subscription = (
        policy.restrict(Subscription.objects.select_related("plan"), membership, Action.VIEW)
        .filter(organization_id=membership.organization_id)
        .annotate(seats_used=seats_used())
        .first()
    )
    search = AccountSearchForm(request.GET or None)
    text = search.text()
    page = page_of(_accounts(membership, text), request.GET.get("page"), PAGE_SIZE)
    for row in page:
        _label(row)
    record_client_view(request, "customer.accounts_viewed", membership.organization, q=text, page=page.number)
    return render(
        request,
        "saas/customer/home.html",
        {"subscription": subscription, "figures": _figures(membership), "search": search, "page": page},
    )
