"""People (one login each) and their memberships: staff of a partner, end user, customer user."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portico.access.roles import StaffRole, rank
from portico.tenancy.models import Organization, Partner


class PersonManager(BaseUserManager["Person"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> Person:
        person = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            person.set_password(password)
        else:
            person.set_unusable_password()
        person.save(using=self._db)
        return person

    def create_superuser(self, email: str, password: str | None = None, **fields) -> Person:
        fields.setdefault("is_platform_operator", True)
        return self.create_user(email, password, **fields)


class Person(AbstractBaseUser):
    """One login identity: one email, one password, one set of MFA methods."""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("display language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    is_active = models.BooleanField(default=True)
    is_platform_operator = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = PersonManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("person")

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name or self.email

    # The Django admin is the platform operator's site (/operator/): only they are its staff,
    # and they may do there whatever the site offers.

    @property
    def is_staff(self) -> bool:
        return self.is_platform_operator

    def has_perm(self, perm: str, obj=None) -> bool:
        return self.is_active and self.is_platform_operator

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and self.is_platform_operator


class MembershipKind(models.TextChoices):
    STAFF = "staff", _("Partner staff user")
    END_USER = "end_user", _("End user")
    CUSTOMER = "customer", _("Customer portal user")


class SecurityType(models.TextChoices):
    NATIVE = "native", _("Native (password and multi-factor)")
    SSO = "sso", _("Single sign-on")


class Membership(models.Model):
    """What a person is in one place (DESIGN mechanism 1)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="memberships")
    kind = models.CharField(_("kind"), max_length=16, choices=MembershipKind.choices)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    # EU-1, EU-4: an end user's device access may reach every organization of the partner; their
    # home organization (tickets, TK-2, EU-5) stays `organization`.
    all_organizations = models.BooleanField(_("devices of all organizations"), default=False)
    staff_role = models.CharField(_("role"), max_length=16, choices=StaffRole.choices, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    security_type = models.CharField(
        _("security type"), max_length=8, choices=SecurityType.choices, default=SecurityType.NATIVE
    )
    # Sessions that chose this membership before this instant are ended (ID-6).
    sessions_valid_after = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        indexes = [
            models.Index(fields=["partner", "kind", "enabled"]),
            models.Index(fields=["organization", "kind"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="membership_shape",
                condition=(
                    Q(kind="staff", organization__isnull=True, all_organizations=False)
                    & ~Q(staff_role="")
                )
                | Q(kind="end_user", organization__isnull=False, staff_role="")
                | Q(kind="customer", organization__isnull=False, all_organizations=False, staff_role=""),
            ),
            models.UniqueConstraint(
                fields=["person", "partner"], condition=Q(kind="staff"), name="one_staff_membership_per_partner"
            ),
            models.UniqueConstraint(
                fields=["person", "partner"], condition=Q(kind="end_user"), name="one_end_user_membership_per_partner"
            ),
            models.UniqueConstraint(
                fields=["person", "organization"], condition=Q(kind="customer"), name="one_customer_membership_per_org"
            ),
            models.UniqueConstraint(
                fields=["partner"], condition=Q(kind="staff", staff_role="owner"), name="one_owner_per_partner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.email} — {self.place_label}"

    @property
    def place_label(self) -> str:
        if self.kind == MembershipKind.STAFF:
            return f"{self.partner.name} · {self.get_staff_role_display()}"
        return f"{self.organization.name} · {self.get_kind_display()}" if self.organization else ""

    @property
    def is_staff_member(self) -> bool:
        return self.kind == MembershipKind.STAFF

    @property
    def rank(self) -> int:
        return rank(self.staff_role) if self.staff_role else 0

    @property
    def requires_mfa(self) -> bool:
        """ID-3: end users and customer users always; staff when their partner requires it."""
        if self.kind == MembershipKind.STAFF:
            return self.partner.require_staff_mfa
        return True

    @property
    def portal_url_name(self) -> str:
        return {
            MembershipKind.STAFF: "web:console",
            MembershipKind.END_USER: "web:portal",
            MembershipKind.CUSTOMER: "web:customer",
        }[MembershipKind(self.kind)]


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def usable(self) -> InvitationQuerySet:
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class InvitationPurpose(models.TextChoices):
    INVITE = "invite", _("Invitation")
    RESET = "reset", _("Password reset")


class Invitation(models.Model):
    """An "Accept invitation" link (ID-1, ID-7). Only the token's hash is stored."""

    purpose = models.CharField(max_length=8, choices=InvitationPurpose.choices, default=InvitationPurpose.INVITE)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.purpose} for membership {self.membership_id}"

    @classmethod
    def issue(cls, membership: Membership, sent_by: Membership | None, purpose: str) -> tuple[Invitation, str]:
        """A new link for the membership; any earlier link of it stops working."""
        cls.objects.filter(membership=membership).usable().update(revoked_at=timezone.now())
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        invitation = cls.objects.create(
            purpose=purpose,
            membership=membership,
            token_hash=_hash_token(token),
            created_at=now,
            expires_at=now + timedelta(hours=settings.INVITATION_TTL_HOURS),
            sent_by=sent_by,
        )
        return invitation, token

    @classmethod
    def find_usable(cls, token: str) -> Invitation | None:
        if not token or len(token) > 128:
            return None
        return (
            cls.objects.usable()
            .select_related("membership__person", "membership__partner", "membership__organization")
            .filter(token_hash=_hash_token(token))
            .first()
        )


class PhoneAuthenticator(models.Model):
    """SMS as a second factor (ID-3): a confirmed phone number of the person."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="phone_authenticator")
    phone = models.CharField(_("phone"), max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"phone of person {self.person_id}"
