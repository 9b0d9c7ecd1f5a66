"""The database triggers that keep AccountTotals equal to each account's sections.

An account gets its totals row from the statement that inserts it. Any insert, delete or update of
sections (of the counted columns, or a section moved to another account) adds its accounts' sections
up again: the last backup and the worst result are maxima, which a delete cannot take back, and an
account has at most six sections. On PostgreSQL one trigger per statement does it for all the
statement's accounts: it first locks their totals rows, in account order, then adds up in a new
snapshot, so a writer that waited for another one's sections of the same account sees them (adding
up in the locking statement would write the totals of a snapshot older than the other's commit).
SQLite, the demo's database, has row triggers only and one writer at a time.

On SQLite a migration that rebuilds the accounts or the sections table drops its triggers: `install`
them again in that migration (the totals' tests fail otherwise).
"""

from __future__ import annotations

from portico.saas import tallies
from portico.saas.models import RESULTS_BEST_TO_WORST

TOTALS = "saas_accounttotals"
COLUMNS = "last_backup_at, worst_result, item_count, bytes"
# What an update must change to change an account's totals.
COUNTED = "account_id, last_backup_at, last_result, item_count, bytes"


def _worst(section: str) -> str:
    """The worst last result of the sections as its code, ranked by RESULTS_BEST_TO_WORST (a result
    outside the ranking counts for nothing, as the export's grouped query had it); blank without any."""
    ranked = " ".join(f"WHEN '{result}' THEN {rank}" for rank, result in enumerate(RESULTS_BEST_TO_WORST))
    codes = " ".join(f"WHEN {rank} THEN '{result}'" for rank, result in enumerate(RESULTS_BEST_TO_WORST))
    return f"CASE MAX(CASE {section}.last_result {ranked} END) {codes} ELSE '' END"


def _sums(section: str) -> str:
    """The totals of COLUMNS over the sections of one group."""
    return (
        f"MAX({section}.last_backup_at), {_worst(section)}, "
        f"COALESCE(SUM({section}.item_count), 0), COALESCE(SUM({section}.bytes), 0)"
    )


def _added_up(account: str) -> str:
    """The totals of one account's sections (at most six), read through an index on their account."""
    return f"SELECT {_sums('section')} FROM saas_accountsection AS section WHERE section.account_id = {account}"


def fill_sql() -> str:
    """Every account's totals from its sections: for the migration that adds them."""
    return (
        f"INSERT INTO {TOTALS} (account_id, {COLUMNS}) "
        f"SELECT account.id, {_sums('section')} FROM saas_account AS account "
        f"LEFT JOIN saas_accountsection AS section ON section.account_id = account.id GROUP BY account.id"
    )


def add_up_again_sql(condition: str) -> str:
    """The totals of the accounts whose totals fit `condition` (SQL over `totals`) added up again
    from their sections: for a migration that changes how they are added up."""
    return f"UPDATE {TOTALS} AS totals SET ({COLUMNS}) = ({_added_up('totals.account_id')}) WHERE {condition}"


# PostgreSQL: statement triggers over the transition tables.

_PG_CHANGED = {
    "INSERT": "SELECT account_id FROM new_rows",
    "DELETE": "SELECT account_id FROM old_rows",
    # Rows whose counted columns did not change cancel out, so an update of a section's status alone
    # adds nothing up.
    "UPDATE": f"""SELECT account_id FROM (
            (SELECT {COUNTED} FROM new_rows EXCEPT ALL SELECT {COUNTED} FROM old_rows)
            UNION ALL
            (SELECT {COUNTED} FROM old_rows EXCEPT ALL SELECT {COUNTED} FROM new_rows)
        ) AS changed""",
}
_PG_REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
    "UPDATE": "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows",
}


def _pg_section_function(op: str) -> str:
    return f"""
DECLARE
    accounts bigint[];
BEGIN
    SELECT array_agg(DISTINCT account_id ORDER BY account_id) INTO accounts FROM ({_PG_CHANGED[op]}) AS change;
    IF accounts IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM {TOTALS} WHERE account_id = ANY(accounts) ORDER BY account_id FOR UPDATE;
    UPDATE {TOTALS} AS totals SET ({COLUMNS}) = ({_added_up("totals.account_id")})
    WHERE totals.account_id = ANY(accounts);
    RETURN NULL;
END"""


_PG_ACCOUNT_FUNCTION = f"""
BEGIN
    INSERT INTO {TOTALS} (account_id, {COLUMNS}) SELECT id, NULL, '', 0, 0 FROM new_rows;
    RETURN NULL;
END"""


def _pg_trigger(name: str, op: str, table: str, body: str) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${body} $$",
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} AFTER {op} ON {table} {_PG_REFERENCING[op]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


def _pg_statements() -> list[str]:
    statements = _pg_trigger("saas_account_totals_insert", "INSERT", "saas_account", _PG_ACCOUNT_FUNCTION)
    for op in _PG_CHANGED:
        statements += _pg_trigger(f"saas_section_totals_{op.lower()}", op, "saas_accountsection", _pg_section_function(op))
    return statements


# SQLite: row triggers.


def _sqlite_add_up(account: str) -> str:
    return f"UPDATE {TOTALS} SET ({COLUMNS}) = ({_added_up(account)}) WHERE account_id = {account};"


def _sqlite_statements() -> list[str]:
    triggers = {
        "saas_account_totals_insert": (
            "AFTER INSERT ON saas_account",
            f"INSERT INTO {TOTALS} (account_id, {COLUMNS}) VALUES (NEW.id, NULL, '', 0, 0);",
        ),
        "saas_section_totals_insert": ("AFTER INSERT ON saas_accountsection", _sqlite_add_up("NEW.account_id")),
        "saas_section_totals_delete": ("AFTER DELETE ON saas_accountsection", _sqlite_add_up("OLD.account_id")),
        "saas_section_totals_update": (
            f"AFTER UPDATE OF {COUNTED} ON saas_accountsection",
            _sqlite_add_up("OLD.account_id") + " " + _sqlite_add_up("NEW.account_id"),
        ),
    }
    statements = []
    for name, (when, body) in triggers.items():
        statements += [f"DROP TRIGGER IF EXISTS {name}", f"CREATE TRIGGER {name} {when} BEGIN {body} END"]
    return statements


TRIGGERS = (
    ("saas_account_totals_insert", "saas_account"),
    *((f"saas_section_totals_{op}", "saas_accountsection") for op in ("insert", "update", "delete")),
)


def install(schema_editor) -> None:
    """Create (or replace) the triggers on the accounts and sections tables."""
    tallies.execute_for_vendor(schema_editor, postgresql=_pg_statements, sqlite=_sqlite_statements)


def uninstall(schema_editor) -> None:
    postgresql = schema_editor.connection.vendor == "postgresql"
    for name, table in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
