"""Benchmark of the access policy at the target scale (issue 3, DESIGN "Scale").

Seeds one partner with 10,000 organizations, 100,000 devices, 200,000 end users and 50 groups
on PostgreSQL (once; later runs reuse it), then measures the first page of
  (a) devices for an Admin whose groups scope 5,000 organizations — the console page and the API,
  (b) the devices an all-organizations end user may connect to (policy.restrict, remote_control),
  (c) end users of one organization — the console page filtered by organization,
through the whole Django stack (middleware, policy, template), reporting p50/p95 server time,
query count, and the ratio to the page's main SQL query run alone (EXPLAIN ANALYZE).

    createdb -h 127.0.0.1 -U postgres portico_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portico_bench .venv/bin/python bench/access/run.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
os.environ.setdefault("PORTICO_SECRET_KEY", "bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from portico import seed  # noqa: E402
from portico.access import catalog, policy  # noqa: E402
from portico.devices.models import Device, DeviceAssignment  # noqa: E402
from portico.identity.models import Membership, Person  # noqa: E402
from portico.tenancy.models import Organization, Partner  # noqa: E402
from tests.support import PASSWORD, sign_in  # noqa: E402

ORGS, DEVICES, END_USERS, GROUPS = 10_000, 100_000, 200_000, 50
SCOPED_ORGS = 5_000
RUNS = int(os.environ.get("BENCH_RUNS", "60"))
BATCH = 5_000
PARTNER = "Bench MSP"


def seed_world() -> None:
    if Partner.objects.filter(name=PARTNER).exists():
        return
    rng = random.Random(7)
    started = time.monotonic()
    partner = seed.partner(PARTNER)
    Organization.objects.bulk_create(
        [Organization(partner=partner, name=f"Org {i:05}") for i in range(ORGS)], batch_size=BATCH
    )
    org_ids = list(Organization.objects.filter(partner=partner).order_by("id").values_list("id", flat=True))
    oses = catalog.OsFamily.values
    for start in range(0, DEVICES, BATCH):
        Device.objects.bulk_create(
            [
                Device(partner=partner, organization_id=org_ids[i % ORGS], name=f"PC-{i:06}", os_family=oses[i % 3],
                       last_user=f"user{i}", online=i % 4 == 0)
                for i in range(start, min(start + BATCH, DEVICES))
            ]
        )
    for start in range(0, END_USERS, BATCH):
        people = Person.objects.bulk_create(
            [Person(email=f"user{i:06}@bench.test", first_name="User", last_name=f"{i:06}", password="!")
             for i in range(start, min(start + BATCH, END_USERS))]
        )
        Membership.objects.bulk_create(
            [Membership(person=p, partner=partner, kind="end_user", organization_id=org_ids[(start + n) % ORGS])
             for n, p in enumerate(people)]
        )
    admin = seed.staff(seed.person("admin@bench.test", PASSWORD, first_name="Bench", last_name="Admin"), partner, "admin")
    seed.staff(seed.person("owner@bench.test", PASSWORD), partner, "owner")
    scoped = org_ids[:SCOPED_ORGS]
    for g in range(GROUPS):
        managers = [admin] if g < 5 else []
        scope = scoped[g * 1000:(g + 1) * 1000] if g < 5 else rng.sample(org_ids, 20)
        seed.group(partner, f"Group {g:02}", organizations=Organization.objects.filter(pk__in=scope), managers=managers)
    roamer = seed.end_user(seed.person("roamer@bench.test", PASSWORD), of=partner)
    seed.give_roles(roamer, seed.role(partner, "Remote", catalog.CONNECTIONS, *(
        catalog.connection_code("remote_control", os) for os in ("windows", "linux"))))
    DeviceAssignment.objects.bulk_create(
        [DeviceAssignment(membership=roamer, device_id=d) for d in
         Device.objects.filter(partner=partner).order_by("?").values_list("id", flat=True)[:2_000]]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded in {time.monotonic() - started:.0f} s")


def explain_ms(sql: str) -> float:
    """The server's execution time of the statement (EXPLAIN ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        return cursor.fetchone()[0][0]["Execution Time"]


