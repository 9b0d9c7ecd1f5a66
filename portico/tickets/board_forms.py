"""Forms of the technicians' ticket board (TK-5, TK-6): the filter bar, a ticket opened for an end
user, a reply or internal note, status / priority / assignee, a move, and held inbound mail.

The forms check the shape of what was sent and resolve ids only among what the policy lets the
technician see; the services decide the rest, and their errors are shown on these forms' fields.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from portico.tenancy.forms import ORGANIZATION_MENU_LIMIT, organization_filter_field
from portico.tickets.forms import ORDERINGS, SORT_CHOICES, attachments_field
from portico.tickets.models import InboundState, TicketPriority, TicketStatus
from portico.tickets.services import SUBJECT_LIMIT, TEXT_LIMIT

SEARCH_LIMIT = 200
# A menu of people or organizations longer than this is neither quick to render nor to use.
MENU_LIMIT = ORGANIZATION_MENU_LIMIT
MAX_ID = 2**63

# The board's status filter: the open ones (default), any, or one status.
ACTIVE, ANY_STATUS = "active", "all"
STATUS_FILTERS = [(ACTIVE, _("Not closed")), (ANY_STATUS, _("Any status")), *TicketStatus.choices]
ME, NOBODY = "me", "none"

PUBLIC, INTERNAL = "public", "internal"


def as_id(value) -> int | None:
    """A positive database id from text ("42", " #42 "), or None."""
    text = str(value or "").strip().lstrip("#").strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number < MAX_ID else None


def _clean_text(value: str) -> str:
    return (value or "").replace("\x00", "").strip()


def person_label(member) -> str:
    person = member.person
    return person.email if person.full_name == person.email else f"{person.full_name} · {person.email}"


def matching_people(people: QuerySet, text: str) -> QuerySet:
    """Memberships whose name or email holds every word of `text`."""
    for word in _clean_text(text).split()[:4]:
        people = people.filter(
            Q(person__email__icontains=word) | Q(person__first_name__icontains=word) | Q(person__last_name__icontains=word)
        )
    return people


_ATTACHMENTS_HELP = _("Up to %(count)d files of %(size)s each.")


class BoardFilterForm(forms.Form):
    """Always bound to the query string, so a bookmarked board reopens as it was; a value that does
    not fit is a field error and is left out of the filter."""

    q = forms.CharField(label=_("Search"), required=False, max_length=SEARCH_LIMIT)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_FILTERS)
    priority = forms.TypedChoiceField(
        label=_("Priority"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any priority")), *TicketPriority.choices],
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    requester = forms.CharField(
        label=_("Requester"), required=False, max_length=SEARCH_LIMIT,
        widget=forms.TextInput(attrs={"placeholder": _("Name or email")}),
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, data, *, organizations: QuerySet, technicians: list, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["organization"] = organization_filter_field(organizations)
        self.fields["assignee"].choices = [
            ("", _("Any assignee")), (ME, _("Assigned to me")), (NOBODY, _("Unassigned")),
            *((str(m.pk), m.person.full_name) for m in technicians),
        ]
        self.order_fields(["q", "status", "priority", "assignee", "organization", "requester", "sort"])

    def clean_q(self) -> str:
        return _clean_text(self.cleaned_data["q"])

    def clean_requester(self) -> str:
        return _clean_text(self.cleaned_data["requester"])

    def value(self, name: str):
        """The field's cleaned value, or None when it was left out or did not fit."""
        return getattr(self, "cleaned_data", {}).get(name)

    def status_filter(self) -> str:
        return self.value("status") or ACTIVE

    def ordering(self) -> list[str]:
        return ORDERINGS[self.value("sort") or "updated"]


class _LookupField(forms.CharField):
    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.Select):
            attrs.pop("maxlength", None)
        return attrs


class EndUserField(_LookupField):
    """One end user among `people`: chosen from a menu when they are few, else typed as an email
    address; an id works in both (links carry it)."""

    def __init__(self, *, people: QuerySet, menu: bool, **kwargs):
        self.people = people
        kwargs.setdefault("max_length", 254)
        if menu:
            options = [("", _("Keep the requester"))] + [
                (str(m.pk), person_label(m)) for m in people.order_by("person__last_name", "person__first_name", "pk")
            ]
            kwargs["widget"] = forms.Select(choices=options)
        else:
            kwargs["widget"] = forms.TextInput(attrs={"placeholder": _("Email address of the end user")})
        super().__init__(**kwargs)

    def clean(self, value):
        text = _clean_text(super().clean(value))
        if not text:
            return None
        number = as_id(text)
        found = (
            self.people.filter(pk=number) if number is not None else self.people.filter(person__email__iexact=text)
        ).select_related("person", "organization").first()
        if found is None:
            raise forms.ValidationError(_("None of your end users here has this address."), code="unknown")
        return found


