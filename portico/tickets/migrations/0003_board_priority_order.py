# The technician board sorts by priority ("most urgent first") and filters Urgent partner-wide;
# without this index PostgreSQL sorts every ticket of the partner for each page (seconds at 600,000).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0002_search_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['partner', '-priority', '-updated_at', '-id'], name='ticket_partner_priority'),
        ),
    ]