def raw_ms(sql: str) -> float:
    """The statement run alone from Python, rows fetched: what the page would cost as bare SQL."""
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        return (time.perf_counter() - started) * 1000


def main_query(queries: list[dict], table: str) -> str:
    """The page's main query: the one that selects the rows of `table` with a LIMIT."""
    return next(q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"] and "COUNT(" not in q["sql"])


def measure(name: str, call, table: str) -> dict:
    call()  # warm
    times, counts = [], []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        counts.append(len(captured.captured_queries))
    sql = main_query(captured.captured_queries, table)
    raw = statistics.median(raw_ms(sql) for _ in range(20))
    server = statistics.median(explain_ms(sql) for _ in range(10))
    times.sort()
    p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
    return {
        "case": name, "p50_ms": p50, "p95_ms": p95, "queries": max(counts),
        "raw_sql_ms": raw, "explain_ms": server, "ratio_p50": p50 / raw,
    }


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (see the module docstring).")
    call_command("migrate", verbosity=0)
    seed_world()
    admin = Membership.objects.get(person__email="admin@bench.test")
    roamer = Membership.objects.get(person__email="roamer@bench.test")
    assert policy.restrict(Organization.objects.all(), admin, "view").count() == SCOPED_ORGS
    one_org = Organization.objects.get(partner__name=PARTNER, name="Org 00042")

    with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
        web = sign_in(Client(), admin)

        def page(path):
            def call():
                response = web.get(path)
                assert response.status_code == 200, response.status_code
            return call

        def api(path):
            def call():
                response = web.get(path, HTTP_ACCEPT="application/json")
                assert response.status_code == 200, response.status_code
            return call

        def devices_policy_only():
            return list(policy.restrict(Device.objects.select_related("organization"), admin, "view").order_by("name", "id")[:26])

        def end_users_policy_only():
            return list(
                policy.restrict(
                    Membership.objects.filter(kind="end_user", organization=one_org).select_related("person", "organization"),
                    admin, "view",
                ).order_by("person__last_name", "person__first_name", "id")[:26]
            )

        def connectable_policy_only():
            return list(
                policy.restrict(Device.objects.all(), roamer, "remote_control").order_by("name", "id")[:25]
            )

        def connectable():
            return list(
                policy.restrict(Device.objects.select_related("organization"), roamer, "remote_control").order_by("name", "id")[:25]
            )

        results = [
            measure("(a) devices page, Admin scoped to 5,000 organizations", page("/console/devices/"), "devices_device"),
            measure("(a) the policy's queryset alone (26 devices)", devices_policy_only, "devices_device"),
            measure("(a) devices API, same Admin, 25 a page", api("/api/v1/devices/?page_size=25"), "devices_device"),
            measure("(a) devices API, same Admin, 200 a page", api("/api/v1/devices/?page_size=200"), "devices_device"),
            measure("(b) same, the policy's queryset alone", connectable_policy_only, "devices_device"),
            measure("(b) devices an all-organizations end user may remote-control", connectable, "devices_device"),
            measure("(c) the policy's queryset alone (26 end users)", end_users_policy_only, "identity_membership"),
            measure("(c) end users of one organization (page, filtered by its name)",
                    page(f"/console/end-users/?organization={one_org.name.replace(' ', '+')}"), "identity_membership"),
            measure("(c) end users of one organization (API, ?organization=<id>)",
                    api(f"/api/v1/end-users/?organization={one_org.pk}"), "identity_membership"),
        ]
    print("| case | p50 ms | p95 ms | queries | main query raw ms | its EXPLAIN ms | p50 / raw |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['case']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['queries']} | {r['raw_sql_ms']:.2f} "
            f"| {r['explain_ms']:.2f} | {r['ratio_p50']:.1f} |"
        )


if __name__ == "__main__":
    main()
