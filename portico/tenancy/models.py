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


class Group(models.Model):
    """Organization-level access control (GRP-1): managers see the organizations of its scope."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    # An empty scope means all organizations of the partner (GRP-1).
    organizations = models.ManyToManyField(Organization, blank=True, related_name="groups", verbose_name=_("access scope"))
    managers = models.ManyToManyField(
        "identity.Membership", blank=True, related_name="managed_groups", verbose_name=_("group managers")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("group")
        constraints = [models.UniqueConstraint(fields=["partner", "name"], name="unique_group_name_per_partner")]

    def __str__(self) -> str:
        return self.name
