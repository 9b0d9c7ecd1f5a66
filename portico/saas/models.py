"""The SaaS backup service's data: plans, an organization's subscription, and its backed-up accounts.

The backup engine (a later issue) writes the results of each account's sections; seat usage and
storage usage are always derived from those rows in SQL. The dashboard's tallies of accounts and
each account's totals of its sections are derived too: the database keeps them with every change of
an account or a section, and nothing else writes them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PlanType(models.TextChoices):
    PERSONAL = "personal", _("Personal")
    BACKUP = "backup", _("Backup")
    ARCHIVER = "archiver", _("Archiver")


class Plan(models.Model):
    """What a partner sells: a plan of one type at a price per seat and month. How many seats and
    how much storage an organization bought is its subscription's."""

    partner = models.ForeignKey("tenancy.Partner", on_delete=models.CASCADE, related_name="plans")
    name = models.CharField(_("plan name"), max_length=100)
    plan_type = models.CharField(_("plan type"), max_length=16, choices=PlanType.choices)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("plan")
        constraints = [models.UniqueConstraint(fields=["partner", "name"], name="unique_plan_name_per_partner")]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    DELETED = "deleted", _("Deleted")


class CredentialStatus(models.TextChoices):
    OK = "ok", _("OK")
    NEED_AUTHENTICATION = "need_auth", _("Need authentication")


