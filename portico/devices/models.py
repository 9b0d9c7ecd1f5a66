"""Computers of customer organizations (DEV-1, DEV-2) and which end users they are assigned to (EU-4)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.access.catalog import OsFamily


class Device(models.Model):
    # The partner is kept beside the organization so every device list filters on one indexed column.
    partner = models.ForeignKey("tenancy.Partner", on_delete=models.PROTECT, related_name="devices")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="devices")
    name = models.CharField(_("name"), max_length=200)
    os_family = models.CharField(_("operating system"), max_length=16, choices=OsFamily.choices)
    os_version = models.CharField(_("OS version"), max_length=100, blank=True)
    last_user = models.CharField(_("last user"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    online = models.BooleanField(_("online"), default=False)
    backup_enabled = models.BooleanField(_("backup enabled"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    assigned_to = models.ManyToManyField(
        "identity.Membership", through="DeviceAssignment", related_name="assigned_devices", blank=True
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("device")
        indexes = [
            models.Index(fields=["partner", "name", "id"]),
            models.Index(fields=["organization", "name", "id"]),
        ]

    def __str__(self) -> str:
        return self.name


class DeviceAssignment(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="assignments")
    membership = models.ForeignKey("identity.Membership", on_delete=models.CASCADE, related_name="device_assignments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["membership", "device"], name="unique_device_assignment")]

    def __str__(self) -> str:
        return f"device {self.device_id} for membership {self.membership_id}"
