"""The partner dashboard's figures (DASH-1) and the period they are read for (DASH-2).

Each figure is one aggregate query over what the policy lets the staff user see (GRP-3), never a
query per organization. Protection coverage and seat usage are the state of today; the
organizations and accounts widgets count what was added in the period, so their numbers match the
organizations and accounts pages their links open.

Accounts are read from their tallies (`portico.saas.tallies`), kept by the database with every
change of an account: one row per organization, or per organization and month or year, instead
of every account (a live count of 1,000,000 accounts took 35-94 ms a figure; the tallies, a few ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import Membership
from portico.saas.models import (
    AccountPeriodTally,
    AccountStatus,
    AccountTally,
    Subscription,
    SubscriptionStatus,
    TallySpan,
)

# DASH-2's periods; "This month" runs from the 1st of the month to today.
THIS_MONTH = "this_month"
LAST_MONTH = "last_month"
LAST_3_MONTHS = "last_3_months"
THIS_YEAR = "this_year"
ALL_TIME = "all_time"
PERIOD_CHOICES = [
    (THIS_MONTH, _("This month")),
    (LAST_MONTH, _("Last month")),
    (LAST_3_MONTHS, _("Last 3 months")),
    (THIS_YEAR, _("This year")),
    (ALL_TIME, _("All time")),
]
DEFAULT_PERIOD = THIS_MONTH

# The organization statuses the dashboard counts: a deleted organization is no longer a customer.
ORGANIZATION_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED, SubscriptionStatus.UNSUBSCRIBED)
ACCOUNT_STATUSES = (AccountStatus.ACTIVE, AccountStatus.DEACTIVATED, AccountStatus.DELETED)


def _month_start(day: date, months_back: int = 0) -> date:
    month_index = day.year * 12 + day.month - 1 - months_back
    return date(month_index // 12, month_index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """The days whose additions the organizations and accounts widgets count, both ends included."""

    key: str
    first_day: date | None  # None: since the first organization
    last_day: date | None

    @classmethod
    def of(cls, key: str, today: date) -> Period:
        if key == LAST_MONTH:
            return cls(key, _month_start(today, 1), _month_start(today) - timedelta(days=1))
        if key == LAST_3_MONTHS:
            return cls(key, _month_start(today, 2), today)  # this month and the two before
        if key == THIS_YEAR:
            return cls(key, date(today.year, 1, 1), today)
        if key == ALL_TIME:
            return cls(key, None, None)
        return cls(THIS_MONTH, _month_start(today), today)

    @property
    def label(self) -> str:
        return str(dict(PERIOD_CHOICES)[self.key])

    @property
    def dates_label(self) -> str:
        if self.first_day is None or self.last_day is None:
            return str(_("Since the beginning"))
        return f"{date_format(self.first_day)} – {date_format(self.last_day)}"

    def link_filters(self) -> dict[str, str]:
        """The organizations and accounts pages' added_from/added_to filters for this period."""
        if self.first_day is None or self.last_day is None:
            return {}
        return {"added_from": self.first_day.isoformat(), "added_to": self.last_day.isoformat()}

    def tallied(self) -> Q:
        """The period on AccountPeriodTally. Every period but All time begins on the 1st of a month:
        This year is its year's tally, the others their whole months'. (This month and This year
        end today; an account is never added in the future.)"""
        if self.first_day is None or self.last_day is None:
            return Q()
        if self.key == THIS_YEAR:
            return Q(span=TallySpan.YEAR, start=self.first_day)
        return Q(span=TallySpan.MONTH, start__gte=self.first_day, start__lte=self.last_day)

    def window(self, field: str) -> Q:
        """`field` (a date and time) within the period's days, as a range an index can read.

        Days are the current time zone's, as the pages' `__date` filters read them.
        """
        if self.first_day is None or self.last_day is None:
            return Q()
        start = timezone.make_aware(datetime.combine(self.first_day, time.min))
        end = timezone.make_aware(datetime.combine(self.last_day + timedelta(days=1), time.min))
        return Q(**{f"{field}__gte": start, f"{field}__lt": end})


class PeriodForm(forms.Form):
    """DASH-2's period filter; an unknown period is an error shown beside the default one."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)

    def chosen(self, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        valid = self.is_valid() and self.cleaned_data["period"]
        return Period.of(valid or DEFAULT_PERIOD, today)


@dataclass(frozen=True)
class Share:
    """`part` of `whole`, e.g. backed-up accounts of all accounts."""

    part: int
    whole: int

    @property
    def percent(self) -> int:
        # Rounded down, so 100 % means all of them and not 99.6 %.
        return self.part * 100 // self.whole if self.whole else 0

    @property
    def drawn_percent(self) -> int:
        """How much of a donut to fill: more seats used than paid fills it, and no more."""
        return min(self.percent, 100)


@dataclass(frozen=True)
class StatusCounts:
    """How many of each status, in the order the widget shows them."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, status: str) -> Share:
        return Share(self.counts[status], self.total)


def subscriptions(actor: Membership) -> QuerySet[Subscription]:
    return policy.restrict(Subscription.objects.all(), actor, Action.VIEW)


def account_tallies(actor: Membership) -> QuerySet[AccountTally]:
    return policy.restrict(AccountTally.objects.all(), actor, Action.VIEW)


def account_period_tallies(actor: Membership) -> QuerySet[AccountPeriodTally]:
    return policy.restrict(AccountPeriodTally.objects.all(), actor, Action.VIEW)


def _by_status(statuses) -> dict[str, Count]:
    # Counting a column of the indexes (not the id) lets PostgreSQL count from the index alone.
    return {status.value: Count("status", filter=Q(status=status)) for status in statuses}


def _sums(*columns: str) -> dict[str, Coalesce]:
    return {column: Coalesce(Sum(column), 0) for column in columns}


def protection_coverage(actor: Membership) -> Share:
    """DASH-1: of the active accounts today, how many are backed up.

    Deactivated and deleted accounts are not expected to be protected, so they count in neither.
    """
    figures = account_tallies(actor).aggregate(**_sums("active", "active_backed_up"))
    return Share(figures["active_backed_up"], figures["active"])


def seat_usage(actor: Membership) -> Share:
    """DASH-1: the seats in use (active backed-up accounts, as on the organizations page) of the
    seats paid for, over the active subscriptions today."""
    figures = (
        subscriptions(actor)
        .filter(status=SubscriptionStatus.ACTIVE)
        .aggregate(
            used=Coalesce(Sum("account_tally__active_backed_up"), 0),
            paid=Coalesce(Sum("paid_seats"), 0),
        )
    )
    return Share(figures["used"], figures["paid"])


def organizations_by_status(actor: Membership, period: Period) -> StatusCounts:
    """DASH-1: the organizations added in the period (their subscription's creation), by status."""
    figures = subscriptions(actor).filter(period.window("created_at")).aggregate(**_by_status(ORGANIZATION_STATUSES))
    return StatusCounts(figures)


def tallies_added_in(actor: Membership, period: Period) -> QuerySet[AccountTally] | QuerySet[AccountPeriodTally]:
    """The tallies that count the accounts added in the period: an organization's own for All
    time, its months' or year's otherwise. Each has the COUNTS columns."""
    if period.first_day is None:
        return account_tallies(actor)
    return account_period_tallies(actor).filter(period.tallied())


def accounts_by_status(actor: Membership, period: Period) -> StatusCounts:
    """DASH-1: the accounts added in the period, by status."""
    statuses = [status.value for status in ACCOUNT_STATUSES]
    return StatusCounts(tallies_added_in(actor, period).aggregate(**_sums(*statuses)))
