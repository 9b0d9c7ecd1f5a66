"""The filters of the organizations page (ORG-1 … ORG-3) and the accounts page (ACC-1), and the rows
they select. The pages, their CSV exports (ORG-6, ACC-4), the dashboard's links and the API all
read these, so an export holds exactly the rows the page showed.

Every list starts from `policy.restrict`; seat and storage usage are derived here, in SQL, from
the accounts and their sections (never stored twice).
"""

from __future__ import annotations

from django import forms
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from portico.access import policy
from portico.access.policy import Action
from portico.saas.models import (
    Account,
    AccountSection,
    AccountStatus,
    BackupResult,
    CredentialStatus,
    EmailKind,
    PlanType,
    ProductType,
    Subscription,
    SubscriptionStatus,
)
from portico.tenancy.models import Organization

SEARCH_MAX = 200


class OrganizationFilterForm(forms.Form):
    """ORG-1 … ORG-3: the status tab, a partial search by name or id, plan type and credential status."""

    status = forms.ChoiceField(label=_("Status"), required=False, choices=SubscriptionStatus.choices)
    q = forms.CharField(label=_("Search by name or id"), required=False, max_length=SEARCH_MAX, strip=True)
    plan_type = forms.ChoiceField(label=_("Plan"), required=False, choices=[("", _("All plans"))] + PlanType.choices)
    credential_status = forms.ChoiceField(
        label=_("Credential status"),
        required=False,
        choices=[("", _("All credential statuses")), (CredentialStatus.NEED_AUTHENTICATION, _("Need authentication"))],
    )
    # DASH-2: the dashboard links to the organizations added in its period.
    added_from = forms.DateField(label=_("Added from"), required=False, widget=forms.HiddenInput)
    added_to = forms.DateField(label=_("Added until"), required=False, widget=forms.HiddenInput)

    def clean_status(self) -> str:
        return self.cleaned_data["status"] or SubscriptionStatus.ACTIVE  # ORG-1: Active by default

    def filters(self) -> dict:
        """The valid filters; a field with a bad value counts as not given, and shows its error."""
        data = getattr(self, "cleaned_data", {}) if self.is_bound else {}
        clean = {name: data.get(name) for name in self.fields if name not in self.errors}
        clean["status"] = clean.get("status") or SubscriptionStatus.ACTIVE
        return clean


def _search_organizations(queryset: QuerySet, text: str) -> QuerySet:
    """ORG-2: part of the name, or the id. Django's icontains escapes % and _ and binds the text."""
    condition = Q(organization__name__icontains=text)
    if text.isdigit() and len(text) <= 18:
        condition |= Q(organization_id=int(text))
    return queryset.filter(condition)


def seats_used() -> Subquery:
    """The organization's seats in use: its active accounts that are backed up."""
    used = (
        Account.objects.filter(organization_id=OuterRef("organization_id"), status=AccountStatus.ACTIVE, backed_up=True)
        .order_by()
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(used, output_field=IntegerField()), Value(0))


def storage_used() -> Subquery:
    """The bytes the organization's accounts hold, all sections added up."""
    used = (
        AccountSection.objects.filter(account__organization_id=OuterRef("organization_id"))
        .order_by()
        .values("account__organization_id")
        .annotate(total=Sum("bytes"))
        .values("total")
    )
    return Coalesce(Subquery(used), Value(0))


def subscriptions_for(actor, filters: dict) -> QuerySet[Subscription]:
    """The organizations page's rows (ORG-4), in name order, each with its seat and storage usage."""
    rows = policy.restrict(Subscription.objects.all(), actor, Action.VIEW).filter(status=filters["status"])
    if filters.get("q"):
        rows = _search_organizations(rows, filters["q"])
    if filters.get("plan_type"):
        rows = rows.filter(plan__plan_type=filters["plan_type"])
    if filters.get("credential_status"):
        rows = rows.filter(credential_status=filters["credential_status"])
    if filters.get("added_from"):
        rows = rows.filter(created_at__date__gte=filters["added_from"])
    if filters.get("added_to"):
        rows = rows.filter(created_at__date__lte=filters["added_to"])
    return (
        rows.select_related("organization", "plan", "admin__person")
        .annotate(seats_used=seats_used(), storage_used=storage_used())
        .order_by("organization__name", "organization_id")
    )


class AccountFilterForm(forms.Form):
    """ACC-1: organization (default all), product type (email by kind), status, partial search."""

    product_type = forms.ChoiceField(
        label=_("Product type"),
        required=False,
        choices=[("", _("All product types"))]
        + [(ProductType.EMAIL.value, ProductType.EMAIL.label)]
        + [(f"email:{kind}", f"{ProductType.EMAIL.label} — {label}") for kind, label in EmailKind.choices]
        + [choice for choice in ProductType.choices if choice[0] != ProductType.EMAIL],
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All statuses"))] + AccountStatus.choices)
    q = forms.CharField(label=_("Search by email, organization or account id"), required=False, max_length=SEARCH_MAX)
    added_from = forms.DateField(label=_("Added from"), required=False, widget=forms.HiddenInput)
    added_to = forms.DateField(label=_("Added until"), required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organizations: QuerySet[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"] = forms.ModelChoiceField(
            label=_("Organization"), queryset=organizations, required=False, empty_label=_("All organizations")
        )
        self.order_fields(["organization", "product_type", "status", "q"])

    def filters(self) -> dict:
        data = getattr(self, "cleaned_data", {}) if self.is_bound else {}
        return {name: data.get(name) for name in self.fields if name not in self.errors}


def _search_accounts(queryset: QuerySet, text: str) -> QuerySet:
    """ACC-1: part of the email (or a site's name), the account id, or the organization's name."""
    return queryset.filter(
        Q(address__icontains=text) | Q(external_id__icontains=text) | Q(organization__name__icontains=text)
    )


def account_status_worst() -> Subquery:
    """An account's backup status: the worst last result of its sections (BackupResult's order)."""
    order = {result: rank for rank, result in enumerate(BackupResult.values)}
    rank = Case(*(When(last_result=result, then=Value(r)) for result, r in order.items()), default=Value(len(order)))
    worst = (
        AccountSection.objects.filter(account_id=OuterRef("pk"))
        .annotate(rank=rank)
        .order_by("-rank")
        .values("last_result")[:1]
    )
    return Subquery(worst)


def accounts_for(actor, filters: dict) -> QuerySet[Account]:
    """The accounts page's rows (ACC-2), newest id first, with the organization's name."""
    rows = policy.restrict(Account.objects.all(), actor, Action.VIEW)
    if filters.get("organization") is not None:
        rows = rows.filter(organization=filters["organization"])
    product_type = filters.get("product_type") or ""
    if product_type.startswith("email:"):
        rows = rows.filter(product_type=ProductType.EMAIL, email_kind=product_type.removeprefix("email:"))
    elif product_type:
        rows = rows.filter(product_type=product_type)
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    if filters.get("q"):
        rows = _search_accounts(rows, filters["q"])
    if filters.get("added_from"):
        rows = rows.filter(added_at__date__gte=filters["added_from"])
    if filters.get("added_to"):
        rows = rows.filter(added_at__date__lte=filters["added_to"])
    return rows.select_related("organization").order_by("-id")
