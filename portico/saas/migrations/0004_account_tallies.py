"""The dashboard's tallies of accounts (DASH-1), kept by triggers on the accounts table.

The triggers are created first, then every account is counted once, in the same transaction on
PostgreSQL, so an account written meanwhile is not lost between the two (about 10 s for 1,000,000
accounts).
"""

import django.db.models.deletion
from django.db import migrations, models

from portico.saas import tallies


def install_and_count(apps, schema_editor):
    tallies.install(schema_editor)
    tallies.rebuild(
        apps.get_model("saas", "Account"), apps.get_model("saas", "AccountTally"),
        apps.get_model("saas", "AccountPeriodTally"),
    )


def uninstall(apps, schema_editor):
    tallies.uninstall(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('saas', '0003_usage_and_email_kind_indexes'),
        ('tenancy', '0002_group'),
    ]

    operations = [
        migrations.CreateModel(
            name='AccountPeriodTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('span', models.CharField(choices=[('month', 'Month'), ('year', 'Year')], max_length=8)),
                ('start', models.DateField()),
                ('active', models.BigIntegerField(default=0)),
                ('active_backed_up', models.BigIntegerField(default=0)),
                ('deactivated', models.BigIntegerField(default=0)),
                ('deleted', models.BigIntegerField(default=0)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
                ('partner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.partner')),
            ],
            options={
                'verbose_name': 'account tally of a period',
                'indexes': [models.Index(fields=['partner', 'span', 'start', 'organization'], include=('active', 'active_backed_up', 'deactivated', 'deleted'), name='account_period_tally')],
                'constraints': [models.UniqueConstraint(fields=('organization', 'span', 'start'), name='one_tally_per_period')],
            },
        ),
        migrations.CreateModel(
            name='AccountTally',
            fields=[
                ('organization', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='account_tally', serialize=False, to='tenancy.organization')),
                ('active', models.BigIntegerField(default=0)),
                ('active_backed_up', models.BigIntegerField(default=0)),
                ('deactivated', models.BigIntegerField(default=0)),
                ('deleted', models.BigIntegerField(default=0)),
                ('partner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.partner')),
            ],
            options={
                'verbose_name': 'account tally',
                'indexes': [models.Index(fields=['partner', 'organization'], include=('active', 'active_backed_up', 'deactivated', 'deleted'), name='account_tally_partner')],
            },
        ),
        migrations.RunPython(install_and_count, uninstall),
    ]
