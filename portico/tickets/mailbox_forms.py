"""The support mailbox form of partner settings (TK-7)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.tickets.models import SupportMailbox


class SupportMailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("Password"), required=False, max_length=1000, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the stored password."),
    )

    class Meta:
        model = SupportMailbox
        fields = ["address", "host", "port", "use_tls", "username", "folder", "enabled"]
        help_texts = {
            "address": _("Ticket notices ask customers to reply to this address."),
            "use_tls": _("Implicit TLS, usually on port 993."),
        }

    def clean_port(self):
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError(_("Enter a port between 1 and 65535."))
        return port

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not data.get("password"):
            self.add_error("password", _("Enter the mailbox password."))
        return data
