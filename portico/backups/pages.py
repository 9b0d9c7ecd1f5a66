"""Pages of device backups: browsing, searching, restoring and downloading (FR-2 … FR-4), for the
end user (portal) and the technician (console) alike, and the technician's policy (FR-1).

Every page finds its device through the policy's RESTORE rule (PERM-2, PERM-4: assigned, the
right for its OS, backup enabled; technicians within their groups): anything else is a 404."""

from __future__ import annotations

import asyncio
import posixpath
import re
from collections.abc import AsyncIterator

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portico.access import policy
from portico.access.catalog import DeviceAction
from portico.access.policy import Action
from portico.backups import index, restic, services
from portico.backups.forms import PolicyForm, RestoreForm
from portico.backups.models import BackupPolicy, BackupRun, RunKind, RunState, Snapshot
from portico.devices.models import Device
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.notifications import secrets
from portico.web.pagination import page_of

PROBLEMS = (RunState.FAILED, RunState.MISSED)
FOLDER_PAGE = 100
SEARCH_PAGE = 50
MAX_SEARCH = 200


def _area(request: HttpRequest) -> str:
    area = "console" if request.membership.kind == MembershipKind.STAFF else "portal"
    if not request.path.startswith(f"/{area}/"):
        raise Http404
    return area


def _restorable_device(request: HttpRequest, pk: int) -> Device:
    reachable = policy.restrict(
        Device.objects.select_related("organization", "backup_policy"), request.membership, DeviceAction.RESTORE
    )
    device = get_object_or_404(reachable, pk=pk)
    if not BackupPolicy.objects.filter(device=device).exists():
        raise Http404
    return device


def _folder_path(text: str | None) -> str:
    """A folder of the snapshot as asked for; anything that is not a tidy absolute path is the root."""
    if not text or not text.startswith("/") or "\x00" in text:
        return "/"
    tidy = posixpath.normpath(text)
    return tidy if tidy == text.rstrip("/") or text == "/" else "/"


def _crumbs(path: str) -> list[tuple[str, str]]:
    crumbs, current = [("/", "/")], ""
    for part in path.strip("/").split("/") if path != "/" else []:
        current = f"{current}/{part}"
        crumbs.append((part, current))
    return crumbs


@never_cache
@membership_required()
@require_http_methods(["GET", "POST"])
def browse(request: HttpRequest, pk: int) -> HttpResponse:
    """A snapshot's folder, or the search of names across snapshots; choose items and restore."""
    area = _area(request)
    try:
        device = _restorable_device(request, pk)
    except Http404:
        if request.method == "POST":
            services.restore_refused(request.membership, {"device": pk, "reason": "out of reach"})
        raise
    snapshots = list(Snapshot.objects.filter(device=device).order_by("-seq")[:500])
    by_id = {snapshot.snapshot_id: snapshot for snapshot in snapshots}
    asked = request.POST.get("snapshot") or request.GET.get("snapshot")
    snapshot = by_id.get(asked or "") or (snapshots[0] if snapshots and not asked else None)
    if asked and snapshot is None:
        raise Http404  # another device's snapshot, or one forgotten: as if it never existed
    path = _folder_path(request.POST.get("path") or request.GET.get("path"))
    # A NUL would end the pattern early in SQLite and is refused by PostgreSQL; no name holds one.
    query = (request.GET.get("q") or "").replace("\x00", "").strip()[:MAX_SEARCH]
    selected = request.POST.getlist("paths") if request.method == "POST" else request.GET.getlist("select")
    form = RestoreForm(request.POST if request.method == "POST" else None, choices=selected)
    if request.method == "POST" and snapshot is not None and form.is_valid():
        try:
            run = services.start_restore(
                request.membership, device, snapshot, form.cleaned_data["paths"], form.cleaned_data["target"],
                form.cleaned_data["conflict"],
            )
        except services.RestoreRefused as refusal:
            form.add_error(None, str(refusal))
            services.restore_refused(request.membership, {"device": device.pk, "reason": str(refusal)[:500]}, device)
        except services.DeviceOffline:
            form.add_error(None, _("%(name)s is offline: the restore can start once its agent is back.") % {"name": device.name})
        except services.BackupBusy:
            form.add_error(None, _("%(name)s is busy with another backup or restore; try again when it is done.") % {"name": device.name})
        else:
            return redirect(f"backups:{area}_run", pk=device.pk, run=run.pk)
    context = {
        "device": device, "area": area, "snapshots": snapshots, "snapshot": snapshot, "path": path,
        "crumbs": _crumbs(path), "query": query, "form": form, "selected": set(selected),
        "back_url": reverse("devices:detail", args=[device.pk]) if area == "console" else reverse("remote:my_devices"),
    }
    if query:
        by_seq = {s.seq: s for s in snapshots}
        newest = snapshots[0].seq if snapshots else 0
        page = page_of(index.search(device, query), request.GET.get("page"), SEARCH_PAGE)
        for entry in page:
            entry.newest = by_seq.get(entry.last_seq or newest)
            entry.oldest = by_seq.get(entry.first_seq)
        context["page"] = page
    elif snapshot is not None:
        context["page"] = page_of(index.folder(device, snapshot, path), request.GET.get("page"), FOLDER_PAGE)
    return render(request, "backups/browse.html", context)


