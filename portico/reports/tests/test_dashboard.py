"""The partner dashboard (DASH-1, DASH-2, DASH-4, CSV-2): figures counted from hand-built data
within the staff user's reach (GRP-3), the period filter and the links to the filtered pages, the
navbar's person and language, and every widget's "Report details"."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from portico import seed
from portico.reports import figures
from portico.reports.exports import export_kind
from portico.reports.figures import Period, Share
from portico.saas.models import Subscription
from tests.support import sign_in

pytestmark = pytest.mark.django_db

CONSOLE = "/console/"


def _last_month() -> timezone.datetime:
    """A moment of last month, whatever today is."""
    first = timezone.localdate().replace(day=1)
    return timezone.make_aware(timezone.datetime.combine(first - timedelta(days=1), timezone.datetime.min.time()))


@pytest.fixture
def world(partner, org_a, org_b, foreign_org):
    """org_a: active, 10 seats, 4 active accounts (3 backed up), one deactivated, one deleted.
    org_b: suspended, 2 active backed-up accounts. org_c: unsubscribed, added last month with its one
    account. Another partner's active organization with 5 backed-up accounts never counts."""
    backup = seed.plan(partner, "Business Backup")
    seed.subscription(org_a, backup, paid_seats=10)
    seed.subscription(org_b, backup, paid_seats=20, status="suspended")
    org_c = seed.organization(partner, "Tailspin")
    seed.subscription(org_c, backup, paid_seats=5, status="unsubscribed")
    Subscription.objects.filter(organization=org_c).update(created_at=_last_month())
    for name in ("ann", "bob", "cy"):
        seed.account(org_a, f"{name}@contoso.test")
    seed.account(org_a, "dee@contoso.test", backed_up=False)
    seed.account(org_a, "old@contoso.test", status="deactivated")
    seed.account(org_a, "gone@contoso.test", status="deleted")
    seed.account(org_b, "eve@fabrikam.test")
    seed.account(org_b, "fay@fabrikam.test")
    seed.account(org_c, "gus@tailspin.test", added_at=_last_month())
    seed.subscription(foreign_org, seed.plan(foreign_org.partner, "Theirs"), paid_seats=100)
    for n in range(5):
        seed.account(foreign_org, f"user{n}@litware.test")
    return org_c


def _figure(page: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]+)<', page)
    assert found, f"no figure {name}"
    return found.group(1).strip()


def _status_links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'<a href="([^"]+)" data-status-link>', page)]


# DASH-1: the figures.


def test_dash1_figures_of_the_partner_from_hand_built_data(owner, world):
    this_month = Period.of(figures.THIS_MONTH, timezone.localdate())
    assert figures.protection_coverage(owner) == Share(6, 7)  # deactivated and deleted accounts count in neither
    assert figures.protection_coverage(owner).percent == 85  # rounded down: 100 % only when all are
    assert figures.seat_usage(owner) == Share(3, 10)  # the active subscription's seats only
    assert figures.organizations_by_status(owner, this_month).counts == {"active": 1, "suspended": 1, "unsubscribed": 0}
    assert figures.accounts_by_status(owner, this_month).counts == {"active": 6, "deactivated": 1, "deleted": 1}
    all_time = Period.of(figures.ALL_TIME, timezone.localdate())
    assert figures.organizations_by_status(owner, all_time).counts == {"active": 1, "suspended": 1, "unsubscribed": 1}
    assert figures.accounts_by_status(owner, all_time).total == 9


def test_dash1_grp3_scoped_admin_counts_only_their_groups_organizations(admin_scoped, world):
    this_month = Period.of(figures.THIS_MONTH, timezone.localdate())
    assert figures.protection_coverage(admin_scoped) == Share(3, 4)
    assert figures.seat_usage(admin_scoped) == Share(3, 10)
    assert figures.organizations_by_status(admin_scoped, this_month).counts == {
        "active": 1, "suspended": 0, "unsubscribed": 0,
    }
    assert figures.accounts_by_status(admin_scoped, this_month).counts == {"active": 4, "deactivated": 1, "deleted": 1}


def test_dash1_another_partners_data_never_counts(outsider, owner, world, foreign_org):
    # The outsider's partner has exactly its own organization; the owner's figures hold none of it.
    assert figures.protection_coverage(outsider) == Share(5, 5)
    assert figures.seat_usage(outsider) == Share(5, 100)
    assert figures.seat_usage(owner).whole == 10


