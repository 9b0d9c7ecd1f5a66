"""CSV exports (CSV-1): requesting one, the job that writes the file, handing it out, clearing old ones.

The job streams the kind's rows through Python's csv module into a temporary file and only then
stores it, so a failure leaves no half file; the requester is emailed a link carrying a random
token of which only the hash is kept. Every step is audited (AUD-1).
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
import re
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from datetime import timedelta
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portico.access import policy
from portico.audit.services import record
from portico.identity.models import Membership
from portico.jobs.models import Job
from portico.jobs.services import Progress, job_kind, start_job
from portico.notifications.services import queue_email
from portico.reports.exports import ExportKind, export_kind
from portico.reports.models import Export, hash_token

JOB_KIND = "reports.export"
# How long a finished export's link works: a long weekend, then the file is deleted.
EXPORT_TTL = timedelta(hours=72)
# Rows written between two looks at the progress.
PROGRESS_EVERY = 5000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a written cell may begin with one of them: after a comma or a line's end, or at the very
# start, maybe quoted. Each search starts from a plain character, which keeps it fast.
_AFTER_COMMA = re.compile(r',"?[=+\-@\t\r]')
_AFTER_LINE = re.compile(r'\n"?[=+\-@\t\r]')
_AT_START = re.compile(r'"?[=+\-@\t\r]')
_TOKEN_LIMIT = 128

logger = logging.getLogger(__name__)


class ExportRefused(Exception):
    """The job may not write the file; the message is for the requester."""


def may_export(actor: Membership | None) -> bool:
    """Exports are staff work: an enabled staff membership of a partner (the kind restricts the rows)."""
    return policy.can_create(actor, Export)


def request_export(actor: Membership, kind_key: str, params: dict) -> Export:
    """Queue the export of `kind_key` with `params` (already validated by the kind) for `actor`."""
    kind = export_kind(kind_key)
    if kind is None:
        raise ValidationError(_("There is no such export."))
    if not may_export(actor):
        raise PermissionDenied
    with translation.override(actor.person.language):
        title = str(kind.title)
    with transaction.atomic():
        job = start_job(JOB_KIND, created_by=actor)
        export = Export.objects.create(
            partner_id=actor.partner_id, requested_by=actor, kind=kind.key, params=params, job=job, title=title
        )
        record("export.requested", actor=actor, obj=export, partner_id=actor.partner_id,
               after={"kind": kind.key, "params": params})
    return export


def neutralised(row: Sequence[object]) -> list[object]:
    """The row with every text cell that a spreadsheet would run as a formula made plain text."""
    return [f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_START) else cell for cell in row]


def _write_batch(writer: Any, buffer: io.StringIO, out: io.TextIOBase, batch: list[Sequence[object]]) -> None:
    """Write the rows through the buffer; when a cell of the batch may start like a formula (a few
    searches over the batch's text, so a clean batch costs no look at each cell), write them again
    with their text cells neutralised."""
    buffer.seek(0)
    buffer.truncate()
    writer.writerows(batch)
    text = buffer.getvalue()
    if _AFTER_COMMA.search(text) or _AFTER_LINE.search(text) or _AT_START.match(text):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([neutralised(row) for row in batch])
        text = buffer.getvalue()
    out.write(text)


def write_csv(out: io.TextIOBase, columns: Sequence[str], rows: Iterable[Sequence[object]],
              total: int, progress: Progress | None = None) -> int:
    """Write the header and every row to `out`, a batch at a time, reporting progress; the number
    of rows written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    _write_batch(writer, buffer, out, [columns])
    written, shown = 0, -1
    rows = iter(rows)
    while batch := list(islice(rows, PROGRESS_EVERY)):
        _write_batch(writer, buffer, out, batch)
        written += len(batch)
        # The count was taken first; rows added since never make the bar pass 99 before the end.
        percent = min(99, written * 100 // total) if total else 99
        if progress is not None and percent != shown:
            progress(percent)
            shown = percent
    return written


def _requester(export: Export) -> Membership:
    """The requester as the database has them now: a disabled or removed one gets nothing."""
    actor = Membership.objects.select_related("person", "partner").filter(pk=export.requested_by_id).first()
    if not may_export(actor) or actor.partner_id != export.partner_id:
        raise ExportRefused(_("The access of the person who asked for this export is disabled."))
    return actor


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, ExportRefused):
        return str(exc)
    if isinstance(exc, ValidationError):
        return _("The filters of this export no longer apply: %(errors)s") % {"errors": " ".join(exc.messages)}
    return _("The file could not be written, and nothing was kept. Please export again.")


@job_kind(JOB_KIND)
def write_export(job: Job, progress: Progress) -> dict:
    """The job: write the file, store it, email the link. A failure is kept on the export, then raised."""
    export = Export.objects.select_related("requested_by__person").get(job=job)
    if export.file:
        return {"rows": export.row_count}  # a worker that died after finishing: done already
    language = export.requested_by.person.language
    try:
        with translation.override(language):
            actor = _requester(export)
            kind = export_kind(export.kind)
            if kind is None:
                raise ExportRefused(_("This kind of export is no longer offered."))
            return _write(export, kind, actor, progress)
    except Exception as exc:
        with translation.override(language):
            failure = _failure_message(exc)
        with transaction.atomic():
            Export.objects.filter(pk=export.pk).update(failure=failure[:500])
            record("export.failed", actor=export.requested_by, obj=export, partner_id=export.partner_id,
                   after={"kind": export.kind, "error": f"{exc.__class__.__name__}: {exc}"[:500]})
        raise


def _write(export: Export, kind: ExportKind, actor: Membership, progress: Progress) -> dict:
    now = timezone.now()
    total = kind.count(actor, export.params)
    filename = f"{kind.filename(actor, export.params, now)}.csv"
    with tempfile.TemporaryFile() as raw:
        # UTF-8 with a byte order mark, so spreadsheets read names in every language right.
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        rows = write_csv(text, kind.columns(), kind.rows(actor, export.params), total, progress)
        text.flush()
        text.detach()
        raw.seek(0)
        export.file.save(filename, File(raw, name=filename), save=False)
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            export.filename, export.row_count = filename, rows
            export.token_hash, export.expires_at = hash_token(token), timezone.now() + EXPORT_TTL
            export.save(update_fields=["file", "filename", "row_count", "token_hash", "expires_at"])
            _email_link(export, actor, token)
            record("export.completed", actor=actor, obj=export, partner_id=export.partner_id,
                   after={"kind": export.kind, "rows": rows, "filename": filename})
    except Exception:
        export.file.delete(save=False)
        raise
    return {"rows": rows}


def download_path(export: Export, token: str) -> str:
    return reverse("reports:download", args=[export.pk, token])


def _email_link(export: Export, actor: Membership, token: str) -> None:
    person = actor.person
    queue_email(
        to=person.email,
        template="reports/email/export_ready",
        context={
            "person": person,
            "export": export,
            "download_path": download_path(export, token),
            "export_path": reverse("reports:export", args=[export.pk]),
            "ttl_hours": int(EXPORT_TTL.total_seconds() // 3600),
        },
        language=person.language,
        partner=actor.partner,
    )


def token_matches(export: Export, token: str) -> bool:
    if not token or len(token) > _TOKEN_LIMIT or not export.token_hash:
        return False
    return hmac.compare_digest(hash_token(token), export.token_hash)


def record_download(actor: Membership, export: Export) -> None:
    """The requester takes the file: audited every time (AUD-1)."""
    with transaction.atomic():
        export.downloaded_at = timezone.now()
        export.save(update_fields=["downloaded_at"])
        record("export.downloaded", actor=actor, obj=export, partner_id=export.partner_id,
               after={"kind": export.kind, "filename": export.filename})


def delete_expired_files() -> int:
    """Remove the files whose link has expired; the export stays listed as expired. How many went."""
    done = 0
    for export in Export.objects.filter(expires_at__lte=timezone.now()).exclude(file="").only("pk", "file"):
        export.file.delete(save=False)
        Export.objects.filter(pk=export.pk).update(file="")
        done += 1
    return done
