"""Forms of the partner portal's SaaS backup pages: a new organization with its subscription (ORG-9).

The form checks the shape of what was sent and offers only the plans the policy lets the staff
user see; `services.create_organization` decides the rest (the name of a Personal plan's
organization, a name already taken), and its errors are shown on these fields.
"""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from portico.tenancy.models import Organization

# Bounds a person can mean: far beyond any MSP's customer, well inside the columns.
MAX_SEATS = 1_000_000
MAX_STORAGE_GIB = 1024 * 1024  # 1 PiB


class OrganizationForm(forms.Form):
    """ORG-9: plan, name, contact, seats, storage and country of a new organization."""

    plan = forms.ModelChoiceField(label=_("Plan"), queryset=None, empty_label=None)
    name = forms.CharField(
        label=_("Organization name"),
        required=False,
        max_length=Organization._meta.get_field("name").max_length,
        help_text=_("For a Personal plan, leave it empty: the organization is named after the contact's email."),
    )
    contact_email = forms.EmailField(
        label=_("Contact email"),
        help_text=_("The organization's admin in the customer portal. They receive an invitation."),
    )
    contact_first_name = forms.CharField(label=_("Contact first name"), required=False, max_length=150)
    contact_last_name = forms.CharField(label=_("Contact last name"), required=False, max_length=150)
    paid_seats = forms.IntegerField(label=_("Paid seats"), min_value=1, max_value=MAX_SEATS, initial=10)
    storage_quota_gib = forms.IntegerField(
        label=_("Storage quota (GiB)"), min_value=1, max_value=MAX_STORAGE_GIB, initial=100
    )
    country = forms.RegexField(
        label=_("Country"),
        regex=r"^[A-Za-z]{2}$",
        required=False,
        help_text=_("Two-letter country code, e.g. US or DE. Your partner settings' country when left empty."),
        error_messages={"invalid": _("Enter a two-letter country code.")},
    )

    def __init__(self, *args, plans: QuerySet, country: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans
        self.fields["plan"].label_from_instance = lambda plan: f"{plan.name} · {plan.get_plan_type_display()}"
        self.fields["country"].initial = country  # PS-2

    def clean_country(self) -> str | None:
        # Left empty, the service gives the partner's country (PS-2).
        return self.cleaned_data["country"].upper() or None
