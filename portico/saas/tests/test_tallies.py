"""The accounts' tallies (DASH-1, DASH-2) stay equal to the accounts, whatever writes them.

Random sequences of the writes an account sees (created, saved with a new status or organization,
updated in bulk, deleted one by one or in bulk, inside a transaction that is rolled back) are
applied, and after each the tallies' counts are compared with the accounts counted afresh in
Python. The database's triggers keep the tallies: on PostgreSQL per statement, on SQLite per row.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico import seed
from portico.saas import tallies
from portico.saas.models import Account, AccountPeriodTally, AccountTally

STATUSES = ["active", "deactivated", "deleted"]
# Times on both sides of month ends, in UTC, and a leap day.
MOMENTS = [
    datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 11, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 8, 30, tzinfo=UTC),
]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 2), st.sampled_from(STATUSES), st.booleans(), st.integers(0, 3)),
        st.tuples(st.just("save"), st.integers(0, 30), st.sampled_from(STATUSES), st.booleans(), st.integers(0, 2)),
        st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 1)),
        st.tuples(st.just("redate"), st.integers(0, 30), st.integers(0, 3)),
        st.tuples(st.just("bulk_status"), st.integers(0, 2), st.sampled_from(STATUSES)),
        st.tuples(st.just("bulk_backed_up"), st.sampled_from(STATUSES), st.booleans()),
        st.tuples(st.just("rename"), st.integers(0, 30)),
        st.tuples(st.just("delete"), st.integers(0, 30)),
        st.tuples(st.just("bulk_delete"), st.integers(0, 2), st.sampled_from(STATUSES)),
        st.tuples(st.just("rolled_back"), st.integers(0, 2), st.sampled_from(STATUSES)),
    ),
    max_size=25,
)


def _counts_of(accounts, key) -> dict:
    """What the tallies should hold: per key, the four counts, for keys with any account."""
    counts: dict = {}
    for account in accounts:
        row = counts.setdefault(key(account), Counter())
        row[account.status] += 1
        row["active_backed_up"] += account.status == "active" and account.backed_up
    return {k: (c["active"], c["active_backed_up"], c["deactivated"], c["deleted"]) for k, c in counts.items()}


def _tallied(model, *key) -> dict:
    return {
        row[:-4] if len(key) > 1 else row[0]: row[-4:]
        for row in model.objects.values_list(*key, "active", "active_backed_up", "deactivated", "deleted")
        if any(row[-4:])
    }


def assert_tallies_count_the_accounts() -> None:
    accounts = list(Account.objects.all())
    assert _tallied(AccountTally, "organization_id") == _counts_of(accounts, lambda a: a.organization_id)
    by_month = _counts_of(
        accounts, lambda a: (a.organization_id, "month", a.added_at.astimezone(UTC).date().replace(day=1))
    )
    by_year = _counts_of(
        accounts, lambda a: (a.organization_id, "year", a.added_at.astimezone(UTC).date().replace(month=1, day=1))
    )
    assert _tallied(AccountPeriodTally, "organization_id", "span", "start") == by_month | by_year


def _pick(number: int):
    accounts = list(Account.objects.order_by("pk"))
    return accounts[number % len(accounts)] if accounts else None


def apply(operation, orgs, made: list) -> None:
    kind, *args = operation
    if kind == "create":
        org, status, backed_up, moment = args
        made.append(seed.account(orgs[org], f"user{len(made)}@tally.test", status=status, backed_up=backed_up,
                                 added_at=MOMENTS[moment]))
    elif kind == "save" and (account := _pick(args[0])):
        account.status, account.backed_up = args[1], args[2]
        account.save()
    elif kind == "move" and (account := _pick(args[0])) and account.partner_id == orgs[args[1]].partner_id:
        account.organization = orgs[args[1]]  # to another customer of the same partner
        account.save(update_fields=["organization"])
    elif kind == "redate" and (account := _pick(args[0])):
        account.added_at = MOMENTS[args[1]]
        account.save(update_fields=["added_at"])
    elif kind == "bulk_status":
        Account.objects.filter(organization=orgs[args[0]]).update(status=args[1])
    elif kind == "bulk_backed_up":
        Account.objects.filter(status=args[0]).update(backed_up=args[1])
    elif kind == "rename" and (account := _pick(args[0])):
        Account.objects.filter(pk=account.pk).update(address=f"renamed{account.pk}@tally.test")
    elif kind == "delete" and (account := _pick(args[0])):
        account.delete()
    elif kind == "bulk_delete":
        Account.objects.filter(organization=orgs[args[0]], status=args[1]).delete()
    elif kind == "rolled_back":
        with transaction.atomic():
            Account.objects.filter(organization=orgs[args[0]]).update(status=args[1])
            Account.objects.filter(organization=orgs[(args[0] + 1) % 3]).delete()
            transaction.set_rollback(True)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=operations)
def test_dash1_tallies_equal_the_accounts_after_any_writes(operations):
    with transaction.atomic():
        partner, other = seed.partner("Tally MSP"), seed.partner("Other MSP")
        orgs = [seed.organization(partner, "North"), seed.organization(partner, "South"), seed.organization(other, "Far")]
        made: list = []
        for operation in operations:
            apply(operation, orgs, made)
            assert_tallies_count_the_accounts()
        # A tally's partner is its accounts' partner, which the policy restricts by.
        assert set(AccountTally.objects.values_list("organization_id", "partner_id")) <= {
            (org.pk, org.partner_id) for org in orgs
        }
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_dash1_the_migration_counts_existing_accounts_as_the_triggers_do():
    partner = seed.partner("Tally MSP")
    north, south = seed.organization(partner, "North"), seed.organization(partner, "South")
    for n, moment in enumerate(MOMENTS):
        seed.account(north, f"n{n}@tally.test", added_at=moment, status=STATUSES[n % 3], backed_up=n % 2 == 0)
        seed.account(south, f"s{n}@tally.test", added_at=moment + timedelta(hours=1))
    def tallied():
        return _tallied(AccountTally, "organization_id"), _tallied(AccountPeriodTally, "organization_id", "span", "start")

    kept = tallied()
    AccountTally.objects.update(active=99)
    AccountPeriodTally.objects.all().delete()
    tallies.rebuild(Account, AccountTally, AccountPeriodTally)
    assert tallied() == kept
    assert_tallies_count_the_accounts()
