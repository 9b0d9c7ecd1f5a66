"""Changes to a partner's own settings (PS-1, ID-3's "require MFA for staff") and to its groups (GRP-1)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.policy import SCOPED_ROLES, Action
from portico.audit.services import record
from portico.tenancy.models import Group, Partner

SETTINGS_FIELDS = ("name", "country", "default_language", "require_staff_mfa")


def update_partner_settings(actor, partner: Partner, **changes) -> Partner:
    if not policy.can(actor, Action.CHANGE, partner):
        raise PermissionDenied
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"not partner settings: {sorted(unknown)}")
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        before = {f: getattr(partner, f) for f in SETTINGS_FIELDS}
        for field, value in changes.items():
            setattr(partner, field, value)
        partner.full_clean()
        partner.save(update_fields=list(changes))
        record(
            "partner.settings_changed",
            actor=actor,
            obj=partner,
            partner_id=partner.pk,
            before=before,
            after={f: getattr(partner, f) for f in SETTINGS_FIELDS},
        )
    return partner


# Groups (GRP-1 … GRP-3): organization-level access control for Admin and Support staff.


def _group_snapshot(group) -> dict:
    return {
        "name": group.name,
        "description": group.description,
        "organizations": sorted(group.organizations.values_list("pk", flat=True)),
        "managers": sorted(group.managers.values_list("pk", flat=True)),
    }


def _validate_group(actor, name: str, organizations, managers, group=None) -> str:
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = _("Enter a name.")
    elif Group.objects.filter(partner_id=actor.partner_id, name__iexact=name).exclude(pk=getattr(group, "pk", None)).exists():
        errors["name"] = _("Another group already has this name.")
    if any(org.partner_id != actor.partner_id for org in organizations):
        errors["organizations"] = _("Choose organizations of your partner.")
    if any(m.partner_id != actor.partner_id or m.kind != "staff" or m.staff_role not in SCOPED_ROLES for m in managers):
        errors["managers"] = _("Only Admin and Support users can manage groups.")
    if errors:
        raise ValidationError(errors)
    return name


def create_group(actor, name: str, description: str, organizations, managers):
    if not policy.can_create(actor, Group):
        raise PermissionDenied
    name = _validate_group(actor, name, organizations, managers)
    with transaction.atomic():
        group = Group.objects.create(partner_id=actor.partner_id, name=name, description=description.strip())
        group.organizations.set(organizations)
        group.managers.set(managers)
        record("group.created", actor=actor, obj=group, partner_id=group.partner_id, after=_group_snapshot(group))
    return group


def _group_changeable(actor, group, action: str) -> None:
    if not policy.can(actor, Action.VIEW, group):
        raise Http404
    if not policy.can(actor, action, group):
        raise PermissionDenied


def update_group(actor, group, name: str, description: str, organizations, managers):
    """A new scope counts for its managers on their next request (GRP-3)."""
    _group_changeable(actor, group, Action.CHANGE)
    name = _validate_group(actor, name, organizations, managers, group)
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk)
        before = _group_snapshot(group)
        group.name, group.description = name, description.strip()
        group.save(update_fields=["name", "description"])
        group.organizations.set(organizations)
        group.managers.set(managers)
        record("group.changed", actor=actor, obj=group, partner_id=group.partner_id, before=before, after=_group_snapshot(group))
    return group


def delete_group(actor, group) -> None:
    _group_changeable(actor, group, Action.DELETE)
    with transaction.atomic():
        record("group.deleted", actor=actor, obj=group, partner_id=group.partner_id, before=_group_snapshot(group))
        group.delete()