class Subscription(models.Model):
    """An organization's SaaS backup subscription (ORG-1 … ORG-9); at most one per organization."""

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.CASCADE, primary_key=True, related_name="subscription"
    )
    # The partner is kept beside the organization, so the partner's figures read one index.
    partner = models.ForeignKey("tenancy.Partner", on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(
        _("status"), max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    paid_seats = models.PositiveIntegerField(_("paid seats"))
    storage_quota_bytes = models.BigIntegerField(_("storage quota"))
    contact_email = models.EmailField(_("contact email"))
    country = models.CharField(_("country"), max_length=2, blank=True)
    credential_status = models.CharField(
        _("credential status"), max_length=16, choices=CredentialStatus.choices, default=CredentialStatus.OK
    )
    credential_error = models.CharField(_("credential error"), max_length=500, blank=True)
    # The organization's own admin in the customer portal: "Log in as client" acts as them (ORG-7),
    # and "Send reset password" goes to them (ORG-8).
    admin = models.ForeignKey(
        "identity.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="administered_subscriptions"
    )
    # The organization's tally of its accounts (`AccountTally`, none while it has no account), joined
    # on the organization's id alone: seat usage adds the tallies up without the organizations table
    # between them (20 against 11 ms at 10,000 organizations). A relation without a column of its own.
    account_tally = models.ForeignObject(
        "saas.AccountTally",
        on_delete=models.DO_NOTHING,
        from_fields=["organization"],
        to_fields=["organization"],
        null=True,
        related_name="+",
    )
    journaling_enabled = models.BooleanField(_("journaling"), default=False)
    journaling_address = models.EmailField(_("journaling address"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        indexes = [
            models.Index(fields=["partner", "status", "organization"], name="subscription_page"),
            models.Index(fields=["partner", "created_at"], name="subscription_added"),
        ]
        constraints = [models.CheckConstraint(name="subscription_quota", condition=Q(storage_quota_bytes__gte=0))]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.plan_id} ({self.status})"

    def clean_fields(self, exclude=None) -> None:
        # account_tally is a way to join, not a value of the subscription: nothing to validate.
        super().clean_fields(exclude={*(exclude or ()), "account_tally"})


class ProductType(models.TextChoices):
    """ACC-1's product types, in the order the accounts page offers them."""

    EMAIL = "email", _("Email")
    DRIVE = "drive", _("Drives")
    SHARED_DRIVE = "shared_drive", _("Shared Drives")
    CONTACT = "contact", _("Contact")
    CALENDAR = "calendar", _("Calendar")
    TASK = "task", _("Task")
    PRIVATE_CHAT = "private_chat", _("Private Chat")
    SHAREPOINT = "sharepoint", _("SharePoint")
    GROUP_TEAM = "group_team", _("Groups and Teams")


# Accounts whose details page is "site and group details" (ACC-3), not "account details".
SITE_TYPES = (ProductType.SHAREPOINT, ProductType.GROUP_TEAM)


class EmailKind(models.TextChoices):
    MAILBOX = "mailbox", _("Mailbox")
    SHARED_MAILBOX = "shared_mailbox", _("Shared mailbox")
    PUBLIC_FOLDER = "public_folder", _("Public folder")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DEACTIVATED = "deactivated", _("Deactivated")
    DELETED = "deleted", _("Deleted")


class Account(models.Model):
    """A backed-up SaaS item of an organization: a mailbox, a drive, a site, a team ... (ACC-1)."""

    partner = models.ForeignKey("tenancy.Partner", on_delete=models.PROTECT, related_name="saas_accounts")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="saas_accounts")
    product_type = models.CharField(_("product type"), max_length=16, choices=ProductType.choices)
    email_kind = models.CharField(_("email kind"), max_length=16, choices=EmailKind.choices, blank=True)
    # The email address of a mailbox or drive; the name of a site, group or team.
    address = models.CharField(_("email or name"), max_length=320)
    external_id = models.CharField(_("account id"), max_length=128)
    domain = models.CharField(_("domain"), max_length=253, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    # A backed-up account takes a seat of its organization's plan (DASH-1's seat usage).
    backed_up = models.BooleanField(_("backed up"), default=True)
    added_at = models.DateTimeField(_("date added"))

    class Meta:
        verbose_name = _("account")
        indexes = [
            models.Index(fields=["partner", "product_type", "status", "id"], name="account_page"),
            # ACC-1's email kinds: a kind the partner has few of is found without walking every mailbox.
            models.Index(
                fields=["partner", "email_kind", "status", "id"], condition=Q(product_type="email"),
                name="account_email_kind_page",
            ),
            models.Index(fields=["organization", "product_type", "status", "id"], name="account_org_page"),
            # Seats and coverage counted per organization from the index alone; the partner is in
            # it because every policy-restricted query also asks for it.
            models.Index(fields=["organization", "status", "backed_up", "partner"], name="account_org_seats"),
            models.Index(fields=["partner", "status", "backed_up"], name="account_figures"),
            models.Index(fields=["partner", "added_at"], name="account_added"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product_type", "external_id"], name="unique_account_per_product"
            ),
            models.CheckConstraint(
                name="account_email_kind",
                condition=Q(product_type="email", email_kind__in=["mailbox", "shared_mailbox", "public_folder"])
                | (~Q(product_type="email") & Q(email_kind="")),
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def is_site(self) -> bool:
        return self.product_type in SITE_TYPES


class Section(models.TextChoices):
    """What one account's backup is made of (ACC-3); sites, groups and teams have files."""

    EMAIL = "email", _("Email")
    DRIVE = "drive", _("Drive")
    CALENDAR = "calendar", _("Calendar")
    CONTACT = "contact", _("Contact")
    TASKS = "tasks", _("Tasks")
    FILES = "files", _("Files")


class BackupResult(models.TextChoices):
    """A section's last result, in the order lists and menus show them."""

    SUCCESS = "success", _("Successful")
    WARNING = "warning", _("Completed with warnings")
    FAILED = "failed", _("Failed")
    NEVER = "never", _("Not backed up yet")


# An account's backup status is the worst last result of its sections, from best to worst here: a
# failure is what most needs a technician, then warnings, then a section still waiting for its
# first backup (docs/decisions.md).
RESULTS_BEST_TO_WORST = (BackupResult.SUCCESS, BackupResult.NEVER, BackupResult.WARNING, BackupResult.FAILED)


class AccountSection(models.Model):
    """One section of an account's backup and its last result, as the backup engine writes it (SB-2)."""

    # Looked up through the (account, bytes) index below and the unique (account, section) one.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sections", db_index=False)
    section = models.CharField(_("section"), max_length=16, choices=Section.choices)
    status = models.CharField(_("status"), max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    added_at = models.DateTimeField(_("date added"))
    last_backup_at = models.DateTimeField(_("last backup"), null=True, blank=True)
    last_result = models.CharField(_("last result"), max_length=16, choices=BackupResult.choices, default=BackupResult.NEVER)
    item_count = models.BigIntegerField(_("items"), default=0)
    bytes = models.BigIntegerField(_("data size"), default=0)

    class Meta:
        verbose_name = _("account section")
        ordering = ["account", "section"]
        constraints = [models.UniqueConstraint(fields=["account", "section"], name="one_result_per_section")]
        # Storage usage adds up the bytes of an organization's sections from this index alone.
        indexes = [models.Index(fields=["account", "bytes"], name="section_bytes")]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.section}"


class AccountTotals(models.Model):
    """An account's sections added up: its last backup, its backup status (the worst last result,
    in BackupResult's order), items and bytes. The accounts export (CSV-1) reads these with the
    account, one row each, instead of grouping 1,000,000 accounts' sections batch by batch.

    Derived only, like the tallies: every account has its row from the statement that adds it, and
    database triggers on the sections keep the totals equal to them in the same statement as any
    change (`portico.saas.totals`). Nothing else writes here.
    """

    account = models.OneToOneField(Account, on_delete=models.CASCADE, primary_key=True, related_name="totals")
    last_backup_at = models.DateTimeField(null=True)
    # Blank while the account has no section with a result; ranked by RESULTS_BEST_TO_WORST.
    worst_result = models.CharField(max_length=16, choices=BackupResult.choices, blank=True, default="")
    item_count = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("account totals")

    def __str__(self) -> str:
        return f"{self.account_id}"


# What a tally counts, in the order the triggers write them (`portico.saas.tallies.COLUMNS`).
COUNTS = ["active", "active_backed_up", "deactivated", "deleted"]


class AccountCounts(models.Model):
    """What a tally counts of its accounts (COUNTS)."""

    active = models.BigIntegerField(default=0)
    active_backed_up = models.BigIntegerField(default=0)
    deactivated = models.BigIntegerField(default=0)
    deleted = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class AccountTally(AccountCounts):
    """How many accounts an organization has in each status, and how many of its active ones are
    backed up: DASH-1's coverage, seats and accounts of today and of all time, read from one row
    per organization instead of counting every account (35-94 ms at 1,000,000 accounts, 2-5 ms
    from these rows).

    Derived only: database triggers on the accounts table keep it (`portico.saas.tallies`), in the
    same statement as the change, whatever writes it (ORM, bulk update, SQL). Nothing else writes
    here; the organizations page still counts an organization's seats from its accounts.
    """

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.CASCADE, primary_key=True, related_name="account_tally"
    )
    partner = models.ForeignKey("tenancy.Partner", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("account tally")
        # Read from the index alone (PostgreSQL's INCLUDE): a partner's or a group's figures add up
        # these entries without visiting the rows.
        indexes = [
            models.Index(fields=["partner", "organization"], include=COUNTS, name="account_tally_partner")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}"


class TallySpan(models.TextChoices):
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class AccountPeriodTally(AccountCounts):
    """The accounts of an organization added in one month or one year (UTC), by status today:
    DASH-1's accounts widget over DASH-2's periods, which are whole months (This month, Last month,
    Last 3 months) or the year so far (This year). Kept like AccountTally."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey("tenancy.Partner", on_delete=models.CASCADE, related_name="+")
    span = models.CharField(max_length=8, choices=TallySpan.choices)
    start = models.DateField()  # the first day of the month or year

    class Meta:
        verbose_name = _("account tally of a period")
        constraints = [
            models.UniqueConstraint(fields=["organization", "span", "start"], name="one_tally_per_period")
        ]
        indexes = [
            models.Index(
                fields=["partner", "span", "start", "organization"], include=COUNTS, name="account_period_tally"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.span}/{self.start}"
