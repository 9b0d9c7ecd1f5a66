"""The built-in end-user role "Full Portal Access" (EU-2), shared by every partner."""

from django.db import migrations


def create(apps, schema_editor):
    EndUserRole = apps.get_model("access", "EndUserRole")
    EndUserRole.objects.get_or_create(partner=None, full_access=True, defaults={"name": "Full Portal Access"})


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
