"""What the SaaS backup API reads and writes: organizations with their subscription and usage
(ORG-4, ORG-9), plans, and backed-up accounts with their sections (ACC-2, ACC-3).

The answers are read-only shapes over the rows `portico.saas.filters` selects; the one request body,
a new organization, has the bounds of the page's form and leaves the rest to
`portico.saas.services.create_organization`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portico.api.viewsets import MAX_ID
from portico.saas.forms import MAX_SEATS, MAX_STORAGE_GIB
from portico.saas.models import (
    AccountStatus,
    BackupResult,
    CredentialStatus,
    EmailKind,
    PlanType,
    ProductType,
    Section,
    SubscriptionStatus,
)
from portico.tenancy.models import Organization


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    type = serializers.ChoiceField(source="plan_type", choices=PlanType.choices, read_only=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True, help_text="Per seat and month")
    currency = serializers.CharField(read_only=True)


class OrganizationSerializer(serializers.Serializer):
    """An organization with its subscription (ORG-4). Seats and storage in use are counted from its
    accounts when the row is read, never stored."""

    id = serializers.IntegerField(source="organization_id", read_only=True)
    name = serializers.CharField(source="organization.name", read_only=True)
    contact_email = serializers.EmailField(read_only=True)
    country = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices, read_only=True)
    credential_status = serializers.ChoiceField(choices=CredentialStatus.choices, read_only=True)
    plan = PlanSerializer(read_only=True)
    paid_seats = serializers.IntegerField(read_only=True)
    seats_used = serializers.IntegerField(read_only=True, help_text="Active accounts that are backed up")
    storage_quota_bytes = serializers.IntegerField(read_only=True)
    storage_used_bytes = serializers.IntegerField(source="storage_used", read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)


class OrganizationCreateSerializer(serializers.Serializer):
    """ORG-9: the bounds of the page's form; the service names a Personal plan's organization after
    its contact and refuses a name already taken."""

    plan = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="One of your plans (`/api/v1/plans/`)")
    name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=Organization._meta.get_field("name").max_length,
        help_text="Leave it empty for a Personal plan: the organization is named after the contact's email.",
    )
    contact_email = serializers.EmailField(
        max_length=254, help_text="The organization's admin in the customer portal; they receive an invitation."
    )
    contact_first_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    contact_last_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    paid_seats = serializers.IntegerField(min_value=1, max_value=MAX_SEATS)
    storage_quota_gib = serializers.IntegerField(min_value=1, max_value=MAX_STORAGE_GIB)
    country = serializers.RegexField(
        r"^[A-Za-z]{2}$", required=False, allow_blank=True, default="",
        help_text="Two-letter country code; your partner settings' country when left out (PS-2).",
        error_messages={"invalid": _("Enter a two-letter country code.")},
    )


class ResetPasswordSentSerializer(serializers.Serializer):
    sent_to = serializers.EmailField(read_only=True, help_text="The organization's admin, its contact")


class AccountOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class AccountSerializer(serializers.Serializer):
    """A backed-up account (ACC-2); its backup status is its worst section's last result."""

    id = serializers.IntegerField(read_only=True)
    address = serializers.CharField(read_only=True, help_text="The email address, or a site's or group's name")
    external_id = serializers.CharField(read_only=True, help_text="The account id at the service")
    product_type = serializers.ChoiceField(choices=ProductType.choices, read_only=True)
    email_kind = serializers.ChoiceField(
        choices=EmailKind.choices, read_only=True, allow_blank=True, help_text="Email accounts only; empty otherwise"
    )
    domain = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=AccountStatus.choices, read_only=True)
    backed_up = serializers.BooleanField(read_only=True)
    added = serializers.DateTimeField(source="added_at", read_only=True)
    organization = AccountOrganizationSerializer(read_only=True)
    backup_status = serializers.SerializerMethodField()

    def get_backup_status(self, account) -> str:
        # An account without sections has not been backed up yet.
        return account.backup_status or BackupResult.NEVER


class AccountSectionSerializer(serializers.Serializer):
    section = serializers.ChoiceField(choices=Section.choices, read_only=True)
    status = serializers.ChoiceField(choices=AccountStatus.choices, read_only=True)
    added = serializers.DateTimeField(source="added_at", read_only=True)
    last_backup = serializers.DateTimeField(source="last_backup_at", read_only=True, allow_null=True)
    last_result = serializers.ChoiceField(choices=BackupResult.choices, read_only=True)
    items = serializers.IntegerField(source="item_count", read_only=True)
    bytes = serializers.IntegerField(read_only=True)


class AccountDetailSerializer(AccountSerializer):
    """ACC-3: the account with each section's status, dates, items and size."""

    sections = AccountSectionSerializer(source="shown_sections", many=True, read_only=True)
