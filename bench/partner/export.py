"""The accounts CSV export's speed and memory (CSV-1, ACC-4): rows per second and the process's peak
resident memory while the export job's code writes every account of a partner to a file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portico_bench_export \\
        .venv/bin/python bench/partner/export.py --seed 200000   # once: a partner with 200,000 accounts
    DATABASE_URL=... .venv/bin/python bench/partner/export.py            # measure (a fresh process each time)
    DATABASE_URL=... .venv/bin/python bench/partner/export.py --status deactivated   # a tenth of the rows

Seeding writes with COPY: 200 organizations, accounts of every product type (90 % active, 10 %
deactivated), each with one to three sections of varied results. The measurement runs what the job
runs (count, the kind's rows through `write_csv` into a temporary file) without storing the file or
emailing; peak memory is `ru_maxrss` of this process, Django included, so compare a small and a
large export to see that it is flat in the number of rows.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from portico import seed  # noqa: E402
from portico.access.roles import StaffRole  # noqa: E402
from portico.identity.models import Membership  # noqa: E402
from portico.reports.exports import export_kind  # noqa: E402
from portico.reports.services import write_csv  # noqa: E402
from portico.saas.models import BackupResult, EmailKind, ProductType  # noqa: E402

PARTNER = "Bench Export MSP"
OWNER = "owner@bench-export.test"
ORGANIZATIONS = 200
SECTIONS = {
    ProductType.EMAIL: ["email", "calendar", "contact"],
    ProductType.DRIVE: ["drive"],
    ProductType.SHAREPOINT: ["files"],
    ProductType.GROUP_TEAM: ["files", "email"],
}


def _copy(table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def seed_world(count: int) -> None:
    random.seed(7)
    with transaction.atomic():
        partner = seed.partner(PARTNER, country="US")
        seed.staff(seed.person(OWNER, "bench-password-1", totp_secret=None), partner, StaffRole.OWNER)
        plan = seed.plan(partner, "Business Backup")
        organizations = [seed.organization(partner, f"Customer {n:04d}") for n in range(ORGANIZATIONS)]
        for organization in organizations:
            seed.subscription(organization, plan)
    started = datetime(2024, 1, 1, tzinfo=UTC)
    products = list(ProductType.values)
    kinds = list(EmailKind.values)
    results = list(BackupResult.values)

    def accounts():
        for n in range(count):
            product = products[n % len(products)]
            organization = organizations[n % ORGANIZATIONS]
            yield (
                partner.pk, organization.pk, product, random.choice(kinds) if product == "email" else "",
                f"user{n}@customer{organization.pk}.test", f"{product}-{n}", "",
                "active" if n % 10 else "deactivated", True, started + timedelta(minutes=n),
            )

    columns = ["partner_id", "organization_id", "product_type", "email_kind", "address", "external_id", "domain",
               "status", "backed_up", "added_at"]
    _copy("saas_account", columns, accounts())
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, product_type, added_at FROM saas_account WHERE partner_id = %s", [partner.pk])
        made = cursor.fetchall()

    def sections():
        for pk, product, added in made:
            for section in SECTIONS.get(product, [product if product in ("calendar", "contact") else "drive"]):
                result = random.choices(results, weights=[80, 10, 7, 3])[0]
                yield (pk, section, "active", added, None if result == "never" else added + timedelta(days=1),
                       result, random.randint(0, 50_000), random.randint(0, 5 * 1024**3))

    _copy("saas_accountsection",
          ["account_id", "section", "status", "added_at", "last_backup_at", "last_result", "item_count", "bytes"],
          sections())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE saas_account; ANALYZE saas_accountsection")
    print(f"seeded {count} accounts in {ORGANIZATIONS} organizations of {PARTNER}")


def measure(params: dict) -> None:
    owner = Membership.objects.select_related("person", "partner").get(person__email=OWNER)
    kind = export_kind("accounts")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    total = kind.count(owner, params)
    counted = time.perf_counter()
    with tempfile.TemporaryFile() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        rows = write_csv(text, kind.columns(), kind.rows(owner, params), total)
        text.flush()
        size = raw.tell()
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{connection.vendor} {params or 'all'}: {rows} rows, {size / 1e6:.1f} MB; count {counted - started:.2f} s, "
        f"write {ended - counted:.2f} s = {rows / (ended - counted):,.0f} rows/s "
        f"({rows / (ended - started):,.0f} with the count); peak RSS {peak / 1024:.0f} MB "
        f"(after start {baseline / 1024:.0f} MB); this process's CPU {cpu:.2f} s = {rows / cpu:,.0f} rows per CPU second"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, metavar="ACCOUNTS", help="write a partner with this many accounts")
    parser.add_argument("--status", help="export only accounts of this status")
    parser.add_argument("--product-type", help="export only accounts of this product type")
    args = parser.parse_args()
    if args.seed:
        seed_world(args.seed)
    else:
        measure({k: v for k, v in {"status": args.status, "product_type": args.product_type}.items() if v})
