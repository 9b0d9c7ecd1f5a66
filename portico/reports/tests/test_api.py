"""`/api/v1/exports/` and `/api/v1/dashboard/`: CSV exports requested, followed and downloaded by
their requester alone (CSV-1, CSV-2, AUD-1), and the dashboard's figures for a period within the
caller's reach (DASH-1, DASH-2, GRP-3).

People (root conftest.py): `owner`, `admin`, `admin_scoped` (org_a only), `finance`, `support`,
`outsider` (another partner's Admin), `user_org` (an end user of org_a).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portico import seed
from portico.audit.models import AuditEvent
from portico.reports import figures
from portico.reports.figures import Period
from portico.reports.models import Export
from portico.saas.models import Subscription
from tests.support import api_client, text_body

pytestmark = pytest.mark.django_db

EXPORTS = "/api/v1/exports/"
DASHBOARD = "/api/v1/dashboard/"


@pytest.fixture
def customer(org_a):
    return seed.customer_user(seed.person("it@contoso.test"), org_a)


@pytest.fixture
def accounts(partner, org_a, org_b, foreign_org, customer):
    """Contoso (active) with three accounts, Fabrikam (suspended) with one, Litware (another partner) one."""
    backup = seed.plan(partner, "Business Backup")
    seed.subscription(org_a, backup, paid_seats=10, admin=customer)
    seed.subscription(org_b, backup, paid_seats=20, status="suspended")
    seed.subscription(foreign_org, seed.plan(foreign_org.partner, "Theirs"), paid_seats=100)
    return [
        seed.account(org_a, "ann@contoso.test", sections=[("email", "success", 120, 4096)]),
        seed.account(org_a, "=HYPERLINK(1)@contoso.test", sections=[("email", "failed", 1, 1)]),
        seed.account(org_a, "old@contoso.test", status="deactivated"),
        seed.account(org_b, "cy@fabrikam.test", backed_up=False),
        seed.account(foreign_org, "them@litware.test"),
    ]


def _request(client, run_on_commit, kind: str, params: dict | None = None) -> dict:
    with run_on_commit():
        response = client.post(EXPORTS, {"kind": kind, "params": params or {}}, format="json")
    assert response.status_code == 201, response.content[:500]
    return response.json()


def _rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


# CSV-1 through the API


def test_csv1_an_export_requested_by_api_runs_emails_and_downloads_for_its_requester(
    owner, accounts, run_on_commit, mailbox
):
    client = api_client(owner)
    created = _request(client, run_on_commit, "accounts", {"status": "active", "product_type": "email", "page": "3"})
    assert created["kind"] == "accounts" and created["params"] == {"status": "active", "product_type": "email"}
    assert created["state"] == "queued" and created["download_url"] is None  # as it was when asked for

    [message] = mailbox.wait_for(owner.person.email)
    assert message["Subject"] == "Your CSV Download is Ready"
    assert re.search(r"/console/exports/\d+/download/[\w-]+/", text_body(message))

    export = client.get(f"{EXPORTS}{created['id']}/").json()
    assert (export["state"], export["progress"], export["rows"]) == ("ready", 100, 3)
    assert export["filename"].startswith("Active Email Account Northwind IT ")
    assert export["download_url"] == f"http://testserver{EXPORTS}{created['id']}/download/"
    response = client.get(export["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    header, *rows = _rows(response)
    assert header[0] == "Email or name"
    # The active email accounts of the partner, a formula made plain text.
    assert sorted(row[0] for row in rows) == ["'=HYPERLINK(1)@contoso.test", "ann@contoso.test", "cy@fabrikam.test"]
    actions = list(
        AuditEvent.objects.filter(object_type="reports.export", object_id=str(created["id"]))
        .order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["export.requested", "export.completed", "export.downloaded"]  # AUD-1


def test_csv1_the_download_url_works_for_its_requester_alone(owner, admin, outsider, accounts, run_on_commit, customer):
    created = _request(api_client(owner), run_on_commit, "organizations")
    url = api_client(owner).get(f"{EXPORTS}{created['id']}/").json()["download_url"]
    for someone in (admin, outsider, customer):  # the same partner's Admin sees every row, not this file
        client = api_client(someone)
        assert client.get(url).status_code == 404
        assert client.get(f"{EXPORTS}{created['id']}/").status_code == 404
        assert client.get(EXPORTS).json()["results"] == []
    assert not AuditEvent.objects.filter(action="export.downloaded").exists()
    assert api_client(owner).get(url).status_code == 200


def test_csv1_an_export_not_written_yet_or_expired_says_so(owner, accounts, run_on_commit):
    client = api_client(owner)
    pending = client.post(EXPORTS, {"kind": "accounts"}, format="json").json()  # never committed: stays queued
    response = client.get(f"{EXPORTS}{pending['id']}/download/")
    assert response.status_code == 409 and "not ready" in response.json()["detail"]
    done = _request(client, run_on_commit, "accounts")
    Export.objects.filter(pk=done["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"{EXPORTS}{done['id']}/").json()["state"] == "expired"
    assert client.get(f"{EXPORTS}{done['id']}/").json()["download_url"] is None
    response = client.get(f"{EXPORTS}{done['id']}/download/")
    assert response.status_code == 410 and "expired" in response.json()["detail"]


def test_csv2_a_dashboard_widget_exports_its_period(owner, accounts, run_on_commit, mailbox):
    created = _request(api_client(owner), run_on_commit, "dashboard.accounts", {"period": "all_time"})
    assert created["params"] == {"period": "all_time", "added_from": "", "added_to": ""}
    assert api_client(owner).get(f"{EXPORTS}{created['id']}/").json()["state"] == "ready"


def test_grp3_a_scoped_admin_exports_only_their_groups_rows(admin_scoped, org_b, accounts, run_on_commit, mailbox):
    client = api_client(admin_scoped)
    created = _request(client, run_on_commit, "accounts")
    url = client.get(f"{EXPORTS}{created['id']}/").json()["download_url"]
    _header, *rows = _rows(client.get(url))
    assert {row[1] for row in rows} == {"Contoso"}
    response = client.post(EXPORTS, {"kind": "accounts", "params": {"organization": org_b.pk}}, format="json")
    assert response.status_code == 400 and "params" in response.json()  # never a wider file


def test_csv1_own_exports_newest_first_in_keyset_pages(owner, finance, accounts, django_assert_max_num_queries):
    client = api_client(owner)
    made = [client.post(EXPORTS, {"kind": "organizations"}, format="json").json()["id"] for _ in range(3)]
    api_client(finance).post(EXPORTS, {"kind": "organizations"}, format="json")
    with django_assert_max_num_queries(4):
        first = client.get(EXPORTS, {"page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == made[:0:-1]
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == made[:1] and second["next"] is None
    assert client.get(EXPORTS, {"cursor": "not-a-cursor"}).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "invoices"}, "kind"),
        ({}, "kind"),
        ({"kind": "k" * 500}, "kind"),
        ({"kind": "accounts", "params": ["status", "active"]}, "params"),
        ({"kind": "accounts", "params": "status=active"}, "params"),
        ({"kind": "accounts", "params": {"status": "gone"}}, "params"),
        ({"kind": "accounts", "params": {"product_type": "fax"}}, "params"),
        ({"kind": "accounts", "params": {"q": "z" * 10_000}}, "params"),
        ({"kind": "accounts", "params": {"status": True}}, "params"),
        ({"kind": "accounts", "params": {"status": {"a": 1}}}, "params"),
        ({"kind": "accounts", "params": {"q": "a\x00b"}}, "params"),
        ({"kind": "organizations", "params": {"status": ["active", None]}}, "params"),
        ({"kind": "organizations", "params": {f"p{n}": "1" for n in range(30)}}, "params"),
        ({"kind": "dashboard.organizations", "params": {"period": "forever"}}, "params"),
    ],
)
def test_csv1_bad_requests_answer_400_and_start_nothing(owner, accounts, body, field):
    response = api_client(owner).post(EXPORTS, body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Export.objects.exists()


def test_csv1_special_characters_in_the_search_export_the_matching_rows(owner, accounts, run_on_commit):
    client = api_client(owner)
    created = _request(client, run_on_commit, "accounts", {"q": "=HYPERLINK("})
    _header, *rows = _rows(client.get(client.get(f"{EXPORTS}{created['id']}/").json()["download_url"]))
    assert [row[0] for row in rows] == ["'=HYPERLINK(1)@contoso.test"]
    assert _request(client, run_on_commit, "accounts", {"q": "%_'\\🙂"})["params"]["q"] == "%_'\\🙂"


def test_customers_and_end_users_may_not_export(user_org, customer, accounts):
    for member in (user_org, customer):
        client = api_client(member)
        assert client.post(EXPORTS, {"kind": "accounts"}, format="json").status_code == 403
        assert client.get(EXPORTS).json()["results"] == []
    assert not Export.objects.exists()


# DASH-1, DASH-2


def test_dash1_dash2_figures_for_this_month_by_default(owner, accounts):
    response = api_client(owner).get(DASHBOARD)
    assert response.status_code == 200
    body = response.json()
    this_month = Period.of(figures.THIS_MONTH, timezone.localdate())
    assert body["period"] == {
        "key": "this_month", "label": "This month",
        "first_day": this_month.first_day.isoformat(), "last_day": this_month.last_day.isoformat(),
    }
    assert body["protection_coverage"] == {"backed_up": 2, "accounts": 3, "percent": 66}
    assert body["seat_usage"] == {"used": 2, "paid": 10, "percent": 20}
    assert body["organizations"] == {"active": 1, "suspended": 1, "unsubscribed": 0, "total": 2}
    assert body["accounts"] == {"active": 3, "deactivated": 1, "deleted": 0, "total": 4}


def test_dash2_another_period_counts_what_was_added_in_it(owner, accounts, org_a):
    Subscription.objects.filter(organization=org_a).update(created_at=timezone.now() - timedelta(days=400))
    client = api_client(owner)
    all_time = client.get(DASHBOARD, {"period": "all_time"}).json()
    assert all_time["period"]["first_day"] is None and all_time["organizations"]["total"] == 2
    last_month = client.get(DASHBOARD, {"period": "last_month"}).json()
    assert last_month["organizations"]["total"] == 0 and last_month["accounts"]["total"] == 0
    assert client.get(DASHBOARD, {"period": "this_year"}).json()["organizations"] == {
        "active": 0, "suspended": 1, "unsubscribed": 0, "total": 1,
    }


@pytest.mark.parametrize("period", ["forever", "", "this_month\x00", "p" * 10_000, "🙂"])
def test_dash2_an_unknown_period_is_400(owner, accounts, period):
    response = api_client(owner).get(DASHBOARD, {"period": period})
    if period == "":
        assert response.status_code == 200 and response.json()["period"]["key"] == "this_month"
    else:
        assert response.status_code == 400 and "period" in response.json()


def test_grp3_a_scoped_admin_sees_the_figures_of_their_groups(admin_scoped, accounts, django_assert_max_num_queries):
    client = api_client(admin_scoped)
    # The token, its last use, and for each of the four figures the group scope read and the figure.
    with django_assert_max_num_queries(10):
        body = client.get(DASHBOARD).json()
    assert body["organizations"] == {"active": 1, "suspended": 0, "unsubscribed": 0, "total": 1}
    assert body["accounts"]["total"] == 3
    assert body["seat_usage"] == {"used": 2, "paid": 10, "percent": 20}


def test_dash1_another_partner_sees_only_its_own(outsider, accounts):
    body = api_client(outsider).get(DASHBOARD).json()
    assert body["seat_usage"] == {"used": 1, "paid": 100, "percent": 1}
    assert body["accounts"]["total"] == 1


@pytest.mark.parametrize("who", ["finance", "support"])
def test_dash1_every_staff_role_reads_the_dashboard(request, who, accounts):
    assert api_client(request.getfixturevalue(who)).get(DASHBOARD).json()["accounts"]["total"] == 4


def test_dash1_customers_and_end_users_get_403(user_org, customer, accounts):
    for member in (user_org, customer):
        response = api_client(member).get(DASHBOARD)
        assert response.status_code == 403
