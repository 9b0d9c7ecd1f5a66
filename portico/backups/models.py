"""Device backups (issue 7): each device's restic repository, whose bytes live in the backup storage."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupRepository(models.Model):
    """The device's agent created its repository: from now on it may read and append to it."""

    device = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="backup_repository")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("backup repository")

    def __str__(self) -> str:
        return f"{self.device_id}"
