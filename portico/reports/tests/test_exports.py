"""CSV exports from request to file (CSV-1, ORG-6, ACC-4): confirmed, written by a job, emailed to
the requester, downloaded by them alone before the link expires; every step audited (AUD-1)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico import seed
from portico.audit.models import AuditEvent
from portico.jobs.models import JobState
from portico.reports import catalog, services
from portico.reports.exports import ExportKind, export_kind, register_export
from portico.reports.models import Export
from portico.saas.filters import AccountFilterForm, OrganizationFilterForm, accounts_for, subscriptions_for
from portico.tenancy.models import Organization
from tests.support import text_body

pytestmark = pytest.mark.django_db

CONFIRM = "/console/exports/new/"


@pytest.fixture
def accounts(partner, org_a, org_b, foreign_org):
    """Accounts of every status and a few product types in two organizations, and one of another partner."""
    backup = seed.plan(partner, "Business Backup")
    seed.subscription(org_a, backup)
    seed.subscription(org_b, backup, status="suspended")
    seed.subscription(foreign_org, seed.plan(foreign_org.partner, "Theirs"))
    made = [
        seed.account(org_a, "ann@contoso.test", sections=[("email", "success", 120, 4096), ("calendar", "failed", 3, 10)]),
        seed.account(org_a, "bob@contoso.test", status="deactivated", sections=[("email", "warning", 5, 50)]),
        seed.account(org_a, "shared@contoso.test", email_kind="shared_mailbox"),
        seed.account(org_a, "ann@contoso.test", "drive", sections=[("drive", "success", 7, 700)]),
        seed.account(org_b, "cy@fabrikam.test", sections=[("email", "never", 0, 0)]),
        seed.account(org_b, "Sales site", "sharepoint", sections=[("files", "success", 30, 3000)]),
    ]
    seed.account(foreign_org, "them@litware.test")
    return made


def _confirm(client, query: str):
    return client.get(f"{CONFIRM}?{query}")


def _export(client, run_on_commit, query: str):
    """Confirm and continue as the page's button does; the export it made."""
    data = QueryDict(query, mutable=True)
    before = set(Export.objects.values_list("pk", flat=True))
    with run_on_commit():
        response = client.post(CONFIRM, data)
    assert response.status_code == 302, response.content[:500]
    [export] = Export.objects.exclude(pk__in=before)
    assert response["Location"] == f"/console/exports/{export.pk}/"
    export.refresh_from_db()
    return export


def _emailed_link(mailbox, person) -> str:
    [message] = mailbox.wait_for(person.email)
    assert message["Subject"] == "Your CSV Download is Ready"
    found = re.search(r"https?://\S+(/console/exports/\d+/download/[\w-]+/)", text_body(message))
    assert found, text_body(message)
    return found.group(1)


def _rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_csv1_acc4_confirm_job_email_download_holds_exactly_the_filtered_rows(
    owner, accounts, signed_in, mailbox, run_on_commit
):
    client = signed_in(owner)
    query = "kind=accounts&status=active&product_type=email&page=2"

    page = _confirm(client, query)
    assert page.status_code == 200
    assert b"Yes, continue" in page.content
    assert "Accounts" in page.text and "Active" in page.text and "Email" in page.text

    export = _export(client, run_on_commit, query)
    assert export.job.state == JobState.SUCCEEDED
    assert export.job.progress == 100
    link = _emailed_link(mailbox, owner.person)

    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    header, *rows = _rows(response)
    assert header[:4] == ["Email or name", "Organization", "Account id", "Product type"]
    form = AccountFilterForm(QueryDict(query), organizations=Organization.objects.all())
    form.is_valid()
    expected = list(accounts_for(owner, form.filters()).values_list("external_id", flat=True))
    assert [row[2] for row in rows] == expected
    assert len(expected) == 3  # ann, shared and cy: active email accounts of this partner only
    ann = next(row for row in rows if row[0] == "ann@contoso.test")
    assert ann[1:] == [
        "Contoso", "email-ann@contoso.test", "Email", "Mailbox", "Active", "Yes", ann[7], ann[8],
        "Failed", "123", "4106",
    ]
    shared = next(row for row in rows if row[0] == "shared@contoso.test")
    assert shared[4] == "Shared mailbox" and shared[8:] == ["", "", "0", "0"]
    actions = list(AuditEvent.objects.filter(object_type="reports.export", object_id=str(export.pk)).order_by("seq").values_list("action", flat=True))
    assert actions == ["export.requested", "export.completed", "export.downloaded"]  # AUD-1


