"""Why the policy says yes or no: the role, direct permission, assignment, organization access or
group that grants an action, or the rule that denies it.

`explain` follows the same rules as `policy.restrict`, step by step; a test holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from portico.access import catalog, policy
from portico.access.catalog import DeviceAction, OsFamily

if TYPE_CHECKING:
    from portico.identity.models import Membership


@dataclass(frozen=True)
class Reason:
    # role | direct | assignment | organization | group | staff_role | denied
    kind: str
    text: str
    grants: bool


@dataclass
class Explanation:
    allowed: bool
    reasons: list[Reason] = field(default_factory=list)

    @property
    def denial(self) -> Reason | None:
        return next((r for r in self.reasons if not r.grants), None)


def explain(actor: Membership | None, action: str, obj: models.Model) -> Explanation:
    if actor is None or actor.pk is None:
        return Explanation(False, [Reason("denied", _("Nobody is signed in."), False)])
    if not actor.enabled:
        return Explanation(False, [Reason("denied", _("This membership is disabled."), False)])
    if obj._meta.label_lower == "devices.device" and actor.kind == "end_user":
        return _explain_end_user_device(actor, action, obj)
    if actor.kind == "staff":
        return _explain_staff(actor, action, obj)
    allowed = policy.can(actor, action, obj)
    if allowed:
        return Explanation(True, [Reason("organization", _("It belongs to your own place."), True)])
    return Explanation(False, [Reason("denied", _("Nothing grants this."), False)])


def _sources(actor: Membership, code: str) -> list[Reason]:
    """The roles and direct grants of `actor` that hold permission `code`."""
    from portico.access.models import EndUserRole, Grant

    own_roles = EndUserRole.objects.filter(
        Q(assignments__membership_id=actor.pk) & (Q(partner_id=actor.partner_id) | Q(partner__isnull=True))
    )
    reasons = [
        Reason("role", _("Role “%(role)s” grants %(permission)s.") % {"role": role, "permission": catalog.label(code)}, True)
        for role in own_roles.filter(Q(full_access=True) | Q(grants__code=code)).distinct()
    ]
    if Grant.objects.filter(membership_id=actor.pk, code=code).exists():
        reasons.append(Reason("direct", _("A direct permission grants %(permission)s.") % {"permission": catalog.label(code)}, True))
    return reasons


def _explain_end_user_device(actor: Membership, action: str, device) -> Explanation:
    reasons: list[Reason] = []

    def deny(text: str) -> Explanation:
        reasons.append(Reason("denied", text, False))
        return Explanation(False, reasons)

    if device.partner_id != actor.partner_id:
        return deny(_("The device belongs to another partner."))
    if not device.assignments.filter(membership_id=actor.pk).exists():
        return deny(_("The device is not assigned to this user."))
    reasons.append(Reason("assignment", _("The device is assigned to this user."), True))
    if actor.all_organizations:
        reasons.append(Reason("organization", _("Organization access: all organizations."), True))
    elif device.organization_id == actor.organization_id:
        reasons.append(
            Reason("organization", _("Organization access: %(organization)s.") % {"organization": device.organization}, True)
        )
    else:
        return deny(
            _("The device is in %(organization)s, outside this user's organization access.")
            % {"organization": device.organization}
        )
    if action == policy.Action.VIEW:
        return Explanation(True, reasons)
    if action not in DeviceAction.values:
        return deny(_("This action does not exist for devices."))
    if action == DeviceAction.RESTORE:
        sources = _sources(actor, catalog.BACKUP_RESTORE)
        if not sources:
            return deny(_("No role or direct permission grants file restore."))
        reasons.extend(sources)
        if not device.backup_enabled:
            return deny(_("Backup is not enabled on this device."))
        return Explanation(True, reasons)
    master = _sources(actor, catalog.CONNECTIONS)
    if not master:
        return deny(_("Connections are switched off for this user."))
    reasons.extend(master)
    code = catalog.connection_code(action, device.os_family)
    sources = _sources(actor, code)
    if not sources:
        return deny(
            _("No role or direct permission grants %(action)s on %(os)s.")
            % {"action": DeviceAction(action).label, "os": OsFamily(device.os_family).label}
        )
    reasons.extend(sources)
    return Explanation(True, reasons)


def _explain_staff(actor: Membership, action: str, obj: models.Model) -> Explanation:
    allowed = policy.can(actor, action, obj)
    reasons = [Reason("staff_role", _("Staff role: %(role)s.") % {"role": actor.get_staff_role_display()}, allowed)]
    partner_id = getattr(obj, "partner_id", None)
    if obj._meta.label_lower == "tenancy.partner":
        partner_id = obj.pk
    if partner_id is not None and partner_id != actor.partner_id:
        reasons.append(Reason("denied", _("It belongs to another partner."), False))
        return Explanation(False, reasons)
    organization_id = obj.pk if obj._meta.label_lower == "tenancy.organization" else getattr(obj, "organization_id", None)
    scope = policy.group_scope(actor)
    if organization_id is not None and obj._meta.label_lower in ("tenancy.organization", "devices.device", "identity.membership"):
        if scope is None:
            reasons.append(Reason("group", _("No group limits this staff user: all organizations are in reach."), True))
        else:
            groups = actor.managed_groups.filter(organizations__id=organization_id).distinct()
            if groups:
                names = ", ".join(g.name for g in groups)
                reasons.append(Reason("group", _("Group %(groups)s includes the organization.") % {"groups": names}, True))
            else:
                reasons.append(Reason("denied", _("The organization is outside the scope of this user's groups."), False))
    if not allowed and all(r.grants for r in reasons[1:]):
        reasons.append(Reason("denied", _("The staff role does not allow this action here."), False))
    return Explanation(allowed, reasons)
