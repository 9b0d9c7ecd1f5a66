"""Device backups (issue 7, FR-1 … FR-4): each device's restic repository, its policy, its runs,
and the index of its snapshots that browsing and search read."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BackupRepository(models.Model):
    """The device's agent created its repository: from now on it may read and append to it."""

    device = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="backup_repository")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("backup repository")

    def __str__(self) -> str:
        return f"{self.device_id}"


class Interval(models.IntegerChoices):
    HOURLY = 1, _("Every hour")
    FOUR_HOURS = 4, _("Every 4 hours")
    SIX_HOURS = 6, _("Every 6 hours")
    TWELVE_HOURS = 12, _("Every 12 hours")
    DAILY = 24, _("Every day")
    WEEKLY = 168, _("Every week")


class RunState(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    WARNING = "warning", _("Succeeded with warnings")
    FAILED = "failed", _("Failed")
    MISSED = "missed", _("Missed")


class RunKind(models.TextChoices):
    BACKUP = "backup", _("Backup")
    RESTORE = "restore", _("Restore")


class Conflict(models.TextChoices):
    """FR-3: what a restore does where a file of the same name exists; it never decides silently."""

    KEEP_BOTH = "keep_both", _("Keep both (the restored file gets a new name)")
    OVERWRITE = "overwrite", _("Overwrite the existing file")
    SKIP = "skip", _("Skip (keep the existing file)")


class BackupPolicy(models.Model):
    """FR-1: what a technician chose for one device, and the device's backup health at a glance
    (kept here so device lists show it without a query per row)."""

    device = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="backup_policy")
    paths = models.JSONField(_("folders to back up"), default=list)
    exclude = models.JSONField(_("exclusions"), default=list, blank=True)
    interval_hours = models.PositiveSmallIntegerField(_("schedule"), choices=Interval.choices, default=Interval.DAILY)
    start_time = models.TimeField(_("starting at"), default="01:00")
    keep_last = models.PositiveSmallIntegerField(_("keep the last"), default=3)
    keep_daily = models.PositiveSmallIntegerField(_("daily snapshots kept"), default=7)
    keep_weekly = models.PositiveSmallIntegerField(_("weekly snapshots kept"), default=4)
    keep_monthly = models.PositiveSmallIntegerField(_("monthly snapshots kept"), default=12)
    # The repository's restic key, sealed (portico.notifications.secrets); only the server knows it.
    password_sealed = models.TextField()
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=16, choices=RunState.choices, blank=True)
    last_message = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    source_bytes = models.BigIntegerField(null=True, blank=True)  # the latest snapshot's files
    stored_bytes = models.BigIntegerField(null=True, blank=True)  # the repository, compressed and deduplicated
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("backup policy")
        verbose_name_plural = _("backup policies")

    def __str__(self) -> str:
        return f"backup policy of device {self.device_id}"

    @property
    def health(self) -> str:
        """ok, warning, failed, missed, overdue (no success within two intervals), waiting (never ran)."""
        if self.last_result in (RunState.FAILED, RunState.MISSED, RunState.WARNING):
            return self.last_result
        if self.last_success_at is None:
            return "waiting"
        if timezone.now() - self.last_success_at > timedelta(hours=2 * self.interval_hours + 1):
            return "overdue"
        return "ok"


class BackupRun(models.Model):
    """One backup or restore the server asked an agent for, from request to result."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="backup_runs")
    kind = models.CharField(max_length=8, choices=RunKind.choices)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.RUNNING)
    manual = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        "identity.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="backup_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the device's agent took the run (portico.backups.services.instruction_for); until then
    # the outbox of the node holding its connection offers it again.
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    total_bytes = models.BigIntegerField(default=0)
    snapshot_id = models.CharField(max_length=64, blank=True)
    # Restores: what was chosen, where it goes, and how conflicts are settled.
    items = models.JSONField(default=list, blank=True)
    target = models.TextField(blank=True)
    conflict = models.CharField(max_length=16, choices=Conflict.choices, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["device", "-created_at"]),
            models.Index(fields=["state", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} of device {self.device_id} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state != RunState.RUNNING


class Snapshot(models.Model):
    """A snapshot of the device's repository, indexed: `seq` orders a device's snapshots as indexed."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="snapshots")
    snapshot_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    taken_at = models.DateTimeField()
    paths = models.JSONField(default=list)
    file_count = models.PositiveIntegerField(default=0)
    total_bytes = models.BigIntegerField(default=0)
    indexed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.UniqueConstraint(fields=["device", "snapshot_id"], name="unique_snapshot_per_device"),
            models.UniqueConstraint(fields=["device", "seq"], name="unique_snapshot_seq_per_device"),
        ]

    def __str__(self) -> str:
        return self.snapshot_id[:8]

    @property
    def short_id(self) -> str:
        return self.snapshot_id[:8]


class EntryKind(models.TextChoices):
    DIR = "dir", _("Folder")
    FILE = "file", _("File")
    SYMLINK = "symlink", _("Link")
    OTHER = "other", _("Other")


class SnapshotEntry(models.Model):
    """One version of one path of a device's backups, present in the snapshots numbered
    `first_seq` … `last_seq` (null: still present in the newest indexed snapshot). An unchanged
    file costs one row however many snapshots hold it."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    path = models.TextField()
    parent = models.TextField()
    # md5 of `parent`: the folder's rows are found through an index of fixed width, however deep the path.
    parent_digest = models.CharField(max_length=32)
    name = models.TextField()
    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    size = models.BigIntegerField(default=0)
    mtime = models.DateTimeField(null=True, blank=True)
    first_seq = models.PositiveIntegerField()
    last_seq = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["device", "parent_digest", "first_seq"], name="snapshot_entry_folder"),
            models.Index(fields=["device", "last_seq"], name="snapshot_entry_open"),
        ]

    def __str__(self) -> str:
        return self.path
