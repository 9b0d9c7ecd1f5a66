"""A requested CSV export (CSV-1): what was asked for, the job writing it, and the private file.

The file leaves only through an access-checked view, to its requester, before `expires_at`;
the emailed link carries a random token of which only the hash is stored.
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portico.jobs.models import JobState


class ExportState(models.TextChoices):
    """Where an export stands, as its requester sees it."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Writing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def export_path(instance: Export, filename: str) -> str:
    # The stored name is random: the CSV-1 name is only given to the browser on download.
    return f"exports/{instance.partner_id}/{uuid.uuid4().hex}.csv"


class Export(models.Model):
    partner = models.ForeignKey("tenancy.Partner", on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey("identity.Membership", on_delete=models.CASCADE, related_name="exports")
    kind = models.CharField(_("kind"), max_length=64)
    # The request's filters as the kind validated them; the worker reads the rows from these.
    params = models.JSONField(default=dict, blank=True)
    job = models.OneToOneField("jobs.Job", on_delete=models.PROTECT, related_name="export")
    title = models.CharField(_("title"), max_length=200)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    file = models.FileField(upload_to=export_path, max_length=255, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    # What the requester is told when the export failed; the job keeps the technical error.
    failure = models.CharField(max_length=500, blank=True)
    token_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    downloaded_at = models.DateTimeField(_("last downloaded"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        indexes = [
            models.Index(fields=["requested_by", "-created_at", "-id"], name="export_mine_newest"),
            models.Index(fields=["expires_at"], name="export_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def ready(self) -> bool:
        """The file is stored (it is saved only once complete) and has not been cleared since."""
        return bool(self.file) and not self.failure

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def state(self) -> ExportState:
        if self.failure or self.job.state == JobState.FAILED:
            return ExportState.FAILED
        if self.expired:
            return ExportState.EXPIRED
        if self.ready:
            return ExportState.READY
        return ExportState.RUNNING if self.job.state == JobState.RUNNING else ExportState.QUEUED

    @property
    def in_progress(self) -> bool:
        return self.state in (ExportState.QUEUED, ExportState.RUNNING)
