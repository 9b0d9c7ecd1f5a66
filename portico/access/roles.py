"""Staff roles of a partner (PU-1) and their gapped ranks.

Ranks are gapped integers so that "strictly beneath your own" is a comparison and a new role
can later fit between two others. Finance and Support share a rank.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    SUPER_ADMIN = "super_admin", _("Super Admin")
    ADMIN = "admin", _("Admin")
    FINANCE = "finance", _("Finance")
    SUPPORT = "support", _("Support")


RANKS: dict[str, int] = {
    StaffRole.OWNER: 400,
    StaffRole.SUPER_ADMIN: 300,
    StaffRole.ADMIN: 200,
    StaffRole.FINANCE: 100,
    StaffRole.SUPPORT: 100,
}


def rank(role: str) -> int:
    return RANKS[role]


def roles_beneath(role: str) -> list[str]:
    """Roles strictly beneath `role` (PU-2)."""
    return [r for r, value in RANKS.items() if value < RANKS[role]]


def assignable_roles(role: str) -> list[str]:
    """Roles a staff user of `role` may give: strictly beneath their own, never Owner (PU-2)."""
    return [r for r in roles_beneath(role) if r != StaffRole.OWNER]
