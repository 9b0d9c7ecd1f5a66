"""The accounts page's partial search (ACC-1) reads trigram indexes of the address and the account
id (PostgreSQL only; SQLite scans, as it does for every search).

Django's `icontains` compiles to `UPPER("saas_account"."address"::text) LIKE UPPER(%s)` on
PostgreSQL, so the indexes hold that expression; a text of three characters or more then finds its
accounts through the index instead of reading every account of the partner. pg_trgm ships with
PostgreSQL and is a trusted extension, so the database owner may create it; unapplying drops the
indexes and leaves the extension, which other objects may use by then.

ANALYZE follows at once: the planner's guess of how many accounts a text matches comes from the
statistics of the indexed expressions, which nothing else collects until many rows change. Without
them it guessed 78,000 matches for any text, and looked for a text found nowhere by walking every
account newest first (1.9 s at 1,100,000 accounts; 16 ms through the index with them).

Building the indexes reads the whole table under a lock that holds back writes (not reads): 19 s
for 1,100,000 accounts on two cores, 39 s while other work kept them busy.
"""

from django.db import migrations

INDEXES = {
    "account_address_trgm": "address",
    "account_external_id_trgm": "external_id",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON saas_account USING gin (upper({column}::text) gin_trgm_ops)")
    schema_editor.execute("ANALYZE saas_account")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("saas", "0001_initial")]
    operations = [migrations.RunPython(create_trigram_indexes, drop_trigram_indexes)]