def _run_of(request: HttpRequest, device: Device, run_pk: int) -> BackupRun:
    runs = BackupRun.objects.filter(device=device, kind=RunKind.RESTORE)
    if request.membership.kind != MembershipKind.STAFF:
        runs = runs.filter(requested_by=request.membership)  # an end user follows only their own restores
    return get_object_or_404(runs, pk=run_pk)


@never_cache
@membership_required()
def run_page(request: HttpRequest, pk: int, run: int) -> HttpResponse:
    """A restore's progress (FR-4), refreshed every second while it runs."""
    area = _area(request)
    device = _restorable_device(request, pk)
    context = {"device": device, "run": _run_of(request, device, run), "area": area}
    if request.headers.get("HX-Request"):
        return render(request, "backups/run_state.html", context)
    return render(request, "backups/run.html", context)


SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@membership_required()
def download(request: HttpRequest, pk: int, snapshot: str) -> HttpResponse:
    """A file or folder of a snapshot as a zip, streamed from `restic dump --archive zip` (FR-2)."""
    _area(request)
    device = _restorable_device(request, pk)
    chosen = get_object_or_404(Snapshot, device=device, snapshot_id=snapshot)
    path = request.GET.get("path") or "/"
    if path != "/" and index.entry_of(device, chosen, path) is None:
        raise Http404
    password = secrets.decrypt(BackupPolicy.objects.get(device=device).password_sealed)
    argv, env = restic.command(device.pk, password, "dump", "--archive", "zip", chosen.snapshot_id, path)
    services.downloaded(request.membership, device, chosen, path)
    base = SAFE_NAME.sub("-", posixpath.basename(path) or device.name).strip("-") or "backup"
    stamp = timezone.localtime(chosen.taken_at).strftime("%Y-%m-%d-%H%M")
    response = StreamingHttpResponse(_stream(argv, env), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{base}-{stamp}.zip"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


async def _stream(argv: list[str], env: dict[str, str]) -> AsyncIterator[bytes]:
    """restic's stdout as it comes; restic is stopped if the browser goes away."""
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert process.stdout is not None
    try:
        while chunk := await process.stdout.read(256 * 1024):
            yield chunk
        await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


# The technician's side (FR-1).


def _managed_device(request: HttpRequest, pk: int) -> Device:
    device = get_object_or_404(policy.restrict(Device.objects.all(), request.membership, Action.VIEW), pk=pk)
    if not policy.can(request.membership, Action.CHANGE, device):
        raise PermissionDenied
    return device


@never_cache
@membership_required(MembershipKind.STAFF)
@require_http_methods(["GET", "POST"])
def policy_page(request: HttpRequest, pk: int) -> HttpResponse:
    device = _managed_device(request, pk)
    current = BackupPolicy.objects.filter(device=device).first()
    form = PolicyForm(request.POST or None, instance=current or BackupPolicy(device=device))
    if request.method == "POST" and form.is_valid():
        choice = services.PolicyChoice(
            paths=form.cleaned_data["paths_text"], exclude=form.cleaned_data["exclude_text"],
            **{name: form.cleaned_data[name] for name in PolicyForm.Meta.fields},
        )
        services.set_policy(request.membership, device, choice)
        messages.success(request, _("Backup of %(name)s is on.") % {"name": device.name})
        return redirect("devices:detail", pk=device.pk)
    return render(request, "backups/policy.html", {"device": device, "form": form, "policy": current})


@require_POST
@membership_required(MembershipKind.STAFF)
def disable(request: HttpRequest, pk: int) -> HttpResponse:
    device = _managed_device(request, pk)
    services.disable_backup(request.membership, device)
    messages.success(request, _("Backup of %(name)s is off. Its snapshots are kept.") % {"name": device.name})
    return redirect("devices:detail", pk=device.pk)


@require_POST
@membership_required(MembershipKind.STAFF)
def back_up_now(request: HttpRequest, pk: int) -> HttpResponse:
    device = _managed_device(request, pk)
    if not device.backup_enabled:
        raise Http404
    try:
        services.start_backup(device, requested_by=request.membership)
    except services.DeviceOffline:
        messages.error(request, _("%(name)s is offline: its backup starts when it is due and online.") % {"name": device.name})
    except services.BackupBusy:
        messages.info(request, _("%(name)s is already backing up or restoring.") % {"name": device.name})
    else:
        messages.success(request, _("Backup of %(name)s started.") % {"name": device.name})
    return redirect("devices:detail", pk=device.pk)


def device_card(device: Device) -> dict:
    """What the device page shows of its backups: policy, health, and the latest runs."""
    return {
        "backup_policy": BackupPolicy.objects.filter(device=device).first(),
        "backup_runs": list(BackupRun.objects.filter(device=device).select_related("requested_by__person")
                            .order_by("-created_at")[:5]),
        "snapshot_count": Snapshot.objects.filter(device=device).count(),
    }




def organization_health(actor, organization_id: int) -> dict:
    """The organization's overview (issue 7, item 5): its devices the actor sees, how many are
    backed up, and how many failed or missed their last backup; one query."""
    devices = policy.restrict(Device.objects.filter(organization_id=organization_id), actor, Action.VIEW)
    return devices.aggregate(
        devices=Count("pk"),
        backed_up=Count("pk", filter=Q(backup_enabled=True)),
        problems=Count("pk", filter=Q(backup_enabled=True, backup_policy__last_result__in=PROBLEMS)),
    )
