"""The CSV export pages (CSV-1): the confirmation, the export's own page with its progress, the
requester's list of exports, and the download behind the emailed link.

An export is its requester's alone: anyone else, and any other partner, finds no export here (404).
Requests go through `portico.reports.services`; these views only read.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import Membership, MembershipKind
from portico.identity.views import membership_required
from portico.reports import services
from portico.reports.exports import ExportKind, export_kind
from portico.reports.models import Export
from portico.tickets.attachments import private_download
from portico.web.pagination import page_of

PAGE_SIZE = 20
logger = logging.getLogger(__name__)


def _own_export(actor: Membership, pk: int) -> Export:
    """The actor's own export, or a 404: the same membership that asked for it, in its partner."""
    export = policy.restrict(Export.objects.select_related("job"), actor, Action.VIEW).filter(pk=pk).first()
    if export is None:
        raise Http404
    return export


def _described(kind: ExportKind | None, actor: Membership, params: dict) -> list[tuple[str, str]]:
    """The filters in words: the kind's own wording, or its params as they are."""
    if kind is not None and kind.describe is not None:
        return kind.describe(actor, params)
    return [(str(key), str(value)) for key, value in params.items()]


def _again(export: Export) -> str:
    """The confirmation page's query for the same export once more."""
    return urlencode({"kind": export.kind, **export.params})


@membership_required(MembershipKind.STAFF)
@require_http_methods(["GET", "POST"])
def request_export(request: HttpRequest) -> HttpResponse:
    """GET: what will be exported, and "Yes, continue"; POST: start it and show its page."""
    actor = request.membership
    data = request.POST if request.method == "POST" else request.GET
    kind = export_kind(data.get("kind", ""))
    if kind is None or not services.may_export(actor):
        raise Http404
    try:
        params, errors = kind.params(actor, data), []
    except ValidationError as exc:
        params, errors = {}, exc.messages
    if request.method == "POST" and not errors:
        export = services.request_export(actor, kind.key, params)
        return redirect("reports:export", export.pk)
    return render(
        request,
        "reports/exports/confirm.html",
        {
            "kind": kind,
            "params": params,
            "filters": _described(kind, actor, params) if not errors else [],
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@membership_required(MembershipKind.STAFF)
def export_list(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    if not policy.can_create(actor, Export):
        raise Http404
    exports = policy.restrict(Export.objects.select_related("job"), actor, Action.VIEW).order_by("-created_at", "-id")
    return render(request, "reports/exports/list.html", {"page": page_of(exports, request.GET.get("page"), PAGE_SIZE)})


@membership_required(MembershipKind.STAFF)
@require_http_methods(["GET", "POST"])
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The export's state, refreshed while it runs; POST downloads the file from here."""
    actor = request.membership
    export = _own_export(actor, pk)
    if request.method == "POST":
        return _serve(request, actor, export)
    context = {
        "export": export,
        "filters": _described(export_kind(export.kind), actor, export.params),
        "again": _again(export),
    }
    if request.headers.get("HX-Request"):
        return render(request, "reports/exports/state.html", context)
    return render(request, "reports/exports/detail.html", context)


@membership_required(MembershipKind.STAFF)
def export_download(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The emailed link: its requester only, with its token, until it expires (then 410)."""
    actor = request.membership
    export = _own_export(actor, pk)
    if not services.token_matches(export, token):
        raise Http404
    return _serve(request, actor, export)


def _serve(request: HttpRequest, actor: Membership, export: Export) -> HttpResponse:
    if export.expired:
        return render(request, "reports/exports/expired.html", {"export": export, "again": _again(export)}, status=410)
    if not export.ready:
        return redirect("reports:export", export.pk)
    try:
        handle = export.file.open("rb")
    except OSError:
        logger.exception("The file of export %s is missing from storage", export.pk)
        raise Http404 from None
    services.record_download(actor, export)
    # FileResponse names the file in Content-Disposition, with RFC 5987's filename* beyond ASCII.
    return private_download(
        FileResponse(handle, as_attachment=True, filename=export.filename, content_type="text/csv; charset=utf-8")
    )
