"""The append-only, hash-chained audit log (AUD-1, AUD-2; DESIGN mechanism 4)."""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditChain(models.Model):
    """Head of one chain. Key 0 holds platform events; otherwise the key is the partner id."""

    key = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain {self.key} at {self.seq}"


class AuditEvent(models.Model):
    # Foreign keys without database constraints: an event outlives what it names, and a
    # cascading SET NULL would be an UPDATE, which the database refuses on this table.
    chain = models.BigIntegerField()
    seq = models.BigIntegerField()
    created_at = models.DateTimeField()
    action = models.CharField(_("action"), max_length=64)
    partner = models.ForeignKey(
        "tenancy.Partner", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    actor = models.ForeignKey(
        "identity.Membership", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    impersonator = models.ForeignKey(
        "identity.Membership", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    before = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(null=True)
    request_id = models.CharField(max_length=32, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]
        indexes = [
            models.Index(fields=["partner", "-created_at"]),
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_repr}"

    def compute_hash(self) -> str:
        payload = {
            "chain": self.chain,
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "action": self.action,
            "partner": self.partner_id,
            "organization": self.organization_id,
            "actor": self.actor_id,
            "actor_email": self.actor_email,
            "impersonator": self.impersonator_id,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "before": self.before,
            "after": self.after,
            "ip": self.ip,
            "request_id": self.request_id,
            "prev_hash": self.prev_hash,
        }
        canonical = json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