def test_org6_export_holds_exactly_the_rows_the_page_selects(owner, partner, signed_in, run_on_commit, mailbox):
    backup, personal = seed.plan(partner, "Business Backup"), seed.plan(partner, "Solo", "personal", "1.00")
    for name, plan in [("Alpha 100%", backup), ("Alpha_2", backup), ("Alpha solo", personal), ("Beta", backup)]:
        seed.subscription(seed.organization(partner, name), plan)
    seed.subscription(seed.organization(partner, "Alpha gone"), backup, status="deleted")
    client = signed_in(owner)
    query = "kind=organizations&q=alpha&plan_type=backup"
    export = _export(client, run_on_commit, query)
    response = client.get(_emailed_link(mailbox, owner.person))
    header, *rows = _rows(response)
    assert header[0] == "Name" and header[-1] == "Created"
    form = OrganizationFilterForm(QueryDict(query))
    form.is_valid()
    expected = list(subscriptions_for(owner, form.filters()).values_list("organization_id", flat=True))
    assert [int(row[1]) for row in rows] == expected
    assert [row[0] for row in rows] == ["Alpha 100%", "Alpha_2"]
    assert rows[0][4:8] == ["Business Backup", "Backup", "3.50", "USD"]
    assert export.filename.startswith("Active Organizations Northwind IT ")


def test_csv1_formula_injection_is_neutralised(owner, org_a, signed_in, run_on_commit, mailbox):
    seed.subscription(org_a, seed.plan(org_a.partner, "Business Backup"))
    for address in ["=1+2", "+cmd", "-x", "@SUM(A1)", "\tTAB", "plain-=text"]:
        seed.account(org_a, address)
    client = signed_in(owner)
    _export(client, run_on_commit, "kind=accounts")
    _header, *rows = _rows(client.get(_emailed_link(mailbox, owner.person)))
    assert sorted(row[0] for row in rows) == sorted(["'=1+2", "'+cmd", "'-x", "'@SUM(A1)", "'\tTAB", "plain-=text"])


def test_csv1_filename_names_status_type_partner_and_time(owner):
    at = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)
    assert catalog.account_filename(owner, {"status": "active", "product_type": "email"}, at) == (
        "Active Email Account Northwind IT 2026-11-29 14-05"
    )
    assert catalog.account_filename(owner, {}, at) == "All All Account Northwind IT 2026-11-29 14-05"
    assert catalog.account_filename(owner, {"status": "deleted", "product_type": "email:shared_mailbox"}, at) == (
        "Deleted Shared mailbox Account Northwind IT 2026-11-29 14-05"
    )
    assert catalog.organization_filename(owner, {"status": "suspended"}, at) == (
        "Suspended Organizations Northwind IT 2026-11-29 14-05"
    )


def test_csv1_download_names_the_file_with_rfc5987_beyond_ascii(owner, partner, accounts, signed_in, run_on_commit, mailbox):
    partner.name = "Nørdwind / IT"
    partner.save()
    client = signed_in(owner)
    export = _export(client, run_on_commit, "kind=accounts&status=active&product_type=email")
    assert re.fullmatch(r"Active Email Account Nørdwind - IT \d{4}-\d\d-\d\d \d\d-\d\d\.csv", export.filename)
    response = client.get(_emailed_link(mailbox, owner.person))
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''Active%20Email%20Account%20N%C3%B8rdwind")


def test_csv1_the_link_works_only_for_its_requester(owner, admin, outsider, accounts, signed_in, client, run_on_commit, mailbox):
    export = _export(signed_in(owner), run_on_commit, "kind=accounts")
    link = _emailed_link(mailbox, owner.person)
    assert client.get(link.replace(link.rsplit("/", 2)[1], "not-the-token")).status_code == 404
    client.logout()
    other = signed_in(admin)  # staff of the same partner, who sees every account
    assert other.get(link).status_code == 404
    assert other.get(f"/console/exports/{export.pk}/").status_code == 404
    assert other.post(f"/console/exports/{export.pk}/").status_code == 404
    assert f"/console/exports/{export.pk}/" not in other.get("/console/exports/").text
    client.logout()
    assert signed_in(outsider).get(link).status_code == 404
    assert not AuditEvent.objects.filter(action="export.downloaded").exists()


