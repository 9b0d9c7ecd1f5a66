"""A subscription's relation to its organization's AccountTally, for seat usage's join. It has no
column of its own, so it changes the models' state only (SQLite's schema editor would otherwise try
to drop a column that never existed when migrating back)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('saas', '0005_account_totals'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='subscription',
                    name='account_tally',
                    field=models.ForeignObject(from_fields=['organization'], null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='saas.accounttally', to_fields=['organization']),
                ),
            ],
        ),
    ]
