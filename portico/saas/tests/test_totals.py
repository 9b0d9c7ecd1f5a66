"""Each account's totals (CSV-1's last backup, backup status, items and data size) stay equal to its
sections, whatever writes them.

Random sequences of the writes sections and accounts see (created, saved with a new result, moved
to another account, updated in bulk, deleted one by one or in bulk, an account deleted with its
sections, inside a transaction that is rolled back) are applied, and after each every account's
totals are compared with its sections added up afresh in Python. The database's triggers keep the
totals: on PostgreSQL per statement, on SQLite per row.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico import seed
from portico.saas import totals
from portico.saas.models import Account, AccountSection, AccountTotals, Section

# The backup results from best to worst, as docs/decisions.md ranks them: a failure is worst.
RESULTS = ["success", "never", "warning", "failed"]
SECTIONS = list(Section.values)
MOMENTS = [None, datetime(2026, 11, 28, 23, 0, tzinfo=UTC), datetime(2026, 11, 29, 6, 0, 0, 500, tzinfo=UTC)]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("account"), st.integers(0, 1)),
        st.tuples(st.just("section"), st.integers(0, 30), st.sampled_from(SECTIONS), st.sampled_from(RESULTS),
                  st.integers(0, 2), st.integers(0, 10**12)),
        st.tuples(st.just("sections_in_bulk"), st.integers(0, 30), st.sampled_from(RESULTS)),
        st.tuples(st.just("result"), st.integers(0, 60), st.sampled_from(RESULTS), st.integers(0, 2)),
        st.tuples(st.just("sizes"), st.integers(0, 60), st.integers(0, 10**6), st.integers(0, 10**12)),
        st.tuples(st.just("move"), st.integers(0, 60), st.integers(0, 30)),
        st.tuples(st.just("status_only"), st.integers(0, 60)),
        st.tuples(st.just("bulk_result"), st.sampled_from(RESULTS), st.sampled_from(RESULTS)),
        st.tuples(st.just("bulk_grow"), st.sampled_from(SECTIONS), st.integers(1, 1000)),
        st.tuples(st.just("delete"), st.integers(0, 60)),
        st.tuples(st.just("bulk_delete"), st.sampled_from(RESULTS)),
        st.tuples(st.just("delete_account"), st.integers(0, 30)),
        st.tuples(st.just("rolled_back"), st.sampled_from(RESULTS)),
    ),
    max_size=25,
)


def _added_up(sections) -> tuple:
    """An account's totals as the export shows them, from its sections."""
    ranks = [RESULTS.index(s.last_result) for s in sections]
    times = [s.last_backup_at for s in sections if s.last_backup_at]
    return (
        max(times) if times else None, RESULTS[max(ranks)] if ranks else "",
        sum(s.item_count for s in sections), sum(s.bytes for s in sections),
    )


def assert_totals_add_up_the_sections() -> None:
    sections: dict[int, list] = {pk: [] for pk in Account.objects.values_list("pk", flat=True)}
    for section in AccountSection.objects.all():
        sections[section.account_id].append(section)
    kept = {
        row[0]: row[1:]
        for row in AccountTotals.objects.values_list("account_id", "last_backup_at", "worst_result", "item_count", "bytes")
    }
    assert kept == {pk: _added_up(of) for pk, of in sections.items()}


def _pick(model, number: int):
    rows = list(model.objects.order_by("pk"))
    return rows[number % len(rows)] if rows else None


def apply(operation, orgs, made: list) -> None:
    kind, *args = operation
    if kind == "account":
        made.append(seed.account(orgs[args[0]], f"user{len(made)}@totals.test", sections=[("email", "success", 3, 30)]))
    elif kind == "section" and (account := _pick(Account, args[0])):
        section, result, moment, size = args[1:]
        if not account.sections.filter(section=section).exists():
            AccountSection.objects.create(
                account=account, section=section, added_at=account.added_at, last_result=result,
                last_backup_at=MOMENTS[moment], item_count=size % 997, bytes=size,
            )
    elif kind == "sections_in_bulk" and (account := _pick(Account, args[0])):
        taken = set(account.sections.values_list("section", flat=True))
        AccountSection.objects.bulk_create(
            AccountSection(account=account, section=section, added_at=account.added_at, last_result=args[1],
                           last_backup_at=MOMENTS[n % 3], item_count=n, bytes=10**9 + n)
            for n, section in enumerate(SECTIONS) if section not in taken
        )
    elif kind == "result" and (section := _pick(AccountSection, args[0])):
        section.last_result, section.last_backup_at = args[1], MOMENTS[args[2]]
        section.save()
    elif kind == "sizes" and (section := _pick(AccountSection, args[0])):
        section.item_count, section.bytes = args[1], args[2]
        section.save(update_fields=["item_count", "bytes"])
    elif kind == "move" and (section := _pick(AccountSection, args[0])) and (account := _pick(Account, args[1])):
        if not account.sections.filter(section=section.section).exists():
            section.account = account  # a section given to another account
            section.save(update_fields=["account"])
    elif kind == "status_only" and (section := _pick(AccountSection, args[0])):
        AccountSection.objects.filter(pk=section.pk).update(status="deactivated")
    elif kind == "bulk_result":
        AccountSection.objects.filter(last_result=args[0]).update(last_result=args[1])
    elif kind == "bulk_grow":
        AccountSection.objects.filter(section=args[0]).update(item_count=F("item_count") + args[1], bytes=F("bytes") * 2)
    elif kind == "delete" and (section := _pick(AccountSection, args[0])):
        section.delete()
    elif kind == "bulk_delete":
        AccountSection.objects.filter(last_result=args[0]).delete()
    elif kind == "delete_account" and (account := _pick(Account, args[0])):
        account.delete()  # its sections and totals with it
    elif kind == "rolled_back":
        with transaction.atomic():
            AccountSection.objects.update(last_result=args[0], item_count=7)
            AccountSection.objects.filter(section="email").delete()
            transaction.set_rollback(True)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=operations)
