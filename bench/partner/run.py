"""Benchmark of the partner portal's SaaS backup pages at the target scale (issue 5, DESIGN "Scale").

Seeds, once, a partner with 10,000 organizations and 1,000,000 accounts (about 1.9 sections each)
into its own PostgreSQL database, with an Owner and an Admin who manages one group scoped to
5,000 of the organizations (GRP-3), and another partner whose rows every list must skip. Then it
measures, for both people, p50/p95 of
  - the organizations page with a partial search, and its first page unfiltered (ORG-1 … ORG-5),
  - the accounts page filtered by product type and status, its page after 20 Next links, and a
    partial search (ACC-1, ACC-2),
  - the dashboard's figures as Django code, and the dashboard page (DASH-1, DASH-2),
through the test client (session, middleware, policy, forms, templates), and finally the CSV export
of all 1,000,000 accounts in a fresh process: rows per second and its peak memory (CSV-1), and
what the triggers that keep each account's totals of its sections cost the writers of sections
(each write with them and without, rolled back).

    .venv/bin/python bench/partner/run.py              # creates and seeds bench_partner once, then reuses it
    .venv/bin/python bench/partner/run.py --reseed     # drops and seeds again
    .venv/bin/python bench/partner/run.py --only pages # or: figures, export, writes

DATABASE_URL picks another PostgreSQL database (created if missing); BENCH_RUNS the runs per case.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
os.environ.setdefault("PORTICO_SECRET_KEY", "bench")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_partner")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--organizations", type=int, default=10_000)
parser.add_argument("--accounts", type=int, default=1_000_000)
parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "40")))
parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
parser.add_argument("--only", choices=["pages", "figures", "export", "writes"], help="measure only one part")
parser.add_argument("--export-worker", action="store_true", help=argparse.SUPPRESS)
parser.add_argument("--status", default="", help=argparse.SUPPRESS)
ARGS = parser.parse_args()

GOAL_P95_MS = 50.0
OWNER, ADMIN = "owner@bench-partner.test", "admin@bench-partner.test"
PASSWORD = "bench-password-1"
NEXT_LINK = re.compile(r'<a class="page-link" rel="next" href="\?([^"]+)"')


def prepare_database() -> None:
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    if not url.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database (see the module docstring).")
    name = url.path.lstrip("/")
    with psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username, password=url.password,
                         dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and ARGS.reseed:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


if not ARGS.export_worker:
    prepare_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from portico import seed  # noqa: E402
from portico.access.roles import StaffRole  # noqa: E402
from portico.identity.models import Membership  # noqa: E402
from portico.reports import figures  # noqa: E402
from portico.saas import totals  # noqa: E402
from portico.saas.models import Account, AccountSection, BackupResult, EmailKind, ProductType, Subscription  # noqa: E402
from tests.support import sign_in  # noqa: E402

gc.freeze()  # what is loaded by now stays, as the server freezes it (portico/asgi.py)

SECTIONS = {
    ProductType.EMAIL: ["email", "calendar", "contact"],
    ProductType.DRIVE: ["drive"],
    ProductType.SHARED_DRIVE: ["drive"],
    ProductType.CONTACT: ["contact"],
    ProductType.CALENDAR: ["calendar"],
    ProductType.TASK: ["tasks"],
    ProductType.PRIVATE_CHAT: ["email"],
    ProductType.SHAREPOINT: ["files"],
    ProductType.GROUP_TEAM: ["files", "email"],
}


def _copy(table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def seed_once() -> None:
    call_command("migrate", verbosity=0)
    if Membership.objects.filter(person__email=OWNER).exists():
        return
    started = time.monotonic()
    random.seed(5)
    now = timezone.now()
    with transaction.atomic():
        partner = seed.partner("Bench Partner MSP", country="US")
        other = seed.partner("Other MSP", country="DE")
        seed.staff(seed.person(OWNER, PASSWORD, first_name="Olive"), partner, StaffRole.OWNER)
        admin = seed.staff(seed.person(ADMIN, PASSWORD, first_name="Adam"), partner, StaffRole.ADMIN)
        plans = [seed.plan(partner, name, kind) for name, kind in
                 (("Personal", "personal"), ("Business Backup", "backup"), ("Archiver", "archiver"))]
        other_plan = seed.plan(other, "Business Backup")
        _copy("tenancy_organization", ["partner_id", "name", "created_at"],
              ((partner.pk, f"Customer {n:05d} {random.choice(['Dental', 'Logistics', 'Legal', 'Foods'])}", now)
               for n in range(ARGS.organizations)))
        _copy("tenancy_organization", ["partner_id", "name", "created_at"], [(other.pk, "Customer 00001 Other", now)])
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, partner_id FROM tenancy_organization ORDER BY id")
            orgs = cursor.fetchall()
        statuses = ["active"] * 16 + ["suspended", "unsubscribed", "deleted", "active"]

        def subscriptions():
            for n, (pk, partner_id) in enumerate(orgs):
                plan = other_plan if partner_id == other.pk else plans[0 if n % 25 == 0 else 2 if n % 7 == 0 else 1]
                yield (pk, partner_id, plan.pk, statuses[n % len(statuses)], 120, 500 * 1024**3,
                       f"it@customer{pk}.test", "US", "need_auth" if n % 40 == 0 else "ok", "", None, False, "",
                       now - timedelta(days=n % 720))

        _copy("saas_subscription", ["organization_id", "partner_id", "plan_id", "status", "paid_seats",
                                    "storage_quota_bytes", "contact_email", "country", "credential_status",
                                    "credential_error", "admin_id", "journaling_enabled", "journaling_address",
                                    "created_at"], subscriptions())
        mine = [pk for pk, partner_id in orgs if partner_id == partner.pk]
        seed.group(partner, "Half the customers", organizations=[], managers=[admin])
        group = partner.groups.get()
        group.organizations.through.objects.bulk_create(
            group.organizations.through(group_id=group.pk, organization_id=pk) for pk in mine[::2]
        )
        products, kinds, results = list(ProductType.values), list(EmailKind.values), list(BackupResult.values)

        def accounts():
            for n in range(ARGS.accounts):
                product = products[n % len(products)]
                org = random.choice(mine)
                yield (partner.pk, org, product, random.choice(kinds) if product == "email" else "",
                       f"user{n}@customer{org}.test", f"{product[:3]}-{n:07d}", "",
                       "deactivated" if random.random() < 0.1 else "active", random.random() < 0.94,
                       now - timedelta(minutes=n))
            yield (other.pk, orgs[-1][0], "email", "mailbox", "someone@other.test", "other-1", "", "active", True, now)

        _copy("saas_account", ["partner_id", "organization_id", "product_type", "email_kind", "address",
                               "external_id", "domain", "status", "backed_up", "added_at"], accounts())
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, product_type, added_at FROM saas_account")
            made = cursor.fetchall()

        def sections():
            for pk, product, added in made:
                for section in SECTIONS[product]:
                    result = random.choices(results, weights=[85, 8, 5, 2])[0]
                    yield (pk, section, "active", added, None if result == "never" else added + timedelta(hours=6),
                           result, random.randint(0, 50_000), random.randint(0, 5 * 1024**3))

        _copy("saas_accountsection", ["account_id", "section", "status", "added_at", "last_backup_at",
                                      "last_result", "item_count", "bytes"], sections())
    connection.close()  # VACUUM runs outside a transaction, on a connection of its own
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    with psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username, dbname=url.path.lstrip("/"),
                         autocommit=True) as conn:
        for table in ("tenancy_organization", "tenancy_group_organizations", "saas_subscription", "saas_account",
                      "saas_accountsection", "saas_accounttally", "saas_accountperiodtally"):
            conn.execute(f"VACUUM ANALYZE {table}")
    print(f"seeded {ARGS.organizations:,} organizations and {ARGS.accounts:,} accounts "
          f"in {time.monotonic() - started:.0f} s", flush=True)


def timed(call, runs: int) -> dict:
    for _ in range(2):
        call()  # warm the caches and the connection
    times, sql, queries = [], [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        queries = max(queries, len(captured.captured_queries))
        sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "queries": queries,
            "sql": statistics.median(sql),
            "count": any(q["sql"].startswith("SELECT COUNT(*)") and "saas_account" in q["sql"].split("WHERE")[0]
                         for q in captured.captured_queries)}


def row(name: str, result: dict) -> None:
    miss = " **(miss)**" if result["p95"] > GOAL_P95_MS else ""
    print(f"| {name}{miss} | {result['p50']:.1f} | {result['p95']:.1f} | {result['sql']:.1f} | {result['queries']} | "
          f"{'yes' if result['count'] else 'none'} |", flush=True)


def page(client: Client, path: str, query: dict | str):
    query_string = query if isinstance(query, str) else urlencode(query)

    def get():
        response = client.get(f"{path}?{query_string}")
        assert response.status_code == 200, (path, query_string, response.status_code)
        return response

    return get


def deep_query(client: Client, path: str, query: dict, links: int = 20) -> str:
    query_string = urlencode(query)
    for _ in range(links):
        found = NEXT_LINK.search(client.get(f"{path}?{query_string}").content.decode())
        if not found:
            raise AssertionError(f"{path}: fewer than {links} pages")
        query_string = found.group(1).replace("&amp;", "&")
    return query_string


def measure_pages(people: dict[str, Membership]) -> None:
    print("\n### The pages (test client: session, middleware, policy, forms, template)\n")
    print("| case | p50 ms | p95 ms | SQL ms (p50) | queries | COUNT of accounts |\n|---|---:|---:|---:|---:|---|")
    with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
        for who, member in people.items():
            client = sign_in(Client(), member, password=PASSWORD)
            cases = [
                ("organizations, search \"00 Den\"", "/console/organizations/", {"q": "00 Den"}),
                ("organizations, Active tab, first page", "/console/organizations/", {}),
                ("organizations, Need authentication", "/console/organizations/", {"credential_status": "need_auth"}),
                ("accounts, Email + active, first page", "/console/accounts/", {"product_type": "email", "status": "active"}),
                ("accounts, Email + active, after 20 Next links", "/console/accounts/",
                 deep_query(client, "/console/accounts/", {"product_type": "email", "status": "active"})),
                ("accounts, SharePoint + deactivated", "/console/accounts/",
                 {"product_type": "sharepoint", "status": "deactivated"}),
                ("accounts, search \"user12345\"", "/console/accounts/", {"q": "user12345"}),
                ("dashboard, this month", "/console/", {}),
                ("dashboard, this year", "/console/", {"period": "this_year"}),
                ("dashboard, all time", "/console/", {"period": "all_time"}),
            ]
            for name, path, query in cases:
                row(f"{who}: {name}", timed(page(client, path, query), ARGS.runs))


def measure_figures(people: dict[str, Membership]) -> None:
    print("\n### The dashboard's figures (Django code, one query each)\n")
    print("| case | p50 ms | p95 ms | SQL ms (p50) | queries | COUNT of accounts |\n|---|---:|---:|---:|---:|---|")
    today = timezone.localdate()
    for who, member in people.items():
        for name, call in (
            ("protection coverage", lambda m=member: figures.protection_coverage(m)),
            ("seat usage", lambda m=member: figures.seat_usage(m)),
            ("organizations by status, this month",
             lambda m=member: figures.organizations_by_status(m, figures.Period.of("this_month", today))),
            *((f"accounts by status, {label}",
               lambda m=member, key=key: figures.accounts_by_status(m, figures.Period.of(key, today)))
              for key, label in (("this_month", "this month"), ("this_year", "this year"), ("all_time", "all time"))),
        ):
            row(f"{who}: {name}", timed(call, ARGS.runs))


def peak_rss_kib() -> int:
    """This process's peak resident memory. Not getrusage's ru_maxrss, which a process keeps across
    exec: a worker started by this script would report the script's own peak."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def export_worker() -> None:
    """In its own process, so its peak memory is the export's: every account of the partner to a file."""
    import io
    import tempfile

    from portico.reports.exports import export_kind
    from portico.reports.services import write_csv

    owner = Membership.objects.select_related("person", "partner").get(person__email=OWNER)
    params = {"status": ARGS.status} if ARGS.status else {}
    kind = export_kind("accounts")
    at_start = peak_rss_kib()
    started = time.perf_counter()
    total = kind.count(owner, params)
    counted = time.perf_counter()
    with tempfile.TemporaryFile() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        written = write_csv(text, kind.columns(), kind.rows(owner, params), total)
        text.flush()
        size = raw.tell()
    ended = time.perf_counter()
    peak = peak_rss_kib()
    print(f"| {params.get('status', 'all')} | {written:,} | {size / 1e6:.0f} | {counted - started:.1f} | "
          f"{ended - counted:.1f} | {written / (ended - counted):,.0f} | {written / (ended - started):,.0f} | "
          f"{at_start / 1024:.0f} | {peak / 1024:.0f} |", flush=True)


