"""The permission editor (PERM-1 … PERM-3), shared by end-user roles and end users' direct
permissions, and the end-user role form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.access import catalog
from portico.access.catalog import CONNECTION_ACTIONS, DeviceAction, OsFamily
from portico.access.models import EndUserRole

TICKETING = [
    ("", _("Off")),
    ("own", _("Own tickets")),
    ("organization", _("Organization-wide")),
]


def _field_name(action: str, os_family: str) -> str:
    return f"{action}__{os_family}"


class PermissionsForm(forms.Form):
    """Connections master switch, per OS × connection type, backup restore, ticketing scope."""

    connections = forms.BooleanField(label=_("Connections"), required=False)
    backup_restore = forms.BooleanField(label=_("Restore files from backups"), required=False)
    ticketing = forms.ChoiceField(label=_("Ticketing"), choices=TICKETING, required=False, widget=forms.RadioSelect(attrs={"class": "form-check-input"}))

    def __init__(self, *args, codes: frozenset[str] | set[str] = frozenset(), **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        initial.update(self.initial_from(codes))
        super().__init__(*args, initial=initial, **kwargs)
        for os_family in OsFamily:
            for action in CONNECTION_ACTIONS:
                self.fields[_field_name(action, os_family)] = forms.BooleanField(
                    label=f"{DeviceAction(action).label} · {os_family.label}", required=False
                )

    @staticmethod
    def initial_from(codes) -> dict:
        initial = {
            "connections": catalog.CONNECTIONS in codes,
            "backup_restore": catalog.BACKUP_RESTORE in codes,
            "ticketing": catalog.ticket_scope(codes),
        }
        for os_family in OsFamily.values:
            for action in CONNECTION_ACTIONS:
                initial[_field_name(action, os_family)] = catalog.connection_code(action, os_family) in codes
        return initial

    def codes(self) -> set[str]:
        data = self.cleaned_data
        codes = set()
        if data.get("connections"):
            codes.add(catalog.CONNECTIONS)
        if data.get("backup_restore"):
            codes.add(catalog.BACKUP_RESTORE)
        if data.get("ticketing") == "own":
            codes.add(catalog.TICKETS_OWN)
        elif data.get("ticketing") == "organization":
            codes.add(catalog.TICKETS_ORGANIZATION)
        for os_family in OsFamily.values:
            for action in CONNECTION_ACTIONS:
                if data.get(_field_name(action, os_family)):
                    codes.add(catalog.connection_code(action, os_family))
        return codes

    def grid(self):
        """Rows of the per-OS table: (os label, [bound field per connection type])."""
        return [
            (os_family.label, [self[_field_name(action, os_family)] for action in CONNECTION_ACTIONS])
            for os_family in OsFamily
        ]

    def connection_labels(self):
        return [action.label for action in CONNECTION_ACTIONS]


class EndUserRoleForm(forms.ModelForm):
    class Meta:
        model = EndUserRole
        fields = ["name", "description"]
