"""Enrolling devices and hearing from their agents (RA-4, DEV-1; docs/agent-protocol.md).

Technicians' changes (tokens, revocations) are checked by the policy and audited in their
transaction. An agent's own writes (enrolment, inventory, heartbeats) are authenticated by its
token or credential instead; enrolment and revocation are audited, heartbeats are not events.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.catalog import OsFamily
from portico.access.policy import Action
from portico.audit.services import record
from portico.devices.models import Device
from portico.identity.models import Membership
from portico.remote.models import AgentCredential, EnrolmentToken, hash_secret
from portico.tenancy.models import Organization

TOKEN_PREFIX = "pte_"
DEFAULT_TOKEN_DAYS = 7
# A device is online while its agent's last message is younger than this many heartbeats.
ONLINE_HEARTBEATS = 3
# Closing codes the agent knows (docs/agent-protocol.md).
CLOSE_BAD_MESSAGE = 4400
CLOSE_REVOKED = 4401


def heartbeat_seconds() -> int:
    return getattr(settings, "AGENT_HEARTBEAT_SECONDS", 30)


def device_group(device_id: int) -> str:
    """The channel-layer group of a device's control connection, on whichever node holds it."""
    return f"agent.{device_id}"


# Enrolment tokens.


def _may_enrol_into(actor: Membership, organization: Organization) -> None:
    """Tokens are for who may add devices to the organization: out of reach is a 404."""
    if not policy.can(actor, Action.VIEW, organization):
        raise Http404
    if not policy.can_create(actor, Device, organization):
        raise PermissionDenied