def test_csv1_an_expired_link_says_so_with_410(owner, accounts, signed_in, run_on_commit, mailbox, media):
    client = signed_in(owner)
    export = _export(client, run_on_commit, "kind=accounts")
    link = _emailed_link(mailbox, owner.person)
    assert export.expires_at - timezone.now() > timedelta(hours=71)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(link)
    assert response.status_code == 410
    assert b"This link has expired" in response.content
    assert b"kind=accounts" in response.content  # "Export again" opens the confirmation once more
    assert services.delete_expired_files() == 1
    export.refresh_from_db()
    assert not export.file and not list(media.rglob("*.csv"))
    assert client.get(link).status_code == 410
    assert b"Expired" in client.get("/console/exports/").content


FAILING = "test.failing"


def _failing_rows(actor, params):
    yield ("first row",)
    raise RuntimeError("the source went away")


register_export(ExportKind(
    key=FAILING, title="Failing", columns=lambda: ["Only"], params=lambda actor, data: {},
    count=lambda actor, params: 2, rows=_failing_rows, filename=lambda actor, params, at: "failing",
))


def test_csv1_a_failing_row_source_fails_the_job_keeps_no_file_and_says_so(owner, signed_in, run_on_commit, mailbox, media):
    client = signed_in(owner)
    export = _export(client, run_on_commit, f"kind={FAILING}")
    assert export.job.state == JobState.FAILED
    assert "the source went away" in export.job.error
    assert not export.file and export.row_count is None
    assert not list(media.rglob("*.csv"))
    assert mailbox.to(owner.person.email) == []
    page = client.get(f"/console/exports/{export.pk}/")
    assert b"The file could not be written, and nothing was kept." in page.content
    assert b"Download" not in page.content
    assert AuditEvent.objects.filter(action="export.failed", object_id=str(export.pk)).exists()


def test_csv1_a_requester_disabled_before_the_job_runs_gets_nothing(admin, accounts, mailbox, media, run_on_commit):
    with run_on_commit():
        export = services.request_export(admin, "accounts", {})
        admin.__class__.objects.filter(pk=admin.pk).update(enabled=False)
    export.refresh_from_db()
    assert export.job.state == JobState.FAILED
    assert "disabled" in export.failure
    assert not export.file and not list(media.rglob("*.csv"))
    assert mailbox.to(admin.person.email) == []


def test_grp3_a_scoped_admin_exports_only_their_groups_accounts(admin_scoped, org_b, accounts, signed_in, run_on_commit, mailbox):
    client = signed_in(admin_scoped)
    _export(client, run_on_commit, "kind=accounts")
    _header, *rows = _rows(client.get(_emailed_link(mailbox, admin_scoped.person)))
    assert {row[1] for row in rows} == {"Contoso"}
    # An organization out of reach is a filter error, never a wider file.
    response = _confirm(client, f"kind=accounts&organization={org_b.pk}")
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert b"Yes, continue" not in response.content


@pytest.mark.parametrize("query", [
    "kind=accounts&status=bogus",
    "kind=organizations&plan_type=%27%3B--",
    "kind=accounts&q=" + "x" * 10_000,
    "kind=organizations&added_from=yesterday",
])
def test_csv1_bad_filters_are_shown_and_start_nothing(owner, signed_in, query, run_on_commit):
    client = signed_in(owner)
    assert _confirm(client, query).status_code == 400
    with run_on_commit():
        response = client.post(CONFIRM, QueryDict(query))
    assert response.status_code == 400
    assert not Export.objects.exists()


@pytest.mark.parametrize("query", ["", "kind=", "kind=nothing", "kind=%00%27"])
def test_an_unknown_kind_is_404(owner, signed_in, query):
    assert _confirm(signed_in(owner), query).status_code == 404


