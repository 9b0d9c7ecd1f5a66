"""An account's backup status ranks a failed section worst, then warnings, then a section not backed
up yet (`RESULTS_BEST_TO_WORST`); "not backed up yet" ranked worst before.

The triggers are made again with the new ranking, then the totals that may rank differently are
added up again: only those that said "never", since an account whose worst was a failure or a
warning had no section waiting for its first backup. Going back leaves the new ranking in place.
"""

from django.db import migrations

from portico.saas import totals


def rank_again(apps, schema_editor):
    totals.install(schema_editor)
    schema_editor.execute(totals.add_up_again_sql("totals.worst_result = 'never'"))


class Migration(migrations.Migration):

    dependencies = [
        ("saas", "0006_subscription_account_tally"),
    ]

    operations = [
        migrations.RunPython(rank_again, migrations.RunPython.noop),
    ]
