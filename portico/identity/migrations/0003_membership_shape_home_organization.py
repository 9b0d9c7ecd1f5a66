"""An end user always has an organization; `all_organizations` is a flag beside it (EU-1, EU-5)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0002_end_user_home_organization"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("all_organizations", False), ("kind", "staff"), ("organization__isnull", True),
                        models.Q(("staff_role", ""), _negated=True),
                    ),
                    models.Q(("kind", "end_user"), ("organization__isnull", False), ("staff_role", "")),
                    models.Q(
                        ("all_organizations", False), ("kind", "customer"), ("organization__isnull", False),
                        ("staff_role", ""),
                    ),
                    _connector="OR",
                ),
                name="membership_shape",
            ),
        ),
    ]
