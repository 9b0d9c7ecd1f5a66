from django import forms
from django.utils.translation import gettext_lazy as _

from portico.tenancy.models import Organization, Partner


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


# Lists filter by organization with a menu; past this many organizations a menu is too long to
# render or scroll, so the filter becomes a search by name.
ORGANIZATION_MENU_LIMIT = 200


def organization_filter_field(organizations) -> forms.Field:
    if organizations.order_by()[: ORGANIZATION_MENU_LIMIT + 1].count() <= ORGANIZATION_MENU_LIMIT:
        return forms.ModelChoiceField(
            label=_("Organization"), queryset=organizations, required=False, empty_label=_("All organizations")
        )
    return forms.CharField(
        label=_("Organization"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Organization name")}),
    )


def filter_by_organization(queryset, value, field: str = "organization"):
    """Apply an organization filter: a chosen organization (or its id), or part of a name."""
    if isinstance(value, Organization):
        return queryset.filter(**{field: value})
    if isinstance(value, int):
        return queryset.filter(**{f"{field}_id": value})
    if isinstance(value, str) and value.strip():
        return _filter_by_name(queryset, value.strip(), field)
    return queryset


def _filter_by_name(queryset, text: str, field: str):
    """The rows whose organization's name contains `text`. All organizations, of every partner, are
    asked first, so the answer is the same rows as the name join for any list: when none fits the
    list is empty, when one fits the list is its rows by id, an index walk instead of a join that
    sorts every row of the organizations whose name fits."""
    named = list(Organization.objects.filter(name__icontains=text).order_by().values_list("pk", flat=True)[:2])
    if not named:
        return queryset.none()
    if len(named) == 1:
        return queryset.filter(**{f"{field}_id": named[0]})
    return queryset.filter(**{f"{field}__name__icontains": text})
