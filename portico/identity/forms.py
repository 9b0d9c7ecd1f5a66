"""Forms of the sign-in flow and of the people pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from portico.access.roles import StaffRole
from portico.identity.models import MembershipKind, SecurityType
from portico.tenancy.models import Organization

phone_validator = RegexValidator(r"^\+[1-9][0-9]{6,14}$", _("Enter the number in international form, e.g. +4915112345678."))


class ChoosePasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Password"), strip=False, max_length=512, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password (again)"), strip=False, max_length=512, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, person=None, **kwargs):
        self.person = person
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            try:
                password_validation.validate_password(p1, self.person)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("Mobile phone"), max_length=16, validators=[phone_validator])


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code"),
        regex=r"^\s*[0-9]{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("Enter the six-digit code.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class InviteForm(forms.Form):
    """Invite a person (ID-1): an end user of one organization (with devices of it or of all), or a staff user."""

    kind = forms.ChoiceField(label=_("Access"), choices=[(MembershipKind.END_USER, MembershipKind.END_USER.label), (MembershipKind.STAFF, MembershipKind.STAFF.label)])
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("Email"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=16, required=False, validators=[phone_validator])
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.none(),
        required=False,
        help_text=_("The organization the end user belongs to. Their tickets are always of this organization."),
    )
    all_organizations = forms.BooleanField(
        label=_("Devices of all organizations"),
        required=False,
        help_text=_("Organization access for connections and restores: devices of every organization of your company can be assigned."),
    )
    staff_role = forms.ChoiceField(label=_("Role"), choices=[], required=False)
    language = forms.ChoiceField(label=_("Display language"), choices=settings.LANGUAGES)
    security_type = forms.ChoiceField(label=_("Security type"), choices=SecurityType.choices, initial=SecurityType.NATIVE)

    def __init__(self, *args, organizations, staff_roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["staff_role"].choices = [("", "—")] + [(r, StaffRole(r).label) for r in staff_roles]
        if not staff_roles:
            self.fields["kind"].choices = self.fields["kind"].choices[:1]

    def clean(self):
        data = super().clean()
        if data.get("kind") == MembershipKind.STAFF:
            if not data.get("staff_role"):
                self.add_error("staff_role", _("Choose a role."))
            data["organization"] = None
            data["all_organizations"] = False
        else:
            data["staff_role"] = ""
            if data.get("kind") == MembershipKind.END_USER and not data.get("organization") and "organization" not in self.errors:
                self.add_error("organization", _("Choose the organization the end user belongs to."))
        if data.get("security_type") == SecurityType.SSO:
            self.add_error("security_type", _("Single sign-on needs an identity provider, and none is configured yet."))
        return data


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Access"), required=False, choices=[("", _("All"))] + list(MembershipKind.choices))


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)