def test_dash1_nothing_to_count_is_zero_not_an_error(owner):
    assert figures.protection_coverage(owner) == Share(0, 0)
    assert figures.protection_coverage(owner).percent == 0
    assert figures.seat_usage(owner) == Share(0, 0)


def test_dash1_seats_paid_by_an_organization_without_accounts_count(owner, world, partner):
    # A new customer has no account yet, so no tally: its seats are still paid for.
    seed.subscription(seed.organization(partner, "Northwind"), seed.plan(partner, "Starter"), paid_seats=7)
    assert figures.seat_usage(owner) == Share(3, 17)


def test_dash1_more_seats_used_than_paid_is_shown_and_the_donut_stops_full(signed_in, owner, org_a):
    seed.subscription(org_a, seed.plan(owner.partner, "Small"), paid_seats=1)
    seed.account(org_a, "one@contoso.test")
    seed.account(org_a, "two@contoso.test")
    assert figures.seat_usage(owner).percent == 200
    assert figures.seat_usage(owner).drawn_percent == 100
    page = signed_in(owner).get(CONSOLE).content.decode()
    assert "More seats are in use than paid for." in page


def test_dash1_the_page_shows_each_widget_as_chart_and_numbers(signed_in, owner, world):
    page = signed_in(owner).get(CONSOLE).content.decode()
    assert _figure(page, "backed-up") == "6"
    assert _figure(page, "accounts") == "7"
    assert _figure(page, "coverage-percent") == "85 %"
    assert _figure(page, "seats-used") == "3"
    assert _figure(page, "seats-paid") == "10"
    assert page.count('data-chart="donut"') == 2
    assert page.count('data-chart="bars"') == 2
    assert "8 accounts added" in page
    assert "2 organizations added" in page


def test_dash1_every_staff_role_sees_the_dashboard_but_no_one_else(finance, support, user_org, world):
    for member in (finance, support):
        assert sign_in(Client(), member).get(CONSOLE).status_code == 200
    assert sign_in(Client(), user_org).get(CONSOLE).status_code == 404


# DASH-2: the period and the links.


def test_dash2_period_bounds():
    day = date(2025, 1, 15)
    assert Period.of(figures.THIS_MONTH, day) == Period(figures.THIS_MONTH, date(2025, 1, 1), day)
    assert Period.of(figures.LAST_MONTH, day) == Period(figures.LAST_MONTH, date(2024, 12, 1), date(2024, 12, 31))
    assert Period.of(figures.LAST_3_MONTHS, day) == Period(figures.LAST_3_MONTHS, date(2024, 11, 1), day)
    assert Period.of(figures.THIS_YEAR, day) == Period(figures.THIS_YEAR, date(2025, 1, 1), day)
    assert Period.of(figures.ALL_TIME, day).link_filters() == {}
    assert Period.of(figures.LAST_MONTH, date(2024, 3, 31)).last_day == date(2024, 2, 29)


def test_dash2_default_period_is_this_month_and_the_links_open_its_additions(signed_in, owner, world):
    client = signed_in(owner)
    page = client.get(CONSOLE).content.decode()
    today = timezone.localdate()
    first = today.replace(day=1)
    assert '<option value="this_month" selected>' in page
    added = f"added_from={first.isoformat()}&added_to={today.isoformat()}"
    links = _status_links(page)
    assert f"/console/organizations/?status=active&{added}" in links
    assert f"/console/organizations/?status=suspended&{added}" in links
    assert f"/console/accounts/?status=deactivated&{added}" in links
    assert f'href="/console/accounts/?{added.replace("&", "&amp;")}" data-figure="accounts-total"' in page
    # The link opens the page with exactly the organizations the widget counted.
    listed = client.get(f"/console/organizations/?status=active&{added}")
    assert listed.status_code == 200
    assert "Contoso" in listed.content.decode()


def test_dash2_organizations_and_accounts_added_before_the_period_are_not_counted(signed_in, owner, world):
    page = signed_in(owner).get(CONSOLE, {"period": "last_month"}).content.decode()
    assert '<option value="last_month" selected>' in page
    assert "1 organization added" in page
    assert "1 account added" in page
    # Coverage is today's, whatever the period.
    assert _figure(page, "accounts") == "7"


def test_dash2_an_unknown_period_says_so_and_shows_this_month(signed_in, owner, world):
    for bad in ("yesterday", "'; DROP TABLE x; --", "%_\\", "🙂" * 50, "x" * 10_000):
        response = signed_in(owner).get(CONSOLE, {"period": bad})
        assert response.status_code == 200
        page = response.content.decode()
        assert "That period is unknown; showing this month." in page
        assert "2 organizations added" in page


