"""Creating and revoking personal API tokens."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.api.models import ApiToken
from portico.audit.services import record
from portico.identity.models import Membership


def create_token(membership: Membership, name: str) -> tuple[ApiToken, str]:
    """A token that can do exactly what `membership` can. The raw value is returned once."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Use at most 100 characters.")})
    raw, prefix, key_hash = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(membership=membership, name=name, prefix=prefix, key_hash=key_hash)
        record(
            "api_token.created",
            actor=membership,
            obj=token,
            partner_id=membership.partner_id,
            organization_id=membership.organization_id,
            after={"name": name, "prefix": prefix},
        )
    return token, raw


def revoke_token(membership: Membership, token: ApiToken) -> ApiToken:
    if token.membership_id != membership.pk:
        raise PermissionDenied
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record(
                "api_token.revoked",
                actor=membership,
                obj=token,
                partner_id=membership.partner_id,
                organization_id=membership.organization_id,
                before={"name": token.name, "prefix": token.prefix},
            )
    return token