def test_csv1_totals_add_up_the_sections_after_any_writes(operations):
    with transaction.atomic():
        partner = seed.partner("Totals MSP")
        orgs = [seed.organization(partner, "North"), seed.organization(partner, "South")]
        made = [
            seed.account(orgs[0], "ann@totals.test", sections=[("email", "success", 120, 4096), ("calendar", "failed", 3, 10)]),
            seed.account(orgs[1], "Sales site", "sharepoint", sections=[("files", "never", 0, 0)]),
            seed.account(orgs[1], "new@totals.test"),
        ]
        assert_totals_add_up_the_sections()
        for operation in operations:
            apply(operation, orgs, made)
            assert_totals_add_up_the_sections()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_csv1_the_migration_adds_up_existing_sections_as_the_triggers_do():
    org = seed.organization(seed.partner("Totals MSP"), "North")
    for n, result in enumerate(RESULTS):
        seed.account(org, f"a{n}@totals.test", sections=[("email", result, n, 10 * n), ("drive", "success", 1, 1)])
    seed.account(org, "none@totals.test")
    kept = list(AccountTotals.objects.order_by("pk").values_list())
    AccountTotals.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(totals.fill_sql())
    assert list(AccountTotals.objects.order_by("pk").values_list()) == kept
    assert_totals_add_up_the_sections()


@pytest.mark.django_db
def test_acc2_a_failure_ranks_worst_then_warnings_then_not_backed_up_yet():
    org = seed.organization(seed.partner("Totals MSP"), "North")
    cases = {
        "failed": [("email", "never", 0, 0), ("drive", "failed", 0, 0)],
        "warning": [("email", "warning", 0, 0), ("calendar", "never", 0, 0)],
        "never": [("email", "success", 0, 0), ("drive", "never", 0, 0)],
        "success": [("email", "success", 0, 0)],
    }
    accounts = {worst: seed.account(org, f"{worst}@totals.test", sections=sections) for worst, sections in cases.items()}
    assert {worst: AccountTotals.objects.get(account=account).worst_result for worst, account in accounts.items()} == {
        worst: worst for worst in cases
    }


@pytest.mark.django_db
def test_acc2_the_migration_that_ranks_failures_worst_adds_up_what_said_never_again():
    org = seed.organization(seed.partner("Totals MSP"), "North")
    failed = seed.account(org, "f@totals.test", sections=[("email", "never", 1, 5), ("drive", "failed", 2, 7)])
    waiting = seed.account(org, "w@totals.test", sections=[("email", "never", 1, 5)])
    # What the ranking before (not backed up yet worst) had kept for the first account.
    AccountTotals.objects.filter(account=failed).update(worst_result="never")
    with connection.cursor() as cursor:
        cursor.execute(totals.add_up_again_sql("totals.worst_result = 'never'"))
    assert AccountTotals.objects.get(account=failed).worst_result == "failed"
    assert AccountTotals.objects.get(account=waiting).worst_result == "never"
    assert_totals_add_up_the_sections()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_csv1_concurrent_writers_of_one_accounts_sections_leave_it_added_up():
    """Two transactions change two sections of one account: the second waits for the first's lock
    on the totals, then adds up what the first committed with its own change."""
    account = seed.account(seed.organization(seed.partner("Totals MSP"), "North"), "ann@totals.test",
                           sections=[("email", "success", 1, 10), ("calendar", "success", 1, 10)])
    email, calendar = account.sections.get(section="email"), account.sections.get(section="calendar")
    first_wrote, second_waits = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                AccountSection.objects.filter(pk=email.pk).update(last_result="failed", bytes=1000)
                first_wrote.set()
                assert second_waits.wait(10)
        except BaseException as error:  # noqa: BLE001 - reported by the test's own thread
            errors.append(error)
        finally:
            connections.close_all()

    def second():
        try:
            assert first_wrote.wait(10)
            with transaction.atomic():
                AccountSection.objects.filter(pk=calendar.pk).update(last_result="warning", bytes=200)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not second_waits.is_set():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                second_waits.set()
        time.sleep(0.01)
    for thread in threads:
        thread.join(10)
    assert not errors, errors
    assert second_waits.is_set()
    assert AccountTotals.objects.filter(account=account).values_list("worst_result", "bytes").get() == ("failed", 1200)
    assert_totals_add_up_the_sections()


@pytest.mark.django_db
def test_csv1_every_account_gets_its_totals_however_it_is_added():
    org = seed.organization(seed.partner("Totals MSP"), "North")
    added_at = datetime(2026, 11, 1, tzinfo=UTC)
    Account.objects.bulk_create(
        Account(partner_id=org.partner_id, organization=org, product_type="drive", address=f"d{n}@totals.test",
                external_id=f"d{n}", added_at=added_at + timedelta(minutes=n))
        for n in range(5)
    )
    assert AccountTotals.objects.filter(account__organization=org).count() == 5
    assert_totals_add_up_the_sections()
