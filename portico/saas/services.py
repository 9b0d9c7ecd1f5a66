"""Changes to the SaaS backup service's organizations: create one with its subscription (ORG-9),
send its admin a password reset (ORG-8). Each checks the policy, validates, writes and audits."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.policy import Action, SubscriptionAction
from portico.audit.services import record
from portico.identity import services as identity
from portico.identity.models import Invitation, MembershipKind
from portico.saas.models import Plan, PlanType, Subscription
from portico.tenancy.models import Organization

GIB = 1024**3


def subscription_snapshot(subscription: Subscription) -> dict:
    return {
        "organization": subscription.organization.name,
        "plan": subscription.plan_id,
        "status": subscription.status,
        "paid_seats": subscription.paid_seats,
        "storage_quota_bytes": subscription.storage_quota_bytes,
        "contact_email": subscription.contact_email,
        "country": subscription.country,
        "credential_status": subscription.credential_status,
    }


def create_organization(
    actor,
    *,
    plan: Plan,
    contact_email: str,
    paid_seats: int,
    storage_quota_gib: int,
    name: str = "",
    country: str | None = None,
    contact_first_name: str = "",
    contact_last_name: str = "",
    language: str | None = None,
) -> Subscription:
    """A new customer organization with its subscription; its contact is invited as its admin.

    A Personal plan backs up one person, so the organization is named after its contact (ORG-9).
    The country defaults to the partner's (PS-2).
    """
    if not policy.can_create(actor, Subscription):
        raise PermissionDenied
    contact_email = contact_email.strip().lower()
    if plan.plan_type == PlanType.PERSONAL:
        name = contact_email
    name = name.strip()
    errors = {}
    if plan.partner_id != actor.partner_id:
        errors["plan"] = _("Choose one of your plans.")
    if not name:
        errors["name"] = _("Enter a name.")
    elif Organization.objects.filter(partner_id=actor.partner_id, name__iexact=name).exists():
        errors["name" if plan.plan_type != PlanType.PERSONAL else "contact_email"] = _(
            "An organization with this name already exists."
        )
    if paid_seats < 1:
        errors["paid_seats"] = _("Buy at least one seat.")
    if storage_quota_gib < 1:
        errors["storage_quota_gib"] = _("Give at least 1 GiB of storage.")
    if errors:
        raise ValidationError(errors)
    partner = actor.partner
    with transaction.atomic():
        organization = Organization.objects.create(partner=partner, name=name)
        subscription = Subscription(
            organization=organization,
            partner=partner,
            plan=plan,
            paid_seats=paid_seats,
            storage_quota_bytes=storage_quota_gib * GIB,
            contact_email=contact_email,
            country=(partner.country if country is None else country).upper(),
        )
        subscription.full_clean(exclude=["organization", "admin"])
        subscription.save()
        record(
            "organization.created",
            actor=actor,
            obj=organization,
            partner_id=partner.pk,
            organization_id=organization.pk,
            after=subscription_snapshot(subscription),
        )
        subscription.admin = identity.invite(
            actor,
            identity.InviteRequest(
                email=contact_email,
                kind=MembershipKind.CUSTOMER,
                first_name=contact_first_name,
                last_name=contact_last_name,
                language=language or partner.default_language,
                organization=organization,
            ),
        )
        subscription.save(update_fields=["admin"])
    return subscription


def send_reset_password(actor, subscription: Subscription) -> Invitation:
    """ORG-8: the organization's contact, its admin, gets a link to choose a new password (ID-7)."""
    if not policy.can(actor, Action.VIEW, subscription):
        raise Http404
    if not policy.can(actor, SubscriptionAction.SEND_RESET_PASSWORD, subscription):
        raise PermissionDenied
    return identity.reset_password(actor, subscription.admin)
