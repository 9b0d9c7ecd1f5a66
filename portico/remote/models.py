"""The device agent's side of remote access (RA-4): enrolment tokens and device credentials.

Both secrets are shown once and stored as SHA-256 hashes: a leaked database holds nothing an
agent could dial in with. The protocol is in docs/agent-protocol.md.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.access.catalog import DeviceAction


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


class Consent(models.TextChoices):
    """Whether the device's logged-in user hears of a session before it starts (per organization)."""

    NONE = "none", _("Start sessions without telling the logged-in user")
    NOTIFY = "notify", _("Notify the logged-in user when a session starts")
    ASK = "ask", _("Ask the logged-in user, and start only if they accept")


class RemoteAccessSettings(models.Model):
    """An organization's rules for sessions on its devices; an organization without a row notifies."""

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="remote_access_settings"
    )
    consent = models.CharField(_("consent"), max_length=10, choices=Consent.choices, default=Consent.NOTIFY)

    class Meta:
        verbose_name = _("remote access settings")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.consent}"


class SessionState(models.TextChoices):
    REQUESTED = "requested", _("Requested")  # a token exists; no browser has used it
    WAITING = "waiting", _("Waiting for the device")  # the browser is connected, the agent not yet
    OPEN = "open", _("Open")
    ENDED = "ended", _("Ended")


class EndReason(models.TextChoices):
    CLOSED_BY_USER = "closed_by_user", _("Closed by the user")
    CLOSED_BY_DEVICE = "closed_by_device", _("Closed on the device")
    AGENT_DISCONNECTED = "agent_disconnected", _("The device's agent disconnected")
    ACCESS_REMOVED = "access_removed", _("Access was removed")
    REFUSED = "refused", _("Refused by the device")
    AGENT_TIMEOUT = "agent_timeout", _("The device did not answer")
    NOT_READING = "not_reading", _("The browser stopped reading")
    MALFORMED = "malformed", _("The browser sent something not allowed")
    NEVER_USED = "never_used", _("The token was never used")


class RemoteSession(models.Model):
    """One remote control or command line (RA-2, RA-3), from its token to its end (RA-5).

    The row outlives its device and its requester: the audit needs who, which device, what kind,
    when, how many bytes and why it ended, whatever was deleted since."""

    partner = models.ForeignKey("tenancy.Partner", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    device = models.ForeignKey(
        "devices.Device", on_delete=models.SET_NULL, null=True, blank=True, related_name="remote_sessions"
    )
    device_name = models.CharField(_("device"), max_length=200)
    membership = models.ForeignKey(
        "identity.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="remote_sessions"
    )
    requested_by = models.CharField(_("requested by"), max_length=254)
    kind = models.CharField(_("kind"), max_length=20)
    view_only = models.BooleanField(_("view only"), default=False)
    token_hash = models.CharField(max_length=64, unique=True)
    token_expires_at = models.DateTimeField()
    state = models.CharField(_("state"), max_length=10, choices=SessionState.choices, default=SessionState.REQUESTED)
    consent = models.CharField(_("consent"), max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=20, choices=EndReason.choices, blank=True)
    end_detail = models.CharField(max_length=300, blank=True)
    bytes_to_device = models.BigIntegerField(_("bytes to the device"), default=0)
    bytes_from_device = models.BigIntegerField(_("bytes from the device"), default=0)
    # The channel-layer names of the browser's and the agent's sockets, on whichever node holds them.
    browser_channel = models.CharField(max_length=200, blank=True)
    agent_channel = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("remote session")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["device", "-created_at"]), models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.device_name} ({self.pk})"

    @property
    def kind_label(self) -> str:
        return str(DeviceAction(self.kind).label) if self.kind in DeviceAction.values else self.kind
