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
    RESULTS_BEST_TO_WORST,
    Account,
    AccountSection,
    AccountStatus,
    CredentialStatus,
    EmailKind,
    PlanType,
    ProductType,
    Subscription,
    SubscriptionStatus,
)
from portico.tenancy.forms import filter_by_organization, organization_filter_field
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
    if text.isascii() and text.isdigit() and len(text) <= 18:
        condition |= Q(organization_id=int(text))
    return queryset.filter(condition)


def seats_used() -> Subquery:
    """The organization's seats in use: its active accounts that are backed up.

    Counted from the account_org_seats index (organization, status, backed_up) without reading a
    row: counting a column of the index, not the id, lets PostgreSQL answer from the index alone.
    """
    used = (
        Account.objects.filter(organization_id=OuterRef("organization_id"), status=AccountStatus.ACTIVE, backed_up=True)
        .order_by()
        .values("organization_id")
        .annotate(n=Count("status"))
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
        # The organization's partner is the subscription's: said of the organization too, it lets
        # PostgreSQL walk the organizations' (partner, name) index and stop after a page, where it
        # joined and sorted every subscription of the partner (20 ms at 10,000 organizations).
        rows.filter(organization__partner_id=actor.partner_id)
        .select_related("organization", "plan", "admin__person")
        .annotate(seats_used=seats_used(), storage_used=storage_used())
        .order_by("organization__name", "organization_id")
    )


class AccountFilterForm(forms.Form):
    """ACC-1: organization (default all), product type (email by kind), status, partial search.

    The organization is a menu of the organizations the actor sees, or past the menu's limit a
    search by name (`portico.tenancy.forms`), where a number is an organization's id from a link.
    A value that does not fit is a field error and is left out of the filter.
    """

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
        self.fields["organization"] = organization_filter_field(organizations)
        self.order_fields(["organization", "product_type", "status", "q"])

    def filters(self) -> dict:
        data = getattr(self, "cleaned_data", {}) if self.is_bound else {}
        return {name: data.get(name) for name in self.fields if name not in self.errors}


# Organizations an account search names by id (`_search_accounts`).
ORGANIZATION_MATCHES = 50


def _search_accounts(queryset: QuerySet, text: str, actor) -> QuerySet:
    """ACC-1: part of the email (or a site's name), of the account id, or of the organization's name.

    The organizations whose name fits are asked first (a few thousand rows at most), and up to
    ORGANIZATION_MATCHES of them are named by id: on PostgreSQL each part of the condition then
    reads an index (the trigram indexes of migration 0002 for the address and the account id,
    `account_org_page` for the organizations), where a join on the organization's name would read
    every account of the partner. More organizations fit only short, common text, whose accounts
    come early in the newest-first walk anyway.
    """
    organizations = policy.restrict(Organization.objects.filter(name__icontains=text), actor, Action.VIEW)
    named = list(organizations.order_by().values_list("pk", flat=True)[: ORGANIZATION_MATCHES + 1])
    if len(named) > ORGANIZATION_MATCHES:
        by_organization = Q(organization_id__in=organizations.values("pk"))
    else:
        by_organization = Q(organization_id__in=named)
    return queryset.filter(Q(address__icontains=text) | Q(external_id__icontains=text) | by_organization)


def account_status_worst() -> Subquery:
    """An account's backup status: the worst last result of its sections (RESULTS_BEST_TO_WORST)."""
    order = {result: rank for rank, result in enumerate(RESULTS_BEST_TO_WORST)}
    rank = Case(*(When(last_result=result, then=Value(r)) for result, r in order.items()), default=Value(len(order)))
    worst = (
        AccountSection.objects.filter(account_id=OuterRef("pk"))
        .annotate(rank=rank)
        .order_by("-rank")
        .values("last_result")[:1]
    )
    return Subquery(worst)


def _organization_id(value):
    """The organization filter's value, with a number typed or linked as text read as an id."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and int(value) < 2**63:
        return int(value)
    return value


def accounts_for(actor, filters: dict) -> QuerySet[Account]:
    """The accounts page's rows (ACC-2), newest id first, with the organization's name.

    `filters["organization"]` may be an organization, its id, or part of its name (ACC-1)."""
    rows = policy.restrict(Account.objects.all(), actor, Action.VIEW)
    rows = filter_by_organization(rows, _organization_id(filters.get("organization")))
    product_type = filters.get("product_type") or ""
    if product_type.startswith("email:"):
        rows = rows.filter(product_type=ProductType.EMAIL, email_kind=product_type.removeprefix("email:"))
    elif product_type:
        rows = rows.filter(product_type=product_type)
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    if filters.get("q"):
        rows = _search_accounts(rows, filters["q"], actor)
    if filters.get("added_from"):
        rows = rows.filter(added_at__date__gte=filters["added_from"])
    if filters.get("added_to"):
        rows = rows.filter(added_at__date__lte=filters["added_to"])
    return rows.select_related("organization").order_by("-id")
