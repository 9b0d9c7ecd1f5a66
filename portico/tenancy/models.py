"""Partners (the MSPs, top-level tenants) and their customer organizations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Partner(models.Model):
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, blank=True)
    default_language = models.CharField(
        _("default language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    require_staff_mfa = models.BooleanField(
        _("require multi-factor authentication for staff"), default=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="organizations")
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("organization")
        indexes = [models.Index(fields=["partner", "name"])]

    def __str__(self) -> str:
        return self.name
