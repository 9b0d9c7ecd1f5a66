"""Device backups, as the agent sees them: its credential for restic, and its repository's creation."""

from __future__ import annotations

import base64
import binascii

from django.db import transaction

from portico.audit.services import record
from portico.backups.models import BackupRepository
from portico.remote import services as remote
from portico.remote.models import AgentCredential


def agent_credential(authorization: str) -> AgentCredential | None:
    """The credential of `Authorization: Basic <device id>:<secret>` (restic's
    `rest:https://<device id>:<secret>@host/...`), checked by the one place that checks agents."""
    scheme, _space, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    device_id, colon, secret = pair.partition(":")
    if not colon or not device_id.isdigit():
        return None
    return remote.authenticate(f"Bearer {device_id}.{secret}")


def create_repository(credential: AgentCredential) -> BackupRepository:
    """The device's repository exists from now on (restic's `init`); again is the same repository."""
    device = credential.device
    with transaction.atomic():
        repository, created = BackupRepository.objects.get_or_create(device=device)
        if created:
            record(
                "backup.repository_created", obj=device, partner_id=device.partner_id,
                organization_id=device.organization_id, actor_email=f"agent of {device.name}"[:254],
            )
    return repository
