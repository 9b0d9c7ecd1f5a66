"""Forms of the device pages: the filter bar and the editor."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.access.catalog import OsFamily
from portico.devices.models import Device
from portico.tenancy.forms import organization_filter_field


class DeviceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    os_family = forms.ChoiceField(label=_("Operating system"), required=False, choices=[("", _("All systems"))] + OsFamily.choices)
    online = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Online and offline")), ("1", _("Online")), ("0", _("Offline"))]
    )
    backup = forms.ChoiceField(label=_("Backup"), required=False, choices=[
        ("", _("Any backup state")), ("problem", _("Backup failed or missed")), ("on", _("Backed up")),
        ("off", _("Not backed up")),
    ])

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"] = organization_filter_field(organizations)
        self.order_fields(["q", "organization"])


class DeviceForm(forms.ModelForm):
    class Meta:
        model = Device
        fields = ["organization", "name", "os_family", "os_version", "last_user", "ip_address"]

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
