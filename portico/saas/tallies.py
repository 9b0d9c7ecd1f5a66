"""The database triggers that keep AccountTally and AccountPeriodTally equal to the accounts.

An account counts in its organization's tally and in the tallies of the month and the year (UTC)
it was added, by its status and, when active, whether it is backed up. The triggers add the rows a statement inserts
and take away the rows it deletes; an update does both, for the columns that count. On PostgreSQL
one trigger per statement adds up all its rows at once (a sync of thousands of accounts is one
write per organization, in a fixed order so that concurrent writers do not deadlock); SQLite, the
demo's database, has row triggers only.

Months and years are UTC, as settings.TIME_ZONE is. On SQLite a migration that rebuilds the accounts table
drops its triggers: `install` them again in that migration (the tallies' tests fail otherwise).
"""

from __future__ import annotations

from portico.saas.models import COUNTS as COLUMNS

# The tallies' tables, and the span a row counts: None for all of an organization's accounts.
TALLIES = (("saas_accounttally", None), ("saas_accountperiodtally", "month"), ("saas_accountperiodtally", "year"))
_KEYS = "organization_id, span, start"  # of a period's tally


def _counts(row: str) -> list[str]:
    """What an account (`row`, e.g. NEW) adds to each count, 1 or 0."""
    return [
        f"CASE WHEN {row}.status = 'active' THEN 1 ELSE 0 END",
        f"CASE WHEN {row}.status = 'active' AND {row}.backed_up THEN 1 ELSE 0 END",
        f"CASE WHEN {row}.status = 'deactivated' THEN 1 ELSE 0 END",
        f"CASE WHEN {row}.status = 'deleted' THEN 1 ELSE 0 END",
    ]


# PostgreSQL: statement triggers over the transition tables.

_PG_CHANGES = {
    "INSERT": "SELECT *, 1 AS sign FROM new_rows",
    "DELETE": "SELECT *, -1 AS sign FROM old_rows",
    "UPDATE": "SELECT *, 1 AS sign FROM new_rows UNION ALL SELECT *, -1 AS sign FROM old_rows",
}
_PG_REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
    "UPDATE": "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows",
}


def _pg_upsert(table: str, span: str | None, changes: str) -> str:
    keys = ["change.organization_id"] + ([f"date_trunc('{span}', change.added_at AT TIME ZONE 'UTC')::date"] if span else [])
    values = [keys[0], f"'{span}'", *keys[1:]] if span else keys
    key_columns = _KEYS if span else "organization_id"
    sums = [f"SUM(sign * {count})" for count in _counts("change")]
    return f"""
    INSERT INTO {table} AS tally ({key_columns}, partner_id, {", ".join(COLUMNS)})
    SELECT {", ".join(values)}, MIN(change.partner_id), {", ".join(sums)}
    FROM ({changes}) AS change
    GROUP BY {", ".join(keys)}
    HAVING {" OR ".join(f"{total} <> 0" for total in sums)}
    ORDER BY {", ".join(keys)}
    ON CONFLICT ({key_columns}) DO UPDATE SET
        {", ".join(f"{column} = tally.{column} + EXCLUDED.{column}" for column in COLUMNS)};"""


def _pg_statements() -> list[str]:
    statements = []
    for op, changes in _PG_CHANGES.items():
        name = f"saas_account_tally_{op.lower()}"
        body = "".join(_pg_upsert(table, span, changes) for table, span in TALLIES)
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN{body}\n    RETURN NULL;\nEND $$",
            f"DROP TRIGGER IF EXISTS {name} ON saas_account",
            f"CREATE TRIGGER {name} AFTER {op} ON saas_account {_PG_REFERENCING[op]}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


# SQLite: row triggers.

_SQLITE_START = {"month": "strftime('%Y-%m-01', {row}.added_at)", "year": "strftime('%Y-01-01', {row}.added_at)"}