def create_enrolment_token(
    actor: Membership, organization: Organization, *, days: int = DEFAULT_TOKEN_DAYS, uses: int | None = None
) -> tuple[EnrolmentToken, str]:
    """A new token for `organization`, and its secret, shown once."""
    _may_enrol_into(actor, organization)
    errors = {}
    if not 1 <= days <= 90:
        errors["days"] = _("Choose between 1 and 90 days.")
    if uses is not None and not 1 <= uses <= 10_000:
        errors["uses"] = _("Choose between 1 and 10,000 devices, or leave it empty for any number.")
    if errors:
        raise ValidationError(errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = EnrolmentToken.objects.create(
            partner_id=organization.partner_id, organization=organization, token_hash=hash_secret(raw),
            created_by=actor, expires_at=timezone.now() + timedelta(days=days), uses_left=uses,
        )
        record(
            "agent.enrolment_token_created", actor=actor, obj=token, partner_id=organization.partner_id,
            organization_id=organization.pk, after={"expires_at": token.expires_at.isoformat(), "uses": uses},
        )
    return token, raw


def revoke_enrolment_token(actor: Membership, token: EnrolmentToken) -> None:
    _may_enrol_into(actor, token.organization)
    with transaction.atomic():
        EnrolmentToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        record(
            "agent.enrolment_token_revoked", actor=actor, obj=token, partner_id=token.partner_id,
            organization_id=token.organization_id,
        )


# Enrolment, by the agent.


@dataclass
class Enrolment:
    token: str
    hostname: str
    os_family: str
    os_version: str = ""
    agent_version: str = ""


def enrol(request: Enrolment) -> tuple[Device, str]:
    """A new device of the token's organization, and its agent's secret: the agent's credential is
    `<device id>.<secret>`."""
    errors = {}
    if not request.hostname.strip():
        errors["hostname"] = [_("The device's host name is missing.")]
    if request.os_family not in OsFamily.values:
        errors["os_family"] = [_("Unknown operating system: linux, windows or mac.")]
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = (
            EnrolmentToken.objects.select_for_update().select_related("organization")
            .filter(token_hash=hash_secret(request.token)).first()
        )
        refusal = _token_refusal(token, timezone.now())
        if refusal:
            raise ValidationError({"token": [refusal]})
        device = Device.objects.create(
            partner_id=token.partner_id, organization=token.organization, name=request.hostname.strip()[:200],
            os_family=request.os_family, os_version=request.os_version[:100],
        )
        AgentCredential.objects.create(
            device=device, secret_hash=hash_secret(secret), enrolled_with=token,
            agent_version=request.agent_version[:40],
        )
        token.enrolled += 1
        if token.uses_left is not None:
            token.uses_left -= 1
        token.save(update_fields=["enrolled", "uses_left"])
        record(
            "device.enrolled", obj=device, partner_id=device.partner_id, organization_id=device.organization_id,
            actor_email=f"agent of {device.name}"[:254],
            after={"name": device.name, "os_family": device.os_family, "enrolment_token": token.pk,
                   "agent_version": request.agent_version[:40]},
        )
    return device, secret


def _token_refusal(token: EnrolmentToken | None, now: datetime) -> str:
    if token is None:
        return _("This enrolment token is not valid.")
    if token.revoked_at is not None:
        return _("This enrolment token was revoked.")
    if token.expires_at <= now:
        return _("This enrolment token has expired.")
    if token.uses_left == 0:
        return _("This enrolment token has enrolled all the devices it was made for.")
    return ""


# The control connection, by the agent.


def authenticate(authorization: str) -> AgentCredential | None:
    """The credential named by an `Authorization: Bearer <device id>.<secret>` header, if it is
    valid and not revoked; None for anything else."""
    scheme, _space, value = authorization.partition(" ")
    device_id, dot, secret = value.strip().partition(".")
    if scheme.lower() != "bearer" or not dot or not device_id.isdigit() or not secret or len(device_id) > 18:
        return None
    credential = (
        AgentCredential.objects.select_related("device")
        .filter(device_id=int(device_id), revoked_at__isnull=True).first()
    )
    if credential is None or not hmac.compare_digest(credential.secret_hash, hash_secret(secret)):
        return None
    return credential


def connected(credential: AgentCredential) -> datetime:
    """The agent's control connection opened: the device is online. The moment names the connection."""
    now = timezone.now()
    AgentCredential.objects.filter(pk=credential.pk).update(connected_at=now)
    Device.objects.filter(pk=credential.device_id).update(online=True, last_seen_at=now)
    return now


def seen_flush_seconds() -> float:
    return getattr(settings, "AGENT_SEEN_FLUSH_SECONDS", 5)


def heard_from(device_ids: set[int]) -> None:
    """These devices' agents spoke since the last time: they are alive (one UPDATE for all)."""
    Device.objects.filter(pk__in=device_ids).update(online=True, last_seen_at=timezone.now())


@dataclass
class Inventory:
    hostname: str = ""
    os_family: str = ""
    os_version: str = ""
    logged_in_user: str | None = None
    ip_addresses: list[str] | None = None
    agent_version: str = ""


def _addresses(values: list[str] | None) -> list[str]:
    kept = []
    for value in (values or [])[:32]:
        try:
            kept.append(str(ipaddress.ip_address(str(value).split("%")[0])))
        except ValueError:
            continue
    return kept


def record_inventory(credential: AgentCredential, inventory: Inventory) -> None:
    """What the agent reports of its device updates the device's record (not its name, which
    technicians may have chosen)."""
    addresses = _addresses(inventory.ip_addresses)
    changes: dict = {"online": True, "last_seen_at": timezone.now(), "last_user": (inventory.logged_in_user or "")[:200]}
    if inventory.os_family in OsFamily.values:
        changes["os_family"] = inventory.os_family
    if inventory.os_version:
        changes["os_version"] = inventory.os_version[:100]
    changes["ip_address"] = addresses[0] if addresses else None
    Device.objects.filter(pk=credential.device_id).update(**changes)
    AgentCredential.objects.filter(pk=credential.pk).update(
        ip_addresses=addresses, agent_version=inventory.agent_version[:40]
    )


def disconnected(credential: AgentCredential, since: datetime | None) -> None:
    """The control connection opened at `since` closed: offline, unless a newer one took over."""
    if since is None:
        return
    if AgentCredential.objects.filter(pk=credential.pk, connected_at=since).exists():
        Device.objects.filter(pk=credential.device_id).update(online=False)


def mark_silent_devices_offline() -> int:
    """Devices whose agent went quiet (a node that died holding its connection): offline."""
    silent_since = timezone.now() - timedelta(seconds=ONLINE_HEARTBEATS * heartbeat_seconds())
    return Device.objects.filter(online=True, last_seen_at__lt=silent_since).update(online=False)


# Revocation, by a technician.


def revoke_credential(actor: Membership, device: Device) -> None:
    """The device's agent is refused from now on, and its live connection closes (4401)."""
    if not policy.can(actor, Action.VIEW, device):
        raise Http404
    if not policy.can(actor, Action.CHANGE, device):
        raise PermissionDenied
    with transaction.atomic():
        revoked = AgentCredential.objects.filter(device=device, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not revoked:
            return
        Device.objects.filter(pk=device.pk).update(online=False)
        record(
            "agent.credential_revoked", actor=actor, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id,
        )
        transaction.on_commit(lambda: tell_agent(device.pk, {"type": "credential.revoked"}))


def credential_deleted(sender, instance: AgentCredential, **kwargs) -> None:
    """A credential deleted (with its device): the agent's live connection closes as revoked."""
    transaction.on_commit(lambda: tell_agent(instance.device_id, {"type": "credential.revoked"}))


def tell_agent(device_id: int, message: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(device_group(device_id), message)
