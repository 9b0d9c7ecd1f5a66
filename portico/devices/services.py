"""Changes to devices (DEV-1, DEV-2), each checked by the policy and audited in its transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.catalog import OsFamily
from portico.access.policy import Action
from portico.audit.services import record
from portico.devices.models import Device, DeviceAssignment
from portico.identity.models import Membership
from portico.tenancy.models import Organization


@dataclass
class DeviceDetails:
    organization: Organization
    name: str
    os_family: str
    os_version: str = ""
    last_user: str = ""
    ip_address: str | None = None


def snapshot(device: Device) -> dict:
    return {
        "organization": device.organization_id,
        "name": device.name,
        "os_family": device.os_family,
        "os_version": device.os_version,
        "last_user": device.last_user,
        "ip_address": device.ip_address,
    }


def _validate(details: DeviceDetails) -> None:
    errors = {}
    if not details.name.strip():
        errors["name"] = _("Enter a name.")
    if details.os_family not in OsFamily.values:
        errors["os_family"] = _("Choose Windows, Mac or Linux.")
    if errors:
        raise ValidationError(errors)


def _reachable_organization(actor: Membership, organization: Organization) -> None:
    if not policy.can_create(actor, Device, organization):
        raise ValidationError({"organization": _("Choose one of your organizations.")})


def create_device(actor: Membership, details: DeviceDetails) -> Device:
    _reachable_organization(actor, details.organization)
    _validate(details)
    fields = asdict(details)
    fields["name"] = details.name.strip()
    with transaction.atomic():
        device = Device.objects.create(partner_id=details.organization.partner_id, **fields)
        record(
            "device.created", actor=actor, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id, after=snapshot(device),
        )
    return device


def _changeable(actor: Membership, device: Device, action: str) -> None:
    if not policy.can(actor, Action.VIEW, device):
        raise Http404
    if not policy.can(actor, action, device):
        raise PermissionDenied


def update_device(actor: Membership, device: Device, details: DeviceDetails) -> Device:
    _changeable(actor, device, Action.CHANGE)
    if details.organization.pk != device.organization_id:
        _reachable_organization(actor, details.organization)
    _validate(details)
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk)
        before = snapshot(device)
        moved_from = device.organization_id
        for name, value in asdict(details).items():
            setattr(device, name, value)
        device.name = device.name.strip()
        device.save()
        if device.organization_id != moved_from:
            _drop_assignments_outside(actor, device)
        record(
            "device.changed", actor=actor, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id, before=before, after=snapshot(device),
        )
    return device


def _drop_assignments_outside(actor: Membership, device: Device) -> None:
    """EU-4: a single-organization end user keeps only devices of their organization."""
    stale = DeviceAssignment.objects.filter(device=device, membership__all_organizations=False).exclude(
        membership__organization_id=device.organization_id
    ).select_related("membership__person")
    for assignment in stale:
        record(
            "device.unassigned", actor=actor, obj=assignment.membership, partner_id=device.partner_id,
            organization_id=assignment.membership.organization_id,
            before={"device": device.pk, "device_name": device.name}, after=None,
        )
        assignment.delete()


def delete_device(actor: Membership, device: Device) -> None:
    _changeable(actor, device, Action.DELETE)
    with transaction.atomic():
        record(
            "device.deleted", actor=actor, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id, before=snapshot(device),
        )
        device.delete()
