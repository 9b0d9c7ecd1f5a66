"""The partner dashboard, the console's home page (DASH-1 … DASH-5): protection coverage, seat
usage, organizations and accounts by status for a period, each a chart with its numbers, a link to
the filtered page and its "Report details" export (CSV-2); the platform operator's notices; and
the first-login welcome.

Every staff role sees it, each with the figures of what the policy lets them see (GRP-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.notifications import notices
from portico.reports import figures
from portico.reports.figures import Period, PeriodForm, StatusCounts
from portico.saas.models import AccountStatus, SubscriptionStatus

# Each status's colour in the bar charts, as Bootstrap's text colour classes (SVG fills currentColor).
TONES = {
    "active": "text-success",
    "suspended": "text-warning",
    "unsubscribed": "text-secondary",
    "deactivated": "text-warning",
    "deleted": "text-danger",
}


@dataclass(frozen=True)
class Bar:
    """One status of a bar chart: its count, its share of the widget's total, the page listing it."""

    label: str
    count: int
    percent: int
    url: str
    tone: str


def _link(url_name: str, **filters: str) -> str:
    return f"{reverse(url_name)}?{urlencode(filters)}"


def _bars(counts: StatusCounts, labels: dict[str, str], url_name: str, period: Period) -> list[Bar]:
    return [
        Bar(
            label=str(labels[status]),
            count=count,
            percent=counts.share(status).percent,
            url=_link(url_name, status=status, **period.link_filters()),
            tone=TONES[status],
        )
        for status, count in counts.counts.items()
    ]


@membership_required(MembershipKind.STAFF)
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    period_form = PeriodForm(request.GET)
    period = period_form.chosen()
    organizations = figures.organizations_by_status(actor, period)
    accounts = figures.accounts_by_status(actor, period)
    context = {
        "period_form": period_form,
        "period": period,
        "coverage": figures.protection_coverage(actor),
        "seats": figures.seat_usage(actor),
        "organizations": organizations,
        "organization_bars": _bars(
            organizations, dict(SubscriptionStatus.choices), "saas:organizations", period
        ),
        "accounts": accounts,
        "account_bars": _bars(accounts, dict(AccountStatus.choices), "saas:accounts", period),
        "coverage_url": _link("saas:accounts", status=AccountStatus.ACTIVE),
        "seats_url": _link("saas:organizations", status=SubscriptionStatus.ACTIVE),
        "accounts_url": _link("saas:accounts", **period.link_filters()),
        "notices": notices.visible_notices(actor),
        "welcome": notices.needs_welcome(actor),
    }
    return render(request, "reports/dashboard.html", context)


def _back_to_dashboard(request: HttpRequest) -> HttpResponse:
    # htmx removes the notice or the welcome in place; without JavaScript the page reloads.
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    return redirect("web:console")


@require_POST
@membership_required(MembershipKind.STAFF)
def dismiss_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """DASH-3: the person closes a notice; it stays closed for them."""
    notices.dismiss_notice(request.membership, pk)
    return _back_to_dashboard(request)


@require_POST
@membership_required(MembershipKind.STAFF)
def welcome_done(request: HttpRequest) -> HttpResponse:
    """DASH-5: "Get started" — the welcome is not shown to this membership again."""
    notices.finish_welcome(request.membership)
    return _back_to_dashboard(request)