class OrganizationField(_LookupField):
    """One organization among `organizations`: a menu up to 200 of them, past that its exact name
    (or its number) typed in."""

    def __init__(self, *, organizations: QuerySet, menu: bool, **kwargs):
        self.organizations = organizations
        kwargs.setdefault("max_length", 200)
        if menu:
            kwargs["widget"] = forms.Select(choices=[(str(o.pk), o.name) for o in organizations.order_by("name", "pk")])
        else:
            kwargs["widget"] = forms.TextInput(attrs={"placeholder": _("Organization name")})
        super().__init__(**kwargs)

    def clean(self, value):
        text = _clean_text(super().clean(value))
        if not text:
            return None
        number = as_id(text)
        if number is not None:
            found = list(self.organizations.filter(pk=number)[:1])
        else:
            found = list(self.organizations.filter(name__iexact=text)[:2])
        if len(found) > 1:
            raise forms.ValidationError(
                _("Several of your organizations have this name: enter its number instead."), code="ambiguous"
            )
        if not found:
            raise forms.ValidationError(_("Choose one of your organizations."), code="unknown")
        return found[0]


def _short(queryset: QuerySet) -> bool:
    return queryset.order_by()[: MENU_LIMIT + 1].count() <= MENU_LIMIT


class BoardTicketForm(forms.Form):
    """A ticket a technician opens on behalf of an end user (TK-6)."""

    requester = forms.ModelChoiceField(
        label=_("Requester"), queryset=None, empty_label=None, widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_LIMIT)
    description = forms.CharField(label=_("Description"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 6}))
    priority = forms.TypedChoiceField(
        label=_("Priority"), coerce=int, choices=TicketPriority.choices, initial=TicketPriority.NORMAL
    )

    def __init__(self, *args, people: QuerySet, candidates: list, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["requester"]
        # Any end user in reach is accepted; the menu shows only the search's few.
        field.queryset = people
        field.error_messages["invalid_choice"] = _("Choose one of your end users.")
        field.widget.choices = [(m.pk, f"{person_label(m)} · {m.organization.name}") for m in candidates]
        self.fields["attachments"] = attachments_field(_ATTACHMENTS_HELP)


class ReplyForm(forms.Form):
    visibility = forms.ChoiceField(
        label=_("Send as"), widget=forms.RadioSelect(attrs={"class": "form-check-input"}), initial=PUBLIC,
        choices=[(PUBLIC, _("Public reply (emailed to the requester)")), (INTERNAL, _("Internal note (technicians only)"))],
    )
    # Optional here: a reply may be files alone; the service asks for text when there are none.
    body = forms.CharField(label=_("Message"), required=False, max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = attachments_field(_ATTACHMENTS_HELP)

    @property
    def internal(self) -> bool:
        return self.cleaned_data["visibility"] == INTERNAL


class TicketEditForm(forms.Form):
    """Status, priority and assignee; `workers` are the technicians who may work the ticket."""

    status = forms.ChoiceField(label=_("Status"), choices=TicketStatus.choices)
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int, choices=TicketPriority.choices)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)

    def __init__(self, *args, ticket, workers: list, **kwargs):
        kwargs["initial"] = {"status": ticket.status, "priority": ticket.priority, "assignee": str(ticket.assignee_id or "")}
        super().__init__(*args, **kwargs)
        self.workers = {str(m.pk): m for m in workers}
        choices = [("", _("Nobody"))] + [(pk, m.person.full_name) for pk, m in self.workers.items()]
        if ticket.assignee_id and str(ticket.assignee_id) not in self.workers:
            # Kept, so saving a new status does not unassign them as a side effect.
            label = _("%(name)s (cannot work this ticket)") % {"name": ticket.assignee.person.full_name}
            choices.append((str(ticket.assignee_id), label))
        self.fields["assignee"].choices = choices


class MoveForm(forms.Form):
    """TK-5: another organization of the technician's, and in the same step, when needed, a
    requester of that organization. After a refusal the requester field lists the people of the
    organization just chosen."""

    def __init__(self, *args, organizations: QuerySet, end_users: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"] = OrganizationField(
            label=_("Move to organization"), organizations=organizations, menu=_short(organizations)
        )
        self.target = self._posted_organization()
        people = end_users.filter(organization=self.target) if self.target else end_users
        self.fields["requester"] = EndUserField(
            label=_("New requester"), required=False, people=people,
            menu=self.target is not None and _short(people),
            help_text=(
                _("An end user of %(organization)s.") % {"organization": self.target.name}
                if self.target else _("Only needed when the requester has no access to the new organization.")
            ),
        )

    def _posted_organization(self):
        if not self.is_bound:
            return None
        field = self.fields["organization"]
        try:
            return field.clean(field.widget.value_from_datadict(self.data, self.files, self.add_prefix("organization")))
        except forms.ValidationError:
            return None


HELD_FILTERS = [
    (InboundState.HELD, _("Held for a technician")),
    (InboundState.PLACED, _("Added to a ticket")),
    (InboundState.IGNORED, _("Ignored or dismissed")),
    (InboundState.DUPLICATE, _("Already received")),
    (ANY_STATUS, _("All messages")),
]


class HeldMailFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=HELD_FILTERS)

    def state_filter(self) -> str:
        return (getattr(self, "cleaned_data", {}).get("state")) or InboundState.HELD


class AddToTicketForm(forms.Form):
    ticket = forms.CharField(
        label=_("Ticket number"), max_length=24, widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "#"})
    )

    def clean_ticket(self) -> int:
        number = as_id(self.cleaned_data["ticket"])
        if number is None:
            raise forms.ValidationError(_("Enter a ticket number."), code="invalid")
        return number
