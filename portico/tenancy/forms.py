from django import forms
from django.utils.translation import gettext_lazy as _

from portico.tenancy.models import Partner


class PartnerSettingsForm(forms.ModelForm):
    country = forms.RegexField(
        label=_("Country"),
        regex=r"^[A-Za-z]{2}$",
        required=False,
        help_text=_("Two-letter country code, e.g. US or DE."),
        error_messages={"invalid": _("Enter a two-letter country code.")},
    )

    class Meta:
        model = Partner
        fields = ["name", "country", "default_language", "require_staff_mfa"]

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()
