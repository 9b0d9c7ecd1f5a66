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


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    organizations = forms.ModelMultipleChoiceField(
        label=_("Access scope"),
        queryset=None,
        required=False,
        help_text=_("The organizations the managers see. None chosen means all organizations."),
    )
    managers = forms.ModelMultipleChoiceField(
        label=_("Group managers"), queryset=None, required=False, help_text=_("Admin and Support users only.")
    )

    def __init__(self, *args, organizations, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizations"].queryset = organizations
        self.fields["managers"].queryset = managers
        self.fields["managers"].label_from_instance = lambda m: f"{m.person.full_name} · {m.get_staff_role_display()}"
