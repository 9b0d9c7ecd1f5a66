"""Forms of the staff user pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portico.access.roles import StaffRole


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All roles"))] + list(StaffRole.choices))


class StaffForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("Email"), max_length=254)
    staff_role = forms.ChoiceField(label=_("Role"), choices=[])
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        max_length=512,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Optional. Without one, the invitation lets them choose their own."),
    )

    def __init__(self, *args, roles: list[str], editing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # PU-2: only roles strictly beneath one's own are offered.
        self.fields["staff_role"].choices = [(r, StaffRole(r).label) for r in roles]
        if editing:
            self.fields["email"].disabled = True
            self.fields["email"].help_text = _("The email address of a staff user cannot be changed.")
            del self.fields["password"]
