"""Appending to the audit log. Services call `record` inside their own transaction."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from portico.audit import context
from portico.audit.models import AuditChain, AuditEvent


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Round-trip now so the stored value hashes the same as the one read back later.
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _lock_chain(key: int) -> AuditChain:
    try:
        with transaction.atomic():
            AuditChain.objects.get_or_create(key=key)
    except IntegrityError:
        pass  # another writer created it first
    return AuditChain.objects.select_for_update().get(key=key)


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    partner_id: int | None = None,
    organization_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor=None,
    actor_email: str = "",
) -> AuditEvent:
    """Append one event. Must run inside the caller's transaction (DESIGN mechanism 3)."""
    ctx = context.current()
    actor = actor if actor is not None else ctx.actor
    if actor is not None and not actor_email:
        actor_email = actor.person.email
    with transaction.atomic():
        chain = _lock_chain(partner_id or 0)
        event = AuditEvent(
            chain=chain.key,
            seq=chain.seq + 1,
            created_at=timezone.now(),
            action=action,
            partner_id=partner_id,
            organization_id=organization_id,
            actor=actor,
            actor_email=actor_email,
            impersonator=ctx.impersonator,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:255] if obj is not None else "",
            before=_jsonable(before),
            after=_jsonable(after),
            ip=ctx.ip,
            request_id=ctx.request_id,
            prev_hash=chain.head_hash,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        AuditChain.objects.filter(key=chain.key).update(seq=event.seq, head_hash=event.hash)
    return event


def verify_chain(key: int) -> AuditEvent | None:
    """Return the first event of the chain that was altered, removed after, or inserted; else None."""
    expected_prev = AuditChain._meta.get_field("head_hash").default
    expected_seq = 1
    for event in AuditEvent.objects.filter(chain=key).order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq or event.prev_hash != expected_prev or event.hash != event.compute_hash():
            return event
        expected_prev = event.hash
        expected_seq += 1
    return None


def verify_all() -> dict[int, AuditEvent | None]:
    chains = AuditEvent.objects.values_list("chain", flat=True).distinct().order_by("chain")
    return {key: verify_chain(key) for key in chains}


def chain_head_matches(key: int) -> bool:
    """True when the last stored event is the one the chain head points to (no tail removed)."""
    head = AuditChain.objects.filter(key=key).first()
    last = AuditEvent.objects.filter(chain=key).order_by("-seq").first()
    if head is None:
        return last is None
    return last is not None and last.seq == head.seq and last.hash == head.head_hash