def _sqlite_add(table: str, span: str | None, row: str) -> str:
    keys = [f"{row}.organization_id"] + ([f"'{span}'", _SQLITE_START[span].format(row=row)] if span else [])
    key_columns = _KEYS if span else "organization_id"
    return (
        f"INSERT INTO {table} ({key_columns}, partner_id, {', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(keys)}, {row}.partner_id, {', '.join(_counts(row))}) "
        f"ON CONFLICT ({key_columns}) DO UPDATE SET {', '.join(f'{c} = {c} + excluded.{c}' for c in COLUMNS)};"
    )


def _sqlite_take(table: str, span: str | None, row: str) -> str:
    where = f"organization_id = {row}.organization_id"
    if span:
        where += f" AND span = '{span}' AND start = {_SQLITE_START[span].format(row=row)}"
    changes = ", ".join(f"{column} = {column} - ({count})" for column, count in zip(COLUMNS, _counts(row), strict=True))
    return f"UPDATE {table} SET {changes} WHERE {where};"


def _sqlite_statements() -> list[str]:
    take = " ".join(_sqlite_take(table, span, "OLD") for table, span in TALLIES)
    add = " ".join(_sqlite_add(table, span, "NEW") for table, span in TALLIES)
    counted = "organization_id, partner_id, status, backed_up, added_at"
    return [
        "DROP TRIGGER IF EXISTS saas_account_tally_insert",
        f"CREATE TRIGGER saas_account_tally_insert AFTER INSERT ON saas_account BEGIN {add} END",
        "DROP TRIGGER IF EXISTS saas_account_tally_delete",
        f"CREATE TRIGGER saas_account_tally_delete AFTER DELETE ON saas_account BEGIN {take} END",
        "DROP TRIGGER IF EXISTS saas_account_tally_update",
        f"CREATE TRIGGER saas_account_tally_update AFTER UPDATE OF {counted} ON saas_account BEGIN {take} {add} END",
    ]


def install(schema_editor) -> None:
    """Create (or replace) the triggers on the accounts table."""
    execute_for_vendor(schema_editor, postgresql=_pg_statements, sqlite=_sqlite_statements)


def execute_for_vendor(schema_editor, *, postgresql, sqlite) -> None:
    """Run the statements the database's vendor needs (each argument makes a list of them)."""
    statements = {"postgresql": postgresql, "sqlite": sqlite}[schema_editor.connection.vendor]()
    for statement in statements:
        schema_editor.execute(statement, params=None)


def uninstall(schema_editor) -> None:
    postgresql = schema_editor.connection.vendor == "postgresql"
    for op in ("insert", "delete", "update"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS saas_account_tally_{op}" + (" ON saas_account" if postgresql else ""))
        if postgresql:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS saas_account_tally_{op}()")


def rebuild(account_model, tally_model, period_model) -> None:
    """Count every account again into the tallies: for the migration that adds them, on the
    models it is given (the migration's own)."""
    from datetime import UTC

    from django.db.models import Count, DateField, Q
    from django.db.models.functions import Trunc

    counts = {
        "active": Count("id", filter=Q(status="active")),
        "active_backed_up": Count("id", filter=Q(status="active", backed_up=True)),
        "deactivated": Count("id", filter=Q(status="deactivated")),
        "deleted": Count("id", filter=Q(status="deleted")),
    }
    tally_model.objects.all().delete()
    period_model.objects.all().delete()
    accounts = account_model.objects.order_by()
    tally_model.objects.bulk_create(
        (tally_model(**row) for row in accounts.values("organization_id", "partner_id").annotate(**counts)),
        batch_size=2000,
    )
    for span in ("month", "year"):
        starts = accounts.annotate(start=Trunc("added_at", span, output_field=DateField(), tzinfo=UTC))
        period_model.objects.bulk_create(
            (
                period_model(span=span, **row)
                for row in starts.values("organization_id", "partner_id", "start").annotate(**counts)
            ),
            batch_size=2000,
        )
