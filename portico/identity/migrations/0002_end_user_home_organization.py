"""Every end user gets a home organization; "all organizations" only widens their devices (EU-5).

End users who had all organizations and no organization are given their partner's first
organization (by id) as home. A partner without any organization gets one named after itself,
so nobody loses access (docs/decisions.md). The new shape is enforced by the next migration, in a
transaction of its own: PostgreSQL cannot alter a table with foreign-key checks still pending.
"""

from django.db import migrations, models


def give_home_organizations(apps, schema_editor):
    Membership = apps.get_model("identity", "Membership")
    Organization = apps.get_model("tenancy", "Organization")
    Partner = apps.get_model("tenancy", "Partner")
    homeless = Membership.objects.filter(kind="end_user", organization__isnull=True)
    for partner_id in sorted(set(homeless.values_list("partner_id", flat=True))):
        home = Organization.objects.filter(partner_id=partner_id).order_by("pk").first()
        if home is None:
            home = Organization.objects.create(partner_id=partner_id, name=Partner.objects.get(pk=partner_id).name)
        homeless.filter(partner_id=partner_id).update(organization=home, all_organizations=True)


def leave_home_organizations(apps, schema_editor):
    """The old shape: an all-organizations end user has no organization."""
    Membership = apps.get_model("identity", "Membership")
    Membership.objects.filter(kind="end_user", all_organizations=True).update(organization=None)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial"),
        ("tenancy", "0002_group"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="membership", name="membership_shape"),
        migrations.AlterField(
            model_name="membership",
            name="all_organizations",
            field=models.BooleanField(default=False, verbose_name="devices of all organizations"),
        ),
        migrations.RunPython(give_home_organizations, leave_home_organizations),
    ]
