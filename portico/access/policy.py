"""The one access policy (DESIGN mechanism 2): `can` and `restrict`, deny by default.

Each model in reach has a rule that turns (membership, action) into a `Q` over that model,
so `restrict` is one SQL filter and `can` asks the same question of one object. Nothing else
in Portico decides who may see or change what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.db import models
from django.db.models import Q

from portico.access.roles import StaffRole, assignable_roles, roles_beneath

if TYPE_CHECKING:
    from portico.identity.models import Membership

M = TypeVar("M", bound=models.Model)
NOTHING = Q(pk__in=[])

# Staff roles that manage the people of customer organizations (end users, customer users).
PEOPLE_MANAGERS = {StaffRole.OWNER, StaffRole.SUPER_ADMIN, StaffRole.ADMIN, StaffRole.SUPPORT}


class Action:
    VIEW = "view"
    CHANGE = "change"
    DISABLE = "disable"
    RESET_PASSWORD = "reset_password"
    DELETE = "delete"


MEMBERSHIP_ACTIONS = {Action.VIEW, Action.CHANGE, Action.DISABLE, Action.RESET_PASSWORD, Action.DELETE}


def _membership_rule(actor: "Membership", action: str) -> Q:
    from portico.identity.models import MembershipKind

    if action not in MEMBERSHIP_ACTIONS:
        return NOTHING  # deny by default: an unknown action grants nothing
    if actor.kind != MembershipKind.STAFF:
        # End users and customer users see their own membership and change nothing of it here.
        return Q(pk=actor.pk) if action == Action.VIEW else NOTHING
    same_partner = Q(partner_id=actor.partner_id)
    staff_targets = Q(kind=MembershipKind.STAFF)
    if action != Action.VIEW:
        # PU-2: only users strictly beneath one's own role.
        staff_targets &= Q(staff_role__in=roles_beneath(actor.staff_role))
    people = NOTHING
    if actor.staff_role in PEOPLE_MANAGERS:
        people = Q(kind__in=[MembershipKind.END_USER, MembershipKind.CUSTOMER])
    return same_partner & (staff_targets | people)


# PS-1: only Owner and Super Admin open partner settings.
SETTINGS_MANAGERS = {StaffRole.OWNER, StaffRole.SUPER_ADMIN}


def _partner_rule(actor: "Membership", action: str) -> Q:
    from portico.identity.models import MembershipKind

    if actor.kind != MembershipKind.STAFF:
        return NOTHING
    if action == Action.VIEW or (action == Action.CHANGE and actor.staff_role in SETTINGS_MANAGERS):
        return Q(pk=actor.partner_id)
    return NOTHING


_RULES: dict[str, Callable[["Membership", str], Q]] = {
    "identity.membership": _membership_rule,
    "tenancy.partner": _partner_rule,
}


def _rule_for(model: type[models.Model]) -> Callable[["Membership", str], Q]:
    return _RULES.get(model._meta.label_lower, lambda actor, action: NOTHING)


def _usable(actor: "Membership | None") -> bool:
    return actor is not None and actor.pk is not None and actor.enabled


def restrict(queryset: models.QuerySet[M], actor: "Membership | None", action: str) -> models.QuerySet[M]:
    """Only the objects of `queryset` that `actor` may do `action` on, as one SQL filter."""
    if not _usable(actor):
        return queryset.none()
    assert actor is not None
    return queryset.filter(_rule_for(queryset.model)(actor, action))


def can(actor: "Membership | None", action: str, obj: models.Model) -> bool:
    if not _usable(actor) or obj.pk is None:
        return False
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), actor, action).exists()


def can_invite(actor: "Membership | None", kind: str, staff_role: str = "", organization=None) -> bool:
    """May `actor` create a membership of this shape? (ID-1, PU-2)"""
    from portico.identity.models import MembershipKind

    if not _usable(actor) or actor.kind != MembershipKind.STAFF:
        return False
    if kind == MembershipKind.STAFF:
        return staff_role in assignable_roles(actor.staff_role)
    if kind not in (MembershipKind.END_USER, MembershipKind.CUSTOMER):
        return False
    if organization is not None and organization.partner_id != actor.partner_id:
        return False
    return actor.staff_role in PEOPLE_MANAGERS


def invitable_staff_roles(actor: "Membership") -> list[str]:
    return assignable_roles(actor.staff_role) if actor.staff_role else []
