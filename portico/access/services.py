"""Changes to end-user roles (EU-2): define, change, delete; each checked, validated and audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from portico.access import catalog, policy
from portico.access.models import EndUserRole, Grant
from portico.access.policy import Action
from portico.audit.services import record
from portico.identity.models import Membership


def _snapshot(role: EndUserRole) -> dict:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.grants.values_list("code", flat=True)),
    }


def _validate(actor: Membership, name: str, codes: set[str], role: EndUserRole | None = None) -> str:
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = _("Enter a name.")
    elif EndUserRole.objects.filter(partner_id=actor.partner_id, name__iexact=name).exclude(pk=getattr(role, "pk", None)).exists():
        errors["name"] = _("Another role already has this name.")
    if set(codes) - catalog.ALL_CODES:
        errors["permissions"] = _("Unknown permission.")
    if errors:
        raise ValidationError(errors)
    return name


def _set_codes(role: EndUserRole, codes: set[str]) -> None:
    Grant.objects.filter(role=role).exclude(code__in=codes).delete()
    for code in codes:
        Grant.objects.get_or_create(role=role, code=code)


def create_role(actor: Membership, name: str, description: str, codes: set[str]) -> EndUserRole:
    if not policy.can_create(actor, EndUserRole):
        raise PermissionDenied
    name = _validate(actor, name, codes)
    with transaction.atomic():
        role = EndUserRole.objects.create(partner_id=actor.partner_id, name=name, description=description.strip())
        _set_codes(role, codes)
        record("end_user_role.created", actor=actor, obj=role, partner_id=role.partner_id, after=_snapshot(role))
    return role


def _changeable(actor: Membership, role: EndUserRole, action: str) -> None:
    if not policy.can(actor, Action.VIEW, role):
        raise Http404
    if not policy.can(actor, action, role):
        raise PermissionDenied


def update_role(actor: Membership, role: EndUserRole, name: str, description: str, codes: set[str]) -> EndUserRole:
    """A change counts for every holder on their next request (PERM-5)."""
    _changeable(actor, role, Action.CHANGE)
    name = _validate(actor, name, codes, role)
    with transaction.atomic():
        role = EndUserRole.objects.select_for_update().get(pk=role.pk)
        before = _snapshot(role)
        role.name, role.description = name, description.strip()
        role.save(update_fields=["name", "description"])
        _set_codes(role, codes)
        record("end_user_role.changed", actor=actor, obj=role, partner_id=role.partner_id, before=before, after=_snapshot(role))
    return role


def delete_role(actor: Membership, role: EndUserRole) -> None:
    _changeable(actor, role, Action.DELETE)
    with transaction.atomic():
        record("end_user_role.deleted", actor=actor, obj=role, partner_id=role.partner_id, before=_snapshot(role))
        role.delete()
