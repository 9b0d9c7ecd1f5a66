"""Changes to a partner's staff users (PU-1, PU-2, PU-3, PU-6, ID-7, ID-10).

Only users strictly beneath one's own role can be created, changed, disabled or deleted, and only
roles strictly beneath one's own can be given (PU-2); the Owner changes only through the platform
operator. Each function checks the policy, validates, writes in one transaction and audits in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.policy import SCOPED_ROLES, Action
from portico.access.roles import assignable_roles
from portico.audit.services import record
from portico.identity import services as identity
from portico.identity.models import Membership, MembershipKind, Person, SecurityType


@dataclass
class StaffDetails:
    first_name: str
    last_name: str
    staff_role: str
    email: str = ""  # only when creating (ID-10)
    password: str = ""  # optional, only for a new person (ID-7)
    language: str = "en"


def _check_role(actor: Membership, role: str) -> None:
    if actor.kind != MembershipKind.STAFF:
        raise PermissionDenied
    if role not in assignable_roles(actor.staff_role):
        raise ValidationError({"staff_role": _("Choose a role beneath your own.")})


def _target(actor: Membership, member: Membership, action: str) -> None:
    if member.kind != MembershipKind.STAFF or not policy.can(actor, Action.VIEW, member):
        raise Http404
    if member.pk == actor.pk or not policy.can(actor, action, member):
        raise PermissionDenied


def create_staff_user(actor: Membership, details: StaffDetails) -> Membership:
    _check_role(actor, details.staff_role)
    email = details.email.strip().lower()
    if details.password and not Person.objects.filter(email=email).exists():
        try:
            password_validation.validate_password(details.password, Person(email=email))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
    with transaction.atomic():
        member = identity.invite(
            actor,
            identity.InviteRequest(
                email=email,
                kind=MembershipKind.STAFF,
                first_name=details.first_name,
                last_name=details.last_name,
                language=details.language,
                staff_role=details.staff_role,
            ),
        )
        person = member.person
        if details.password and not person.has_usable_password():
            # A new person gets the password the creator chose; an existing one keeps theirs.
            person.set_password(details.password)
            person.save(update_fields=["password"])
            record(
                "person.password_set", actor=actor, obj=member, partner_id=member.partner_id,
                after={"by": "staff_creation"},
            )
    return member


def update_staff_user(actor: Membership, member: Membership, details: StaffDetails) -> Membership:
    """Name and role; the email never changes here (ID-10)."""
    _target(actor, member, Action.CHANGE)
    _check_role(actor, details.staff_role)
    if details.email and details.email.strip().lower() != member.person.email:
        raise ValidationError({"email": _("The email address of a staff user cannot be changed.")})
    with transaction.atomic():
        member = Membership.objects.select_for_update().select_related("person").get(pk=member.pk)
        before = identity.membership_snapshot(member)
        person = member.person
        person.first_name, person.last_name = details.first_name.strip(), details.last_name.strip()
        person.save(update_fields=["first_name", "last_name"])
        member.staff_role = details.staff_role
        member.save(update_fields=["staff_role"])
        if member.staff_role not in SCOPED_ROLES:
            # GRP-2: only Admin and Support manage groups; another role leaves its groups.
            for group in member.managed_groups.all():
                group.managers.remove(member)
                record(
                    "group.manager_removed", actor=actor, obj=group, partner_id=group.partner_id,
                    before={"manager": member.pk}, after=None,
                )
        record(
            "membership.changed", actor=actor, obj=member, partner_id=member.partner_id,
            before=before, after=identity.membership_snapshot(member),
        )
    return member


def set_sso(actor: Membership, member: Membership, enabled: bool) -> Membership:
    """PU-6: the SSO switch. ID-8: it can be turned on only once an identity provider exists."""
    _target(actor, member, Action.CHANGE)
    if enabled:
        raise ValidationError({"security_type": _("Single sign-on needs an identity provider, and none is configured yet.")})
    with transaction.atomic():
        member = Membership.objects.select_for_update().get(pk=member.pk)
        if member.security_type == SecurityType.NATIVE:
            return member
        before = {"security_type": member.security_type}
        member.security_type = SecurityType.NATIVE
        member.save(update_fields=["security_type"])
        record(
            "membership.security_type_changed", actor=actor, obj=member, partner_id=member.partner_id,
            before=before, after={"security_type": member.security_type},
        )
    return member


def delete_staff_user(actor: Membership, member: Membership) -> None:
    """Removes the membership; the person and their other memberships stay."""
    _target(actor, member, Action.DELETE)
    with transaction.atomic():
        record(
            "membership.deleted", actor=actor, obj=member, partner_id=member.partner_id,
            before=identity.membership_snapshot(member),
        )
        member.delete()
