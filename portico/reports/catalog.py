"""The export kinds of the partner portal's own lists: organizations (ORG-6) and accounts (ACC-4, CSV-1).

Both validate the request with the form of their page and read the rows from the page's own
queryset (`portico.saas.filters`), so a file holds exactly the rows the page selected, in its
order. Rows are read as plain tuples in batches, never as model instances, so the worker's memory
does not grow with the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import CharField, Func, Model, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import Membership
from portico.reports.exports import ExportKind, register_export
from portico.saas.filters import AccountFilterForm, OrganizationFilterForm, accounts_for, subscriptions_for
from portico.saas.models import (
    AccountStatus,
    BackupResult,
    CredentialStatus,
    EmailKind,
    PlanType,
    ProductType,
    SubscriptionStatus,
)
from portico.tenancy.models import Organization

# Rows read per query: large enough that the round trips do not count, small enough to stay flat.
BATCH = 5000
_UNSAFE_IN_NAMES = str.maketrans({ch: "-" for ch in '\\/:*?"<>|'})


# Filters: the page's form, its valid values as JSON-able params, and back.


def _jsonable(value: Any) -> str:
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _validated(form: forms.Form) -> dict:
    """The form's given values as strings, or a ValidationError with every field's errors.

    A page shows a bad filter's error and lists the rows without it; an export refuses instead,
    so that a file never holds more than the person asked for.
    """
    if not form.is_valid():
        raise ValidationError([
            f"{form.fields[name].label}: {message}" if name in form.fields else message
            for name, messages in form.errors.items()
            for message in messages
        ])
    return {name: _jsonable(value) for name, value in form.cleaned_data.items() if value not in (None, "")}


def _described(form: forms.Form) -> list[tuple[str, str]]:
    """Each given filter as (label, value in words) for the confirmation page."""
    words = []
    for name, value in form.cleaned_data.items():
        if value in (None, ""):
            continue
        field = form.fields[name]
        if isinstance(field, forms.ModelChoiceField):
            shown = str(value)
        elif isinstance(field, forms.ChoiceField):
            shown = str(dict(field.choices).get(value, value))
        else:
            shown = str(value)
        words.append((str(field.label), shown))
    return words


def _organizations(actor: Membership) -> QuerySet[Organization]:
    return policy.restrict(Organization.objects.all(), actor, Action.VIEW)


def _organization_form(actor: Membership, data: QueryDict | dict) -> OrganizationFilterForm:
    return OrganizationFilterForm(data)


def _account_form(actor: Membership, data: QueryDict | dict) -> AccountFilterForm:
    return AccountFilterForm(data, organizations=_organizations(actor))


def _filters(form: forms.Form) -> dict:
    """The filters of params validated once more in the worker: an organization no longer in reach
    is an error, never a silently wider file."""
    _validated(form)
    return form.filters()


def _safe_name(name: str) -> str:
    """A file name every system accepts: no path separators, reserved or control characters."""
    return "".join(ch for ch in name.translate(_UNSAFE_IN_NAMES) if ch.isprintable()).strip(" .")


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H-%M")


def _labels(choices: Sequence[tuple[str, Any]]) -> dict[str, str]:
    """A choice's value → its label in the current language, resolved once per export, not per row."""
    return {value: str(label) for value, label in choices}


class IsoUtc(Func):
    """A moment as ISO 8601 text in UTC ("2026-11-29T14:05:00Z"), written by the database: reading
    timestamps into Python datetimes and formatting them back cost more than the rest of a row."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # A literal % in Django's SQL is written %%, and the template's own formatting halves it once.
        template = "strftime('%%%%Y-%%%%m-%%%%dT%%%%H:%%%%M:%%%%SZ', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _descending_batches(queryset: QuerySet, size: int = BATCH, bounds: Sequence[str] = ("id",)) -> Iterator[list[tuple]]:
    """Every row of `queryset` (ordered by id, newest first, id its first column) in lists of `size`,
    one indexed range per query: no cursor is held open, so the job reports progress meanwhile.
    Each of `bounds` (the id, and the key of a table joined one to one) is kept below the last id,
    so that each joined index is read from there too.

    The queryset's own SQL is run on a plain cursor: the rows are final text and numbers already,
    and Django's per-value converters cost more than reading them."""
    connection = connections[queryset.db]
    last = None
    while True:
        page = queryset if last is None else queryset.filter(**{f"{bound}__lt": last for bound in bounds})
        sql, params = page[:size].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        yield rows
        if len(rows) < size:
            return
        last = rows[-1][0]


# Organizations (ORG-6).


def organization_columns() -> list[str]:
    return [
        _("Name"), _("Organization id"), _("Contact email"), _("Country"), _("Plan"), _("Plan type"), _("Price"),
        _("Currency"), _("Paid seats"), _("Seats used"), _("Storage quota (bytes)"), _("Storage used (bytes)"),
        _("Credential status"), _("Status"), _("Created"),
    ]


def organization_count(actor: Membership, params: dict) -> int:
    return subscriptions_for(actor, _filters(_organization_form(actor, params))).count()


