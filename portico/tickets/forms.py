"""Forms of the end-user portal's ticket pages: the list's search and sorting, a new ticket, a comment.

The forms check the shape of what was sent; the services decide the rest (attachment sizes and
types, who may comment), and their errors are shown on these forms' fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from portico.tickets import attachments
from portico.tickets.attachments import MAX_FILES, Upload
from portico.tickets.models import TicketPriority
from portico.tickets.services import SUBJECT_LIMIT, TEXT_LIMIT

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SEARCH_LIMIT = 200

# Every ordering ends in the id, so a keyset cursor is exact when timestamps tie.
ORDERINGS = {
    "updated": ["-updated_at", "-id"],
    "newest": ["-id"],
    "oldest": ["id"],
    "priority": ["-priority", "-updated_at", "-id"],
}
SORT_CHOICES = [
    ("updated", _("Recently updated")),
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("priority", _("Most urgent first")),
]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files; each is judged by `attachments.check`, which names the file it refuses."""

    widget = MultipleFileInput

    def clean(self, data, initial=None) -> list[Upload]:
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        uploads = [Upload(name=f.name or "", size=f.size, file=f) for f in files if hasattr(f, "size")]
        # Checked here as well as in the service, so refused files are named beside the other fields' errors.
        try:
            attachments.check(uploads)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["attachments"]) from None
        return uploads


def attachments_field(help_text: StrOrPromise) -> MultipleFileField:
    """The optional files of a form; `help_text` tells the limits through %(count)d and %(size)s.

    Made with each form, so the limits read in the request's language and current settings.
    """
    return MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=help_text % {"count": MAX_FILES, "size": filesizeformat(settings.TICKET_ATTACHMENT_MAX_BYTES)},
    )


_ATTACHMENTS_HELP = _("Up to %(count)d files of %(size)s each: images, PDF, text and office documents.")


class TicketListForm(forms.Form):
    """Always bound to the query string; a value that does not fit is a field error and is left out."""

    q = forms.CharField(label=_("Search"), required=False, max_length=SEARCH_LIMIT)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def ordering(self) -> list[str]:
        return ORDERINGS[self.cleaned_data.get("sort") or "updated"]

    def search(self) -> str:
        return self.cleaned_data.get("q") or ""


class NewTicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_LIMIT)
    description = forms.CharField(
        label=_("Description"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, what you expected, and since when."),
    )
    # The model calls it priority; end users say how urgent it is for them.
    priority = forms.TypedChoiceField(
        label=_("Urgency"), coerce=int, choices=TicketPriority.choices, initial=TicketPriority.NORMAL
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = attachments_field(_ATTACHMENTS_HELP)


class CommentForm(forms.Form):
    # Optional here: a comment may be files alone; the service asks for text when there are none.
    body = forms.CharField(
        label=_("Your comment"), required=False, max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = attachments_field(_ATTACHMENTS_HELP)
