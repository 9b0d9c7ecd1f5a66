from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.remote.models import RemoteAccessSettings
from portico.remote.services import DEFAULT_TOKEN_DAYS


class EnrolmentTokenForm(forms.Form):
    organization = forms.ModelChoiceField(label=_("Organization"), queryset=None)
    days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=90, initial=DEFAULT_TOKEN_DAYS,
        help_text=_("Devices can enrol with it until then."),
    )
    uses = forms.IntegerField(
        label=_("Number of devices"), min_value=1, max_value=10_000, required=False,
        help_text=_("Leave empty to enrol any number of devices until it expires."),
    )

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


class RemoteAccessSettingsForm(forms.ModelForm):
    class Meta:
        model = RemoteAccessSettings
        fields = ["consent"]
        widgets = {"consent": forms.RadioSelect}
        labels = {"consent": _("Before a session starts on a device of this organization")}
        help_texts = {"consent": _("The agent shows the notice or the question to the person signed in on the device.")}