def organization_rows(actor: Membership, params: dict) -> Iterator[Sequence[object]]:
    plan_types, credentials, statuses = (
        _labels(PlanType.choices), _labels(CredentialStatus.choices), _labels(SubscriptionStatus.choices)
    )
    rows = subscriptions_for(actor, _filters(_organization_form(actor, params)))
    rows = rows.annotate(created=IsoUtc("created_at")).values_list(
        "organization__name", "organization_id", "contact_email", "country", "plan__name", "plan__plan_type",
        "plan__price", "plan__currency", "paid_seats", "seats_used", "storage_quota_bytes", "storage_used",
        "credential_status", "status", "created",
    )
    # A partner has at most some thousands of organizations: one streamed query in the page's order.
    for (name, pk, email, country, plan, plan_type, price, currency, seats, used, quota, stored,
         credential, status, created) in rows.iterator(chunk_size=BATCH):
        yield (
            name, pk, email, country, plan, plan_types.get(plan_type, plan_type), price, currency, seats, used,
            quota, stored, credentials.get(credential, credential), statuses.get(status, status), created,
        )


def organization_filename(actor: Membership, params: dict, at: datetime) -> str:
    status = SubscriptionStatus(params.get("status") or SubscriptionStatus.ACTIVE).label
    return _safe_name(
        _("%(status)s Organizations %(partner)s %(time)s")
        % {"status": status, "partner": actor.partner.name, "time": _stamp(at)}
    )


def describe_organizations(actor: Membership, params: dict) -> list[tuple[str, str]]:
    form = _organization_form(actor, params)
    return _described(form) if form.is_valid() else []


ORGANIZATIONS = register_export(
    ExportKind(
        key="organizations",
        title=gettext_lazy("Organizations"),
        columns=organization_columns,
        params=lambda actor, data: _validated(_organization_form(actor, data)),
        count=organization_count,
        rows=organization_rows,
        filename=organization_filename,
        describe=describe_organizations,
    )
)


# Accounts (ACC-4, CSV-1).


def account_columns() -> list[str]:
    return [
        _("Email or name"), _("Organization"), _("Account id"), _("Product type"), _("Email kind"), _("Status"),
        _("Backed up"), _("Date added"), _("Last backup"), _("Backup status"), _("Items"), _("Data size (bytes)"),
    ]


def account_count(actor: Membership, params: dict) -> int:
    return accounts_for(actor, _filters(_account_form(actor, params))).count()


def account_rows(actor: Membership, params: dict) -> Iterator[Sequence[object]]:
    # One query a batch reads the accounts with their totals (`AccountTotals`: one row each, kept
    # by the database as the sections change) and the times as text: an inner join on the totals'
    # key, which PostgreSQL merges with the accounts, both indexes read backwards from the batch's
    # start. Choices become labels in the requester's language and organizations their names
    # through dictionaries made once per export: the database does the least work a row can cost,
    # and Python a lookup a cell.
    products, kinds, statuses = _labels(ProductType.choices), _labels(EmailKind.choices), _labels(AccountStatus.choices)
    results = _labels(BackupResult.choices)
    backed_up = {True: _("Yes"), False: _("No")}
    organizations = dict(Organization.objects.filter(partner_id=actor.partner_id).values_list("id", "name"))
    rows = (
        accounts_for(actor, _filters(_account_form(actor, params)))
        .filter(totals__isnull=False)  # every account has its totals: an inner join from the first batch on
        .annotate(added=IsoUtc("added_at"), last_backup=IsoUtc("totals__last_backup_at"))
        .values_list(
            "id", "address", "organization_id", "external_id", "product_type", "email_kind", "status", "backed_up",
            "added", "last_backup", "totals__worst_result", "totals__item_count", "totals__bytes",
        )
    )
    for batch in _descending_batches(rows, bounds=("id", "totals__account_id")):
        yield from [
            (address, organizations.get(organization, ""), external_id, products.get(product, ""),
             kinds.get(kind, ""), statuses.get(status, ""), backed_up[bool(protected)], added, last_backup,
             results.get(worst, ""), items, size)
            for (_id, address, organization, external_id, product, kind, status, protected, added, last_backup,
                 worst, items, size) in batch
        ]


def _product_label(value: str) -> str:
    if value.startswith("email:"):
        return str(EmailKind(value.removeprefix("email:")).label)
    return str(ProductType(value).label)


def account_filename(actor: Membership, params: dict, at: datetime) -> str:
    """CSV-1: `<Status> <Type> Account <Partner name> <Generated date & time>`, "All" where not filtered."""
    status = AccountStatus(params["status"]).label if params.get("status") else _("All")
    product = _product_label(params["product_type"]) if params.get("product_type") else _("All")
    return _safe_name(
        _("%(status)s %(type)s Account %(partner)s %(time)s")
        % {"status": status, "type": product, "partner": actor.partner.name, "time": _stamp(at)}
    )


def describe_accounts(actor: Membership, params: dict) -> list[tuple[str, str]]:
    form = _account_form(actor, params)
    return _described(form) if form.is_valid() else []


ACCOUNTS = register_export(
    ExportKind(
        key="accounts",
        title=gettext_lazy("Accounts"),
        columns=account_columns,
        params=lambda actor, data: _validated(_account_form(actor, data)),
        count=account_count,
        rows=account_rows,
        filename=account_filename,
        describe=describe_accounts,
    )
)
