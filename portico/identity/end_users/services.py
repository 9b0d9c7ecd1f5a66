"""Changes to end users from the technician console (EU-1 … EU-4, PERM-5).

Each function checks the policy, validates, writes in one transaction and audits in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from portico.access import catalog, policy
from portico.access.models import EndUserRole, Grant, RoleAssignment
from portico.access.policy import Action
from portico.audit.services import record
from portico.devices.models import Device, DeviceAssignment
from portico.identity import services as identity
from portico.identity.models import Membership, MembershipKind, SecurityType
from portico.tenancy.models import Organization


@dataclass
class EndUserDetails:
    first_name: str
    last_name: str
    phone: str
    language: str
    organization: Organization  # the home organization: tickets are always of it (TK-2, EU-5)
    all_organizations: bool = False  # devices of every organization of the partner (EU-1, EU-4)
    security_type: str = SecurityType.NATIVE
    enabled: bool = True
    email: str = ""  # only when creating


def _changeable(actor: Membership, end_user: Membership) -> None:
    if end_user.kind != MembershipKind.END_USER or not policy.can(actor, Action.VIEW, end_user):
        raise Http404
    if not policy.can(actor, Action.CHANGE, end_user):
        raise PermissionDenied


def _check_place(actor: Membership, details: EndUserDetails) -> None:
    if not policy.can_invite(actor, MembershipKind.END_USER, organization=details.organization):
        raise ValidationError({"organization": _("Choose one of your organizations.")})
    if details.all_organizations and not policy.can_invite(
        actor, MembershipKind.END_USER, organization=details.organization, all_organizations=True
    ):
        raise ValidationError(
            {"all_organizations": _("Only staff who see every organization can give devices of all organizations.")}
        )
    if details.security_type == SecurityType.SSO:
        raise ValidationError({"security_type": _("Single sign-on needs an identity provider, and none is configured yet.")})


def create_end_user(actor: Membership, details: EndUserDetails) -> Membership:
    """EU-1: saving a new end user sends the invitation (ID-1)."""
    _check_place(actor, details)
    return identity.invite(
        actor,
        identity.InviteRequest(
            email=details.email,
            kind=MembershipKind.END_USER,
            first_name=details.first_name,
            last_name=details.last_name,
            phone=details.phone,
            language=details.language,
            organization=details.organization,
            all_organizations=details.all_organizations,
            security_type=details.security_type,
            enabled=details.enabled,
        ),
    )


def update_end_user(actor: Membership, end_user: Membership, details: EndUserDetails) -> Membership:
    _changeable(actor, end_user)
    _check_place(actor, details)
    with transaction.atomic():
        end_user = Membership.objects.select_for_update().select_related("person").get(pk=end_user.pk)
        before = identity.membership_snapshot(end_user)
        person = end_user.person
        person.first_name, person.last_name = details.first_name, details.last_name
        person.phone, person.language = details.phone, details.language
        person.save(update_fields=["first_name", "last_name", "phone", "language"])
        if end_user.enabled and not details.enabled:
            identity.set_enabled(actor, end_user, False)
            end_user.refresh_from_db()
        elif not end_user.enabled and details.enabled:
            identity.set_enabled(actor, end_user, True)
            end_user.refresh_from_db()
        end_user.organization = details.organization
        end_user.all_organizations = details.all_organizations
        end_user.security_type = details.security_type
        end_user.save(update_fields=["organization", "all_organizations", "security_type"])
        if not end_user.all_organizations:
            _drop_devices_outside(actor, end_user)
        record(
            "membership.changed", actor=actor, obj=end_user, partner_id=end_user.partner_id,
            organization_id=end_user.organization_id, before=before, after=identity.membership_snapshot(end_user),
        )
    return end_user


def _drop_devices_outside(actor: Membership, end_user: Membership) -> None:
    """EU-4: narrowed to one organization, the user keeps only that organization's devices."""
    stale = DeviceAssignment.objects.filter(membership=end_user).exclude(device__organization_id=end_user.organization_id)
    for assignment in stale.select_related("device"):
        _audit_unassign(actor, end_user, assignment.device)
        assignment.delete()


def _audit_unassign(actor: Membership, end_user: Membership, device: Device) -> None:
    record(
        "device.unassigned", actor=actor, obj=end_user, partner_id=end_user.partner_id,
        organization_id=device.organization_id, before={"device": device.pk, "device_name": device.name},
    )


def set_end_user_roles(actor: Membership, end_user: Membership, roles: list[EndUserRole]) -> None:
    """EU-2: the roles a user holds; their permissions add up (PERM-5)."""
    _changeable(actor, end_user)
    allowed = set(policy.restrict(EndUserRole.objects.all(), actor, Action.VIEW).values_list("pk", flat=True))
    if any(role.pk not in allowed or role.partner_id not in (None, end_user.partner_id) for role in roles):
        raise ValidationError({"roles": _("Choose roles of your partner.")})
    with transaction.atomic():
        before = sorted(RoleAssignment.objects.filter(membership=end_user).values_list("role_id", flat=True))
        RoleAssignment.objects.filter(membership=end_user).exclude(role__in=roles).delete()
        for role in roles:
            RoleAssignment.objects.get_or_create(membership=end_user, role=role)
        after = sorted(role.pk for role in roles)
        if before != after:
            record(
                "membership.roles_changed", actor=actor, obj=end_user, partner_id=end_user.partner_id,
                organization_id=end_user.organization_id, before={"roles": before}, after={"roles": after},
            )


def set_direct_permissions(actor: Membership, end_user: Membership, codes: set[str]) -> None:
    """EU-3: permissions given to the user directly, on top of their roles."""
    _changeable(actor, end_user)
    unknown = set(codes) - catalog.ALL_CODES
    if unknown:
        raise ValidationError({"permissions": _("Unknown permission: %(codes)s.") % {"codes": ", ".join(sorted(unknown))[:200]}})
    with transaction.atomic():
        before = sorted(Grant.objects.filter(membership=end_user).values_list("code", flat=True))
        Grant.objects.filter(membership=end_user).exclude(code__in=codes).delete()
        for code in codes:
            Grant.objects.get_or_create(membership=end_user, code=code)
        if before != sorted(codes):
            record(
                "membership.permissions_changed", actor=actor, obj=end_user, partner_id=end_user.partner_id,
                organization_id=end_user.organization_id, before={"permissions": before},
                after={"permissions": sorted(codes)},
            )


def assign_devices(actor: Membership, end_user: Membership, devices: list[Device]) -> None:
    """EU-4: only devices within the user's organization access, and in the technician's reach."""
    _changeable(actor, end_user)
    refused = [d for d in devices if not policy.can_assign_device(actor, end_user, d)]
    if refused:
        raise ValidationError(
            {"devices": _("These devices are outside this user's organization access: %(names)s.")
             % {"names": ", ".join(d.name for d in refused)[:300]}}
        )
    with transaction.atomic():
        for device in devices:
            _assignment, created = DeviceAssignment.objects.get_or_create(membership=end_user, device=device)
            if created:
                record(
                    "device.assigned", actor=actor, obj=end_user, partner_id=end_user.partner_id,
                    organization_id=device.organization_id, after={"device": device.pk, "device_name": device.name},
                )


def unassign_device(actor: Membership, end_user: Membership, device: Device) -> None:
    _changeable(actor, end_user)
    with transaction.atomic():
        deleted, _rows = DeviceAssignment.objects.filter(membership=end_user, device=device).delete()
        if deleted:
            _audit_unassign(actor, end_user, device)
