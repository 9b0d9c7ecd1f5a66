"""End-user roles and permissions (EU-2, EU-3, PERM-5): named permission sets and direct grants.

A grant is one permission code given either to a role or directly to a membership. Effective
permissions are the union of the grants of a membership's roles and its own (PERM-5).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portico.access.catalog import ALL_CODES


class EndUserRole(models.Model):
    """A named permission set of a partner; the one without partner is built in."""

    partner = models.ForeignKey(
        "tenancy.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="end_user_roles"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    # "Full Portal Access" grants every end-user permission, now and as the catalog grows (EU-2).
    full_access = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("end-user role")
        constraints = [
            models.UniqueConstraint(fields=["partner", "name"], name="unique_role_name_per_partner"),
            models.CheckConstraint(
                name="only_builtin_role_has_no_partner",
                condition=Q(partner__isnull=False) | Q(full_access=True),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Full Portal Access")) if self.is_builtin else self.name

    @property
    def is_builtin(self) -> bool:
        return self.partner_id is None

    @property
    def display_name(self) -> str:
        return str(self)


class RoleAssignment(models.Model):
    membership = models.ForeignKey("identity.Membership", on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(EndUserRole, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["membership", "role"], name="unique_role_assignment")]

    def __str__(self) -> str:
        return f"role {self.role_id} of membership {self.membership_id}"


class Grant(models.Model):
    """One permission code, given to a role or directly to a membership (EU-3)."""

    role = models.ForeignKey(EndUserRole, on_delete=models.CASCADE, null=True, blank=True, related_name="grants")
    membership = models.ForeignKey(
        "identity.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="direct_grants"
    )
    code = models.CharField(max_length=64, choices=[(c, c) for c in sorted(ALL_CODES)])

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="grant_has_one_holder",
                condition=Q(role__isnull=False, membership__isnull=True) | Q(role__isnull=True, membership__isnull=False),
            ),
            models.UniqueConstraint(fields=["role", "code"], condition=Q(role__isnull=False), name="unique_role_grant"),
            models.UniqueConstraint(
                fields=["membership", "code"], condition=Q(membership__isnull=False), name="unique_direct_grant"
            ),
        ]

    def __str__(self) -> str:
        holder = f"role {self.role_id}" if self.role_id else f"membership {self.membership_id}"
        return f"{self.code} for {holder}"


def full_portal_access() -> EndUserRole:
    # get_or_create: tests that flush the database lose the row its data migration wrote.
    role, _created = EndUserRole.objects.get_or_create(
        partner=None, full_access=True, defaults={"name": "Full Portal Access"}
    )
    return role
