"""Searching a device's backups by file name (FR-2) reads one GIN index of the device and the
name's trigrams (PostgreSQL only; SQLite scans).

Django's `icontains` compiles to `UPPER(name::text) LIKE UPPER(%s)`, so the index holds that
expression; btree_gin lets the device's id share the index, so a search reads only that device's
matches, not every device's. Both extensions ship with PostgreSQL and are trusted.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS snapshot_entry_name_trgm ON backups_snapshotentry"
        " USING gin (device_id, upper(name::text) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS snapshot_entry_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("backups", "0002_policy_runs_index")]
    operations = [migrations.RunPython(create_index, drop_index)]
