"""Changes to a partner's own settings (PS-1, ID-3's "require MFA for staff")."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from portico.access import policy
from portico.access.policy import Action
from portico.audit.services import record
from portico.tenancy.models import Partner

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
