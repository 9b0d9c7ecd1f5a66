"""The email outbox (every email is a row first, so an SMTP failure never loses it), and the in-app
notices and first-login welcome of the partner dashboard."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundEmail(models.Model):
    partner = models.ForeignKey("tenancy.Partner", on_delete=models.SET_NULL, null=True, blank=True)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8)
    state = models.CharField(max_length=16, choices=EmailState.choices, default=EmailState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


# In-app notices (DASH-3) and the first-login welcome (DASH-5), shown on the partner dashboard.


class NoticeLevel(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    DANGER = "danger", _("Danger")
    SUCCESS = "success", _("Success")


class Notice(models.Model):
    """A message the platform operator publishes (in the Django admin) to partners' staff (DASH-3)."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    level = models.CharField(_("level"), max_length=16, choices=NoticeLevel.choices, default=NoticeLevel.INFO)
    # Empty means every partner.
    partner = models.ForeignKey(
        "tenancy.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("partner"),
        help_text=_("Leave empty to show the notice to every partner."),
    )
    published_from = models.DateTimeField(_("published from"), default=timezone.now)
    published_until = models.DateTimeField(
        _("published until"), null=True, blank=True, help_text=_("Leave empty to keep it published.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice")
        ordering = ["-published_from", "-id"]
        indexes = [models.Index(fields=["partner", "published_from"], name="notice_published")]
        constraints = [
            models.CheckConstraint(
                name="notice_period",
                condition=Q(published_until__isnull=True) | Q(published_until__gt=models.F("published_from")),
            )
        ]

    def __str__(self) -> str:
        return self.title


class NoticeDismissal(models.Model):
    """A person closed a notice: it stays closed for them, whichever membership they use."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="dismissals")
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="notice_dismissals")
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "person"], name="one_dismissal_per_person")]

    def __str__(self) -> str:
        return f"{self.notice_id} dismissed by {self.person_id}"


class Welcome(models.Model):
    """A staff membership went past the first-login welcome (DASH-5): it is not shown again."""

    membership = models.OneToOneField(
        "identity.Membership", on_delete=models.CASCADE, primary_key=True, related_name="welcome"
    )
    done_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"welcome done by {self.membership_id}"