def measure_export() -> None:
    print("\n### The accounts CSV export (a fresh process each, as the worker runs it)\n")
    print("| status | rows | MB | count s | write s | rows/s | rows/s with the count | RSS after start MB "
          "| peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for status in ("deactivated", ""):
        subprocess.run([sys.executable, __file__, "--export-worker", "--status", status], check=True)


def _rolled_back(write, triggers: bool) -> float:
    """Seconds `write` took in a transaction that is rolled back, with the totals' triggers or not."""
    with transaction.atomic():
        if not triggers:
            with connection.cursor() as cursor:
                for name, table in totals.TRIGGERS:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        started = time.perf_counter()
        write()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def measure_writes(people: dict[str, Membership]) -> None:
    print("\n### Writes of sections with the totals' triggers and without (median of 5, rolled back)\n")
    print("| write | with ms | without ms | with / without |\n|---|---:|---:|---:|", flush=True)
    now = timezone.now()
    partner_id = people["Owner"].partner_id
    first = Account.objects.filter(partner_id=partner_id).order_by("id").values_list("id", flat=True)[300_000]
    block = AccountSection.objects.filter(account_id__gte=first, account_id__lte=first + 19_999)
    # One section each of 1,000 accounts.
    singles = list(
        AccountSection.objects.filter(account_id__gte=first, account_id__lte=first + 999).order_by("account_id").distinct("account_id")
    )
    organization = Account.objects.filter(pk=first).values_list("organization_id", flat=True).get()

    def save_each():
        for section in singles:
            section.last_result, section.last_backup_at = "failed", now
            section.save(update_fields=["last_result", "last_backup_at"])

    def add_accounts():
        made = Account.objects.bulk_create(
            Account(partner_id=partner_id, organization_id=organization, product_type="email", email_kind="mailbox",
                    address=f"new{n}@bench.test", external_id=f"new-{n}", added_at=now)
            for n in range(5000)
        )
        AccountSection.objects.bulk_create(
            AccountSection(account=account, section=section, added_at=now, last_backup_at=now, last_result="success",
                           item_count=10, bytes=1000)
            for account in made for section in ("email", "calendar")
        )

    cases = [
        (f"one section saved, {len(singles):,} times (ORM, a statement each), per save", save_each, len(singles)),
        ("the sections of 20,000 accounts updated (one UPDATE)",
         lambda: block.update(last_result="warning", last_backup_at=now), 1),
        ("5,000 accounts added with 2 sections each (bulk_create)", add_accounts, 1),
        ("the sections of 20,000 accounts deleted (one DELETE)", lambda: block.delete(), 1),
        # What keeping the totals as columns of the account would add to each of these writes: the
        # account's row written again, with its twelve indexes and the tallies' statement trigger.
        ("for comparison: the same 20,000 accounts' own rows updated",
         lambda: Account.objects.filter(id__range=(first, first + 19_999)).update(domain="x"), 1),
    ]
    for name, write, per in cases:
        with_ms = statistics.median(_rolled_back(write, True) for _ in range(5)) * 1000 / per
        if name.startswith("for comparison"):  # no trigger of the totals fires on it
            print(f"| {name} | {with_ms:.2f} | | |", flush=True)
            continue
        without_ms = statistics.median(_rolled_back(write, False) for _ in range(5)) * 1000 / per
        print(f"| {name} | {with_ms:.2f} | {without_ms:.2f} | {with_ms / without_ms:.1f} |", flush=True)


def python_loop_s() -> float:
    """A fixed piece of Python's work, timed: the figures of different days compare through it."""
    started, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def main() -> None:
    if ARGS.export_worker:
        export_worker()
        return
    seed_once()
    people = {who: Membership.objects.select_related("person", "partner").get(person__email=email)
              for who, email in (("Owner", OWNER), ("Admin (5,000 organizations)", ADMIN))}
    print(f"{Subscription.objects.filter(partner=people['Owner'].partner).count():,} organizations, "
          f"PostgreSQL {connection.pg_version // 10000}, goal p95 ≤ {GOAL_P95_MS:.0f} ms; "
          f"this machine's speed: {python_loop_s():.2f} s for 10,000,000 additions in a Python loop", flush=True)
    if ARGS.only in (None, "pages"):
        measure_pages(people)
    if ARGS.only in (None, "figures"):
        measure_figures(people)
    if ARGS.only in (None, "export"):
        measure_export()
    if ARGS.only in (None, "writes"):
        measure_writes(people)


if __name__ == "__main__":
    main()
