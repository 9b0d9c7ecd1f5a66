"""The "Report details" of each dashboard widget (CSV-2): the widget's figure broken down per
organization, so the rows add up to what the widget showed.

Protection coverage and seat usage are today's state; the organizations and accounts widgets'
files hold what was added in the period the dashboard showed, its days fixed when the export is
asked for. Rows are read as plain tuples through the policy, streamed in batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import F, Sum, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.identity.models import Membership
from portico.reports import figures
from portico.reports.exports import ExportKind, register_export
from portico.reports.figures import PERIOD_CHOICES, Period, PeriodForm, Share
from portico.saas.models import AccountStatus, PlanType, SubscriptionStatus

BATCH = 2000
_UNSAFE_IN_NAMES = str.maketrans({ch: "-" for ch in '\\/:*?"<>|'})


def _filename(title: str, actor: Membership, at: datetime) -> str:
    """`<Widget> <Partner name> <Generated date & time>`, as the other exports name their files."""
    name = f"{title} {actor.partner.name} {at:%Y-%m-%d %H-%M}".translate(_UNSAFE_IN_NAMES)
    return "".join(ch for ch in name if ch.isprintable()).strip(" .")


# Today's state: no filter to validate.


def _no_params(actor: Membership, data: QueryDict) -> dict:
    return {}


def _today(actor: Membership, params: dict) -> list[tuple[str, str]]:
    return [(_("Figures of"), date_format(timezone.localdate()))]


# The period of the organizations and accounts widgets (DASH-2).


def _period_params(actor: Membership, data: QueryDict) -> dict:
    """The period the dashboard showed, with its days fixed now: a file asked for on the last day
    of a month still holds that month when the job runs after midnight."""
    form = PeriodForm(data)
    if not form.is_valid():
        raise ValidationError(_("That period is unknown."))
    period = form.chosen()
    return {
        "period": period.key,
        "added_from": period.first_day.isoformat() if period.first_day else "",
        "added_to": period.last_day.isoformat() if period.last_day else "",
    }


def _period(params: dict) -> Period:
    if params.get("period") not in dict(PERIOD_CHOICES):
        raise ValidationError(_("That period is unknown."))
    try:
        first = date.fromisoformat(params["added_from"]) if params.get("added_from") else None
        last = date.fromisoformat(params["added_to"]) if params.get("added_to") else None
    except ValueError as error:
        raise ValidationError(_("That period is unknown.")) from error
    return Period(params["period"], first, last)


def _describe_period(actor: Membership, params: dict) -> list[tuple[str, str]]:
    period = _period(params)
    return [(_("Added"), f"{period.label} ({period.dates_label})")]


# Protection coverage: per organization, its active accounts and how many are backed up.


def _coverage_rows_query(actor: Membership):
    return (
        figures.account_tallies(actor)
        .filter(active__gt=0)
        .values("organization__name", "organization_id", accounts=F("active"), backed_up=F("active_backed_up"))
        .order_by("organization__name", "organization_id")
    )


def coverage_columns() -> list[str]:
    return [_("Organization"), _("Organization id"), _("Active accounts"), _("Backed up"), _("Coverage (%)")]


def coverage_rows(actor: Membership, params: dict) -> Iterator[Sequence[object]]:
    for row in _coverage_rows_query(actor).iterator(chunk_size=BATCH):
        share = Share(row["backed_up"], row["accounts"])
        yield (row["organization__name"], row["organization_id"], share.whole, share.part, share.percent)


COVERAGE = register_export(
    ExportKind(
        key="dashboard.coverage",
        title=gettext_lazy("Protection coverage"),
        columns=coverage_columns,
        params=_no_params,
        count=lambda actor, params: _coverage_rows_query(actor).count(),
        rows=coverage_rows,
        filename=lambda actor, params, at: _filename(_("Protection coverage"), actor, at),
        describe=_today,
    )
)


# Seat usage: per active subscription, its paid seats and the seats in use.


def _seat_rows_query(actor: Membership):
    return (
        figures.subscriptions(actor)
        .filter(status=SubscriptionStatus.ACTIVE)
        .annotate(seats_used=Coalesce("organization__account_tally__active_backed_up", 0))
        .order_by("organization__name", "organization_id")
        .values_list("organization__name", "organization_id", "plan__name", "paid_seats", "seats_used")
    )


def seat_columns() -> list[str]:
    return [_("Organization"), _("Organization id"), _("Plan"), _("Paid seats"), _("Seats used"), _("Usage (%)")]


def seat_rows(actor: Membership, params: dict) -> Iterator[Sequence[object]]:
    for name, pk, plan, paid, used in _seat_rows_query(actor).iterator(chunk_size=BATCH):
        yield (name, pk, plan, paid, used, Share(used, paid).percent)


SEATS = register_export(
    ExportKind(
        key="dashboard.seats",
        title=gettext_lazy("Seat usage"),
        columns=seat_columns,
        params=_no_params,
        count=lambda actor, params: _seat_rows_query(actor).count(),
        rows=seat_rows,
        filename=lambda actor, params, at: _filename(_("Seat usage"), actor, at),
        describe=_today,
    )
)


# Organizations by status: each organization added in the period, with its status.


def _organization_rows_query(actor: Membership, params: dict):
    return (
        figures.subscriptions(actor)
        .filter(_period(params).window("created_at"), status__in=figures.ORGANIZATION_STATUSES)
        .order_by("organization__name", "organization_id")
        .values_list(
            "organization__name", "organization_id", "status", "plan__name", "plan__plan_type", "paid_seats",
            "created_at",
        )
    )


def organization_columns() -> list[str]:
    return [_("Organization"), _("Organization id"), _("Status"), _("Plan"), _("Plan type"), _("Paid seats"), _("Added")]


def organization_rows(actor: Membership, params: dict) -> Iterator[Sequence[object]]:
    statuses = {value: str(label) for value, label in SubscriptionStatus.choices}
    plan_types = {value: str(label) for value, label in PlanType.choices}
    for name, pk, status, plan, plan_type, seats, added in _organization_rows_query(actor, params).iterator(
        chunk_size=BATCH
    ):
        yield (name, pk, statuses[status], plan, plan_types[plan_type], seats, added.isoformat(timespec="seconds"))


ORGANIZATIONS = register_export(
    ExportKind(
        key="dashboard.organizations",
        title=gettext_lazy("Organizations by status"),
        columns=organization_columns,
        params=_period_params,
        count=lambda actor, params: _organization_rows_query(actor, params).count(),
        rows=organization_rows,
        filename=lambda actor, params, at: _filename(_("Organizations by status"), actor, at),
        describe=_describe_period,
    )
)


# Accounts by status: per organization, the accounts added in the period by status.


def _account_rows_query(actor: Membership, params: dict):
    statuses = [status.value for status in figures.ACCOUNT_STATUSES]
    return (
        figures.tallies_added_in(actor, _period(params))
        .values("organization__name", "organization_id")
        .annotate(**{f"added_{status}": Sum(status) for status in statuses})
        .annotate(total=sum((F(f"added_{status}") for status in statuses), Value(0)))
        .filter(total__gt=0)
        .order_by("organization__name", "organization_id")
    )


def account_columns() -> list[str]:
    return [_("Organization"), _("Organization id"), _("Active"), _("Deactivated"), _("Deleted"), _("Total")]


def account_rows(actor: Membership, params: dict) -> Iterator[Sequence[object]]:
    for row in _account_rows_query(actor, params).iterator(chunk_size=BATCH):
        yield (
            row["organization__name"], row["organization_id"], row[f"added_{AccountStatus.ACTIVE}"],
            row[f"added_{AccountStatus.DEACTIVATED}"], row[f"added_{AccountStatus.DELETED}"], row["total"],
        )


ACCOUNTS = register_export(
    ExportKind(
        key="dashboard.accounts",
        title=gettext_lazy("Accounts by status"),
        columns=account_columns,
        params=_period_params,
        count=lambda actor, params: _account_rows_query(actor, params).count(),
        rows=account_rows,
        filename=lambda actor, params, at: _filename(_("Accounts by status"), actor, at),
        describe=_describe_period,
    )
)
