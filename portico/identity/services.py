"""Changes to people and memberships: invite, accept, disable, enable, reset (ID-1 … ID-8, ID-10).

Each function checks the policy, validates, writes in one transaction and audits in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.policy import Action
from portico.audit.services import record
from portico.identity.models import (
    Invitation,
    InvitationPurpose,
    Membership,
    MembershipKind,
    Person,
    SecurityType,
)
from portico.notifications.services import queue_email
from portico.tenancy.models import Organization


@dataclass
class InviteRequest:
    email: str
    kind: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    language: str = "en"
    organization: Organization | None = None
    all_organizations: bool = False
    staff_role: str = ""
    security_type: str = SecurityType.NATIVE
    enabled: bool = True


def membership_snapshot(membership: Membership) -> dict:
    return {
        "email": membership.person.email,
        "kind": membership.kind,
        "organization": membership.organization_id,
        "all_organizations": membership.all_organizations,
        "staff_role": membership.staff_role,
        "enabled": membership.enabled,
        "security_type": membership.security_type,
        "language": membership.person.language,
    }


def _audit_org(membership: Membership) -> int | None:
    return membership.organization_id


def invite(actor: Membership, req: InviteRequest) -> Membership:
    """Create a membership for an email and send its invitation (ID-1, EU-1, PU-3)."""
    if not policy.can_invite(actor, req.kind, req.staff_role, req.organization, req.all_organizations):
        raise PermissionDenied
    if req.security_type == SecurityType.SSO:
        # ID-8: single sign-on is offered only once an identity provider exists.
        raise ValidationError({"security_type": _("Single sign-on needs an identity provider, and none is configured yet.")})
    email = req.email.strip().lower()
    with transaction.atomic():
        person = Person.objects.filter(email=email).first()
        if person is None:
            person = Person.objects.create_user(
                email=email,
                first_name=req.first_name,
                last_name=req.last_name,
                phone=req.phone,
                language=req.language,
            )
        membership = Membership(
            person=person,
            partner=actor.partner,
            kind=req.kind,
            organization=req.organization,
            all_organizations=req.all_organizations,
            staff_role=req.staff_role,
            security_type=req.security_type,
            enabled=req.enabled,
        )
        if Membership.objects.filter(
            person=person,
            partner=actor.partner,
            kind=req.kind,
            **({"organization": req.organization} if req.kind == MembershipKind.CUSTOMER else {}),
        ).exists():
            raise ValidationError({"email": _("This person already has this kind of access here.")})
        membership.save()
        record(
            "membership.created",
            actor=actor,
            obj=membership,
            partner_id=membership.partner_id,
            organization_id=_audit_org(membership),
            after=membership_snapshot(membership),
        )
        _send_invitation(actor, membership, InvitationPurpose.INVITE)
    return membership


def _send_invitation(actor: Membership | None, membership: Membership, purpose: str) -> Invitation:
    invitation, token = Invitation.issue(membership, sent_by=actor, purpose=purpose)
    person = membership.person
    queue_email(
        to=person.email,
        template="identity/email/reset" if purpose == InvitationPurpose.RESET else "identity/email/invitation",
        context={
            "person": person,
            "membership": membership,
            # Lazy, so the place's kind is named in the recipient's language when rendered.
            "place": lazy(lambda: membership.place_label, str)(),
            "inviter": actor.person.full_name if actor else "",
            "accept_path": f"/invitations/{token}/",
            "has_password": person.has_usable_password(),
        },
        language=person.language,
        partner=membership.partner,
    )
    record(
        "invitation.sent" if purpose == InvitationPurpose.INVITE else "password.reset_sent",
        actor=actor,
        obj=membership,
        partner_id=membership.partner_id,
        organization_id=_audit_org(membership),
        after={"invitation": invitation.pk, "expires_at": invitation.expires_at},
    )
    return invitation


def needs_password(invitation: Invitation) -> bool:
    """A reset always asks for a new password; an invitation only if the person has none yet."""
    return invitation.purpose == InvitationPurpose.RESET or not invitation.membership.person.has_usable_password()


def accept_invitation(invitation: Invitation, password: str | None) -> Person:
    """Use the link once: set the chosen password (if asked) and prove the email (ID-2)."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.used_at or invitation.revoked_at or invitation.expires_at <= timezone.now():
            raise ValidationError(_("This link has already been used or has expired."))
        person = invitation.membership.person
        if needs_password(invitation):
            if not password:
                raise ValidationError({"password1": _("Choose a password.")})
            password_validation.validate_password(password, person)
            person.set_password(password)
            person.save(update_fields=["password"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        EmailAddress.objects.update_or_create(
            user=person, email=person.email, defaults={"verified": True, "primary": True}
        )
        membership = invitation.membership
        record(
            "invitation.accepted" if invitation.purpose == InvitationPurpose.INVITE else "password.reset_completed",
            obj=membership,
            partner_id=membership.partner_id,
            organization_id=_audit_org(membership),
            actor=membership,
        )
    return person


def set_enabled(actor: Membership, membership: Membership, enabled: bool) -> Membership:
    """Disable or enable a membership (ID-6). Disabling ends its sessions and API tokens at once."""
    from portico.api.models import ApiToken

    if actor.pk == membership.pk or not policy.can(actor, Action.DISABLE, membership):
        raise PermissionDenied
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        before = membership_snapshot(membership)
        if membership.enabled == enabled:
            return membership
        membership.enabled = enabled
        fields = ["enabled"]
        if not enabled:
            membership.sessions_valid_after = timezone.now()
            fields.append("sessions_valid_after")
            ApiToken.objects.filter(membership=membership, revoked_at__isnull=True).update(revoked_at=timezone.now())
        membership.save(update_fields=fields)
        record(
            "membership.enabled" if enabled else "membership.disabled",
            actor=actor,
            obj=membership,
            partner_id=membership.partner_id,
            organization_id=_audit_org(membership),
            before=before,
            after=membership_snapshot(membership),
        )
    return membership


def reset_password(actor: Membership, membership: Membership) -> Invitation:
    """ID-7: re-send the invitation; the person chooses a new password through it."""
    if not policy.can(actor, Action.RESET_PASSWORD, membership):
        raise PermissionDenied
    with transaction.atomic():
        return _send_invitation(actor, membership, InvitationPurpose.RESET)


def change_email(actor: Membership, membership: Membership, new_email: str) -> Person:
    """Change the email of the person behind `membership`; never a staff user's (ID-10)."""
    if not policy.can(actor, Action.CHANGE, membership):
        raise PermissionDenied
    person = membership.person
    new_email = new_email.strip().lower()
    if person.memberships.filter(kind=MembershipKind.STAFF).exists():
        raise ValidationError({"email": _("The email address of a staff user cannot be changed.")})
    if Person.objects.filter(email=new_email).exclude(pk=person.pk).exists():
        raise ValidationError({"email": _("Another person already uses this email address.")})
    with transaction.atomic():
        before = person.email
        person.email = new_email
        person.save(update_fields=["email"])
        EmailAddress.objects.filter(user=person).delete()
        record(
            "person.email_changed",
            actor=actor,
            obj=membership,
            partner_id=membership.partner_id,
            organization_id=_audit_org(membership),
            before={"email": before},
            after={"email": new_email},
        )
    return person


def set_language(person: Person, language: str) -> None:
    """The person's display language (ID-11), used for their pages and emails."""
    with transaction.atomic():
        before = person.language
        if before == language:
            return
        person.language = language
        person.save(update_fields=["language"])
        record("person.language_changed", obj=person, before={"language": before}, after={"language": language})


def reachable_memberships(person: Person, method: str = "password") -> tuple[list[Membership], int]:
    """Enabled memberships usable with the sign-in method just used, and how many need another (ID-5)."""
    memberships = list(
        person.memberships.filter(enabled=True)
        .select_related("partner", "organization")
        .order_by("partner__name", "kind", "organization__name")
    )
    reachable = [m for m in memberships if m.security_type == SecurityType.NATIVE or method == "sso"]
    return reachable, len(memberships) - len(reachable)


def select_membership(request, membership: Membership) -> None:
    """Make `membership` the one this session acts as (ID-5)."""
    request.session["membership_id"] = membership.pk
    request.session["membership_chosen_at"] = timezone.now().timestamp()
    with transaction.atomic():
        record(
            "membership.selected",
            obj=membership,
            partner_id=membership.partner_id,
            organization_id=_audit_org(membership),
            actor=membership,
        )