def test_special_characters_in_the_search_export_the_matching_rows(owner, org_a, signed_in, run_on_commit, mailbox):
    seed.subscription(org_a, seed.plan(org_a.partner, "Business Backup"))
    for address in ["100%_off@contoso.test", "o'brien\\x@contoso.test", "🎉@contoso.test", "plain@contoso.test"]:
        seed.account(org_a, address)
    client = signed_in(owner)
    for text, expected in [("%_", "100%_off@contoso.test"), ("'brien\\", "o'brien\\x@contoso.test"), ("🎉", "🎉@contoso.test")]:
        mailbox.clear()
        _export(client, run_on_commit, "kind=accounts&" + QueryDict.fromkeys(["q"], text).urlencode())
        _header, *rows = _rows(client.get(_emailed_link(mailbox, owner.person)))
        assert [row[0] for row in rows] == [expected]


def test_customers_and_end_users_find_no_exports(user_org, signed_in):
    client = signed_in(user_org)
    assert _confirm(client, "kind=accounts").status_code == 404
    assert client.get("/console/exports/").status_code == 404


def test_the_export_page_shows_progress_while_running_and_the_list_is_mine_newest_first(
    owner, accounts, signed_in, django_assert_max_num_queries
):
    client = signed_in(owner)
    first = services.request_export(owner, "accounts", {})  # no commit: the job stays queued
    second = services.request_export(owner, "organizations", {"status": "active"})
    page = client.get(f"/console/exports/{first.pk}/")
    assert b'hx-trigger="every 1s"' in page.content and b"<progress" in page.content
    part = client.get(f"/console/exports/{first.pk}/", headers={"HX-Request": "true"})
    assert part.content.lstrip().startswith(b'<div id="export-state"')
    for _ in range(30):
        services.request_export(owner, "accounts", {})
    with django_assert_max_num_queries(12):
        listing = client.get("/console/exports/")
    assert listing.content.count(b'data-state="queued"') == 20
    assert client.get("/console/exports/?page=999999").status_code == 200
    assert client.get("/console/exports/?page=%27").status_code == 200
    assert second.pk > first.pk


def test_csv1_write_csv_neutralises_text_cells_only_and_reports_progress():
    rows = [(f"user{n}@contoso.test", n, -n) for n in range(12_000)]
    rows[7_777] = ("=HYPERLINK(\"http://evil\")", 7_777, -5)
    rows[11_000] = ("plain", "-2+3", None)
    out, seen = io.StringIO(), []
    written = services.write_csv(out, ["Email", "N", "Minus"], rows, total=12_000, progress=seen.append)
    assert written == 12_000
    header, *read = list(csv.reader(io.StringIO(out.getvalue())))
    assert header == ["Email", "N", "Minus"]
    assert read[7_777] == ["'=HYPERLINK(\"http://evil\")", "7777", "-5"]  # numbers are numbers, not formulas
    assert read[11_000] == ["plain", "'-2+3", ""]
    assert read[42] == ["user42@contoso.test", "42", "-42"]
    assert seen == sorted(seen) and seen[-1] == 99  # 100 only when the file is stored


@pytest.mark.parametrize("path, kind", [("/console/organizations/", "organizations"), ("/console/accounts/", "accounts")])
def test_org6_acc4_the_lists_export_button_carries_their_filters(owner, org_a, signed_in, path, kind):
    seed.subscription(org_a, seed.plan(org_a.partner, "Business Backup"))
    page = signed_in(owner).get(f"{path}?status=suspended&q=100%25+%F0%9F%8E%89")
    assert page.status_code == 200
    [query] = re.findall(r'href="/console/exports/new/\?([^"]+)"', page.text)
    assert QueryDict(query.replace("&amp;", "&")).dict() == {"status": "suspended", "q": "100% 🎉", "kind": kind}


def test_csv1_accounts_rows_survive_the_debug_cursor(owner, accounts):
    """The demo runs with DEBUG, whose cursor writes every statement out with its parameters: the
    times the database formats must reach it as SQL, not as a Python format string."""
    kind = export_kind("accounts")
    with CaptureQueriesContext(connection):
        rows = list(kind.rows(owner, {}))
    added = {row[0]: row[7] for row in rows}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", added["cy@fabrikam.test"])
