"""Indexes of the organizations and accounts pages at scale (ORG-2, ORG-4, ACC-1).

- `section_bytes` (account, bytes): an organization's storage usage adds up its sections' bytes
  from the index alone, instead of reading each section row (20 rows of the organizations page:
  about 120 ms cold, most of the page). It also serves lookups by account, so the foreign key's
  own index goes.
- `account_org_seats` gains the partner: every policy-restricted count asks for it too, and with
  it in the index an organization's seats are counted without reading one account row (a scoped
  Admin's coverage read 450,000 rows for it: 714 ms).
- `account_email_kind_page`: the accounts page filtered by an email kind the partner has few of
  (public folders) no longer walks every mailbox of the status (210-500 ms at 1,000,000 accounts).
- `organization_name_trgm` (PostgreSQL only): the organizations page's partial search by name reads
  a trigram index of the name as `icontains` writes it, `UPPER(name::text)`, instead of every
  organization; the accounts page's search by organization name reads it too. It lives here, with
  the pg_trgm extension this app created in 0002.
"""

import django.db.models.deletion
from django.db import migrations, models


def create_name_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS organization_name_trgm ON tenancy_organization"
        " USING gin (upper(name::text) gin_trgm_ops)"
    )
    schema_editor.execute("ANALYZE tenancy_organization")


def drop_name_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS organization_name_trgm")


class Migration(migrations.Migration):

    dependencies = [
        ('saas', '0002_account_search_trigram'),
        ('tenancy', '0002_group'),
    ]

    operations = [
        migrations.RunPython(create_name_index, drop_name_index),
        migrations.AlterField(
            model_name='accountsection',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='sections', to='saas.account'),
        ),
        migrations.AddIndex(
            model_name='account',
            index=models.Index(condition=models.Q(('product_type', 'email')), fields=['partner', 'email_kind', 'status', 'id'], name='account_email_kind_page'),
        ),
        migrations.RemoveIndex(model_name="account", name="account_org_seats"),
        migrations.AddIndex(
            model_name="account",
            index=models.Index(fields=["organization", "status", "backed_up", "partner"], name="account_org_seats"),
        ),
        migrations.AddIndex(
            model_name='accountsection',
            index=models.Index(fields=['account', 'bytes'], name='section_bytes'),
        ),
    ]
