"""Ticket attachments for the pages (TK-1, TK-6; the API serves them by the same rule and response):
looked up through a ticket the signed-in membership may see, so a guessed id of another ticket is a 404, and an internal note's
files are a 404 for end users. Also the body limit of the pages that receive attachments."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from portico.access import policy
from portico.access.policy import Action
from portico.identity.views import membership_required
from portico.tickets.attachments import MAX_FILES, download_response
from portico.tickets.models import TicketAttachment
from portico.tickets.services import visible_ticket

# Django's default bound of a request's non-file fields, when the setting says "no bound".
_TEXT_FIELDS_BYTES = 2_621_440


def upload_limit() -> int:
    """The largest body a page with attachments accepts: every file at its limit, and the text fields."""
    return MAX_FILES * settings.TICKET_ATTACHMENT_MAX_BYTES + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or _TEXT_FIELDS_BYTES)


def limit_upload_body(view):
    """Answer 413 to a body over `upload_limit()` before anything reads it.

    Django spools files of any size to disk and has no bound of its own on a whole request. The
    CSRF check reads the body, so it runs inside, after the size check (Django's documented pattern
    for views that must act before an upload is parsed).
    """
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > upload_limit():
            context = {"limit": upload_limit(), "back": request.path}
            return render(request, "tickets/portal/too_large.html", context, status=413)
        return protected(request, *args, **kwargs)

    return wrapper


@membership_required()
def download(request: HttpRequest, ticket_pk: int, pk: int) -> FileResponse:
    ticket = visible_ticket(request.membership, ticket_pk)
    attachment = (
        policy.restrict(TicketAttachment.objects.filter(ticket=ticket), request.membership, Action.VIEW)
        .filter(pk=pk)
        .first()
        if 0 < pk < 2**63
        else None
    )
    if attachment is None:
        raise Http404
    return download_response(attachment)


urlpatterns = [
    path("tickets/<int:ticket_pk>/attachments/<int:pk>/", download, name="attachment"),
]
