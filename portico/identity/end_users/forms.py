"""Forms of the end-user pages: the filter bar, the General tab, roles and devices."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portico.api.viewsets import MAX_ID
from portico.identity.forms import phone_validator
from portico.identity.models import SecurityType
from portico.tenancy.forms import organization_filter_field


class EndUserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"] = organization_filter_field(organizations)


class EndUserForm(forms.Form):
    """General tab (EU-1): basic details, display and security."""

    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("Email"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=16, required=False, validators=[phone_validator])
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=None,
        help_text=_("The organization the end user belongs to. Their tickets are always of this organization."),
    )
    all_organizations = forms.BooleanField(
        label=_("Devices of all organizations"),
        required=False,
        help_text=_("Organization access for connections and restores: devices of every organization of your company can be assigned."),
    )
    language = forms.ChoiceField(label=_("Display language"), choices=settings.LANGUAGES)
    security_type = forms.ChoiceField(label=_("Security type"), choices=SecurityType.choices, initial=SecurityType.NATIVE)

    def __init__(self, *args, organizations, editing: bool, may_give_all_organizations: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if not may_give_all_organizations:
            # A technician limited by groups cannot reach beyond them (GRP-3).
            del self.fields["all_organizations"]
        if editing:
            # A person's email is their sign-in everywhere; it is not changed from here.
            self.fields["email"].disabled = True
            self.fields["email"].help_text = _("The email address is the person's sign-in and is not changed here.")


class IdsField(forms.ModelMultipleChoiceField):
    """A multiple choice by id that refuses what cannot be an id before the database sees it
    (an integer past 64 bits overflows the query instead of matching nothing)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk)
            if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
                raise ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": text[:50]})
        return super()._check_values(value)


class RolesForm(forms.Form):
    roles = IdsField(label=_("Roles"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}))

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].queryset = roles


class AddDevicesForm(forms.Form):
    devices = IdsField(label=_("Add devices"), queryset=None, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}))

    def __init__(self, *args, devices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["devices"].queryset = devices
