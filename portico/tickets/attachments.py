"""Checking, storing and handing out ticket attachments (TK-1) through Django's storage API.

A file is accepted by its size and by the content type its name stands for, from an allow-list;
the stored name is random and the uploader's name is kept, cleaned, only for display and download.
"""

from __future__ import annotations

import logging
import mimetypes
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from portico.tickets.models import TicketAttachment

Download = TypeVar("Download", bound=HttpResponseBase)
logger = logging.getLogger(__name__)

MAX_FILES = 10
_NAME_LIMIT = 200


@dataclass
class Upload:
    name: str
    size: int
    file: File


def safe_name(name: str) -> str:
    """The last path part, without control characters, at most 200 characters; never empty."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > _NAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: _NAME_LIMIT - len(ext) - 1] + dot + ext) if dot and len(ext) <= 16 else name[:_NAME_LIMIT]
    return name or "attachment"


def content_type_of(name: str) -> str:
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def check(uploads: list[Upload]) -> list[tuple[Upload, str, str]]:
    """Each upload with its safe name and content type, or one ValidationError naming every problem."""
    errors = []
    if len(uploads) > MAX_FILES:
        errors.append(_("Attach at most %(count)d files at once.") % {"count": MAX_FILES})
    accepted = []
    for upload in uploads:
        name = safe_name(upload.name)
        content_type = content_type_of(name)
        if upload.size > settings.TICKET_ATTACHMENT_MAX_BYTES:
            errors.append(
                _("%(name)s is larger than %(limit)s.")
                % {"name": name, "limit": filesizeformat(settings.TICKET_ATTACHMENT_MAX_BYTES)}
            )
        elif content_type not in settings.TICKET_ATTACHMENT_TYPES:
            errors.append(_("%(name)s: files of this type are not accepted.") % {"name": name})
        elif upload.size == 0:
            errors.append(_("%(name)s is empty.") % {"name": name})
        else:
            accepted.append((upload, name, content_type))
    if errors:
        raise ValidationError({"attachments": errors})
    return accepted


def from_bytes(name: str, data: bytes) -> Upload:
    return Upload(name=name, size=len(data), file=ContentFile(data))


def download_response(attachment: TicketAttachment) -> FileResponse:
    """The file as a private download under its kept original name, for a caller that has already
    found it through the policy. A file missing from storage is logged and is a 404."""
    try:
        handle = attachment.file.open("rb")
    except OSError:
        logger.exception("Attachment %s of ticket %s is missing from storage", attachment.pk, attachment.ticket_id)
        raise Http404 from None
    return private_download(
        FileResponse(handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type)
    )


def private_download(response: Download) -> Download:
    """A file a person sent, served so that no browser or proxy treats it as anything else: never
    sniffed into HTML, never cached by a shared cache, and, should a browser still show it in a
    tab, running nothing and loading nothing."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
