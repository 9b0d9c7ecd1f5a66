"""The device agent's side of remote access (RA-4): enrolment tokens and device credentials.

Both secrets are shown once and stored as SHA-256 hashes: a leaked database holds nothing an
agent could dial in with. The protocol is in docs/agent-protocol.md.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class EnrolmentToken(models.Model):
    """Lets agents enrol devices into one organization until it expires, is used up or revoked."""

    partner = models.ForeignKey("tenancy.Partner", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="enrolment_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        "identity.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    # How many more devices it may enrol; None: any number until it expires.
    uses_left = models.PositiveIntegerField(_("uses left"), null=True, blank=True)
    enrolled = models.PositiveIntegerField(_("devices enrolled"), default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment token")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.pk}"


class AgentCredential(models.Model):
    """The one credential of a device's agent (its id and this secret), revocable."""

    device = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="agent_credential")
    secret_hash = models.CharField(max_length=64)
    enrolled_with = models.ForeignKey(EnrolmentToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    agent_version = models.CharField(_("agent version"), max_length=40, blank=True)
    ip_addresses = models.JSONField(_("IP addresses"), default=list, blank=True)
    connected_at = models.DateTimeField(_("connected"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent credential")

    def __str__(self) -> str:
        return f"{self.device_id}"