# DASH-4: the person and the language.


def test_dash4_name_email_and_language_switch_change_the_dashboards_words(signed_in, owner):
    client = signed_in(owner)
    page = client.get(CONSOLE).content.decode()
    assert 'data-testid="person-name">Owner Staff<' in page
    assert 'data-testid="person-email">owner@northwind.test<' in page
    assert 'id="language-switch"' in page
    assert "Signed in to Northwind IT as Owner." in page
    client.post("/i18n/language/", {"language": "de", "next": CONSOLE})
    page = client.get(CONSOLE).content.decode()
    assert '<html lang="de">' in page
    assert "Bei Northwind IT angemeldet als" in page
    assert "Abmelden" in page


# The page's cost does not grow with the partner's organizations and accounts.


def test_dashboard_queries_do_not_grow_with_organizations(signed_in, owner, world, partner, django_assert_max_num_queries):
    client = signed_in(owner)
    client.get(CONSOLE)
    backup = seed.plan(partner, "More")
    for n in range(15):
        org = seed.organization(partner, f"Customer {n}")
        seed.subscription(org, backup, status=("active", "suspended", "unsubscribed")[n % 3])
        seed.account(org, f"someone@customer{n}.test")
    with django_assert_max_num_queries(10):
        assert client.get(CONSOLE).status_code == 200


# CSV-2: every widget's "Report details".


def test_csv2_every_widget_offers_its_report_details_with_the_period(signed_in, owner, world):
    page = html.unescape(signed_in(owner).get(CONSOLE, {"period": "this_year"}).content.decode())
    for kind in ("dashboard.coverage", "dashboard.seats", "dashboard.organizations", "dashboard.accounts"):
        assert f"/console/exports/new/?period=this_year&kind={kind}" in page
    assert page.count("Report details") == 4


def _rows(kind_key: str, actor, query: str = "") -> list:
    kind = export_kind(kind_key)
    params = kind.params(actor, QueryDict(query))
    rows = list(kind.rows(actor, params))
    assert kind.count(actor, params) == len(rows)
    assert len(kind.columns()) == len(rows[0]) if rows else True
    return rows


def test_csv2_report_details_break_each_widget_down_per_organization(owner, org_a, org_b, world):
    assert _rows("dashboard.coverage", owner) == [
        ("Contoso", org_a.pk, 4, 3, 75), ("Fabrikam", org_b.pk, 2, 2, 100), ("Tailspin", world.pk, 1, 1, 100),
    ]
    assert _rows("dashboard.seats", owner) == [("Contoso", org_a.pk, "Business Backup", 10, 3, 30)]
    organizations = _rows("dashboard.organizations", owner, "period=this_month")
    assert [row[:3] for row in organizations] == [("Contoso", org_a.pk, "Active"), ("Fabrikam", org_b.pk, "Suspended")]
    assert _rows("dashboard.accounts", owner, "period=all_time") == [
        ("Contoso", org_a.pk, 4, 1, 1, 6), ("Fabrikam", org_b.pk, 2, 0, 0, 2), ("Tailspin", world.pk, 1, 0, 0, 1),
    ]


def test_csv2_grp3_report_details_of_a_scoped_admin_hold_their_groups_only(admin_scoped, org_a, world):
    for kind in ("dashboard.coverage", "dashboard.seats", "dashboard.organizations", "dashboard.accounts"):
        assert {row[1] for row in _rows(kind, admin_scoped, "period=all_time")} == {org_a.pk}


def test_csv2_report_details_keep_the_days_the_dashboard_showed(owner, world):
    params = export_kind("dashboard.accounts").params(owner, QueryDict("period=last_month"))
    first = timezone.localdate().replace(day=1)
    assert params == {
        "period": "last_month",
        "added_from": (first - timedelta(days=1)).replace(day=1).isoformat(),
        "added_to": (first - timedelta(days=1)).isoformat(),
    }
    assert [row[0] for row in export_kind("dashboard.accounts").rows(owner, params)] == ["Tailspin"]


def test_csv2_an_unknown_period_is_refused(owner):
    with pytest.raises(ValidationError):
        export_kind("dashboard.organizations").params(owner, QueryDict("period=forever"))
    with pytest.raises(ValidationError):
        list(export_kind("dashboard.accounts").rows(owner, {"period": "this_month", "added_from": "not a day"}))
