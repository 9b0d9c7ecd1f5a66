"""Device backups (FR-1 … FR-4): the agent's credential for restic and its repository's creation,
the technician's policy, the runs the server asks agents for and what they report, the server's
upkeep of each repository, and restores."""

from __future__ import annotations

import base64
import binascii
import logging
import posixpath
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from secrets import token_urlsafe

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.access import policy as policy_rules
from portico.access.policy import Action
from portico.audit.services import record
from portico.backups import index, restic
from portico.backups.models import (
    BackupPolicy,
    BackupRepository,
    BackupRun,
    Conflict,
    EntryKind,
    RunKind,
    RunState,
    Snapshot,
)
from portico.devices.models import Device
from portico.identity.models import Membership
from portico.notifications import secrets
from portico.remote import services as remote
from portico.remote.models import AgentCredential

log = logging.getLogger(__name__)

# A run that reported nothing for this long has failed (its agent or its node died).
STALE_MINUTES = 15
# A run no agent took within this time fails: the device looked online but was not there.
UNTAKEN_MINUTES = 2
MAX_RESTORE_ITEMS = 100
SUMMARY_FIELDS = (
    "files_new", "files_changed", "files_unmodified", "data_added", "total_files_processed", "total_bytes_processed",
)


def agent_credential(authorization: str) -> AgentCredential | None:
    """The credential of `Authorization: Basic <device id>:<secret>` (restic's
    `rest:https://<device id>:<secret>@host/...`), checked by the one place that checks agents."""
    scheme, _space, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    device_id, colon, secret = pair.partition(":")
    if not colon or not device_id.isdigit():
        return None
    return remote.authenticate(f"Bearer {device_id}.{secret}")


def create_repository(credential: AgentCredential) -> BackupRepository:
    """The device's repository exists from now on (restic's `init`); again is the same repository."""
    device = credential.device
    with transaction.atomic():
        repository, created = BackupRepository.objects.get_or_create(device=device)
        if created:
            record(
                "backup.repository_created", obj=device, partner_id=device.partner_id,
                organization_id=device.organization_id, actor_email=f"agent of {device.name}"[:254],
            )
    return repository


# The policy (FR-1), chosen by a technician.


class BackupBusy(Exception):
    """The device already runs a backup or a restore."""


class DeviceOffline(Exception):
    """The device's agent is not connected: nothing can be asked of it now."""


@dataclass(frozen=True)
class PolicyChoice:
    paths: list[str]
    exclude: list[str]
    interval_hours: int
    start_time: time
    keep_last: int
    keep_daily: int
    keep_weekly: int
    keep_monthly: int


POLICY_FIELDS = tuple(PolicyChoice.__dataclass_fields__)


def _policy_snapshot(policy: BackupPolicy | None) -> dict:
    if policy is None:
        return {}
    values = {name: getattr(policy, name) for name in POLICY_FIELDS}
    values["start_time"] = str(values["start_time"])[:5]
    return values


def next_run(policy: BackupPolicy, after: datetime) -> datetime:
    """The first time of the policy's schedule later than `after`: its start time, then every interval."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(after.astimezone(zone).date(), policy.start_time, tzinfo=zone)
    step = timedelta(hours=policy.interval_hours)
    if start > after:
        start -= step * ((start - after) // step + 1)
    return start + step * ((after - start) // step + 1)


def set_policy(actor: Membership, device: Device, choice: PolicyChoice) -> BackupPolicy:
    """Enable backup of the device with these choices (or change them); audited."""
    _may_change(actor, device)
    with transaction.atomic():
        policy = BackupPolicy.objects.select_for_update().filter(device=device).first()
        before = _policy_snapshot(policy) | {"enabled": device.backup_enabled}
        if policy is None:
            # The repository's key: made here, sealed at rest, known to the agent only while restic runs.
            policy = BackupPolicy(device=device, password_sealed=secrets.encrypt(token_urlsafe(32)))
        for name in POLICY_FIELDS:
            setattr(policy, name, getattr(choice, name))
        policy.next_run_at = next_run(policy, timezone.now())
        policy.save()
        Device.objects.filter(pk=device.pk).update(backup_enabled=True)
        device.backup_enabled = True
        record(
            "backup.policy_changed", actor=actor, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id, before=before,
            after=_policy_snapshot(policy) | {"enabled": True},
        )
    return policy


def disable_backup(actor: Membership, device: Device) -> None:
    """No more scheduled backups; the repository and its snapshots stay, and can still be restored
    from by technicians (end users need backup enabled, PERM-2)."""
    _may_change(actor, device)
    with transaction.atomic():
        Device.objects.filter(pk=device.pk).update(backup_enabled=False)
        BackupPolicy.objects.filter(device=device).update(next_run_at=None)
        if device.backup_enabled:
            record(
                "backup.disabled", actor=actor, obj=device, partner_id=device.partner_id,
                organization_id=device.organization_id,
            )
        device.backup_enabled = False


def _may_change(actor: Membership, device: Device) -> None:
    if not policy_rules.can(actor, Action.VIEW, device):
        raise Http404
    if not policy_rules.can(actor, Action.CHANGE, device):
        raise PermissionDenied


# Runs: the server asks, the agent reports.


def _running(device_id: int) -> BackupRun | None:
    return BackupRun.objects.filter(device_id=device_id, state=RunState.RUNNING).first()


def _online(device: Device) -> bool:
    """Is the device's agent connected now (read afresh: the caller's copy may be old)?"""
    return AgentCredential.objects.filter(device_id=device.pk, revoked_at__isnull=True, device__online=True).exists()


def _note_result(device_id: int, run: BackupRun) -> None:
    values = {"last_run_at": run.created_at, "last_result": run.state, "last_message": run.message}
    if run.state in (RunState.SUCCEEDED, RunState.WARNING):
        values["last_success_at"] = run.finished_at
    BackupPolicy.objects.filter(device_id=device_id).update(**values)


def start_backup(device: Device, *, requested_by: Membership | None = None) -> BackupRun:
    """Ask the device's agent for a backup now. An offline device's scheduled backup is recorded
    as missed; one asked for by a person is refused (DeviceOffline)."""
    with transaction.atomic():
        BackupPolicy.objects.select_for_update().get(device=device)  # one start at a time per device
        if _running(device.pk) is not None:
            raise BackupBusy
        if not _online(device):
            if requested_by is not None:
                raise DeviceOffline
            run = BackupRun.objects.create(
                device=device, kind=RunKind.BACKUP, state=RunState.MISSED, finished_at=timezone.now(),
                message=str(_("The device was offline when its backup was due.")),
            )
            _note_result(device.pk, run)
            return run
        run = BackupRun.objects.create(device=device, kind=RunKind.BACKUP, manual=requested_by is not None,
                                       requested_by=requested_by)
        if requested_by is not None:
            record(
                "backup.started", actor=requested_by, obj=device, partner_id=device.partner_id,
                organization_id=device.organization_id, after={"run": run.pk},
            )
        transaction.on_commit(lambda: _deliver(run))
    return run


def _deliver(run: BackupRun) -> None:
    """Tell the node holding the device's connection that a run waits for it. If this reaches
    no one (the connection is on a node this process cannot reach, or a message is lost), that
    node's outbox finds the run within seconds (portico.remote.consumers)."""
    remote.tell_agent(run.device_id, {"type": "agent.command", "run": run.pk})


def undelivered(device_ids: set[int]) -> list[tuple[int, int]]:
    """(run, device) of the runs asked of these devices that no agent has taken yet."""
    waiting = BackupRun.objects.filter(state=RunState.RUNNING, sent_at__isnull=True).values_list("pk", "device_id")
    return [(run, device) for run, device in waiting if device in device_ids]


def instruction_for(run_id: int, device_id: int) -> dict | None:
    """The message that hands run `run_id` to the device's agent, once: the first caller takes
    the run (marks it sent); any later one gets None. The key is read here, from the database,
    so it never passes through the channel layer."""
    taken = BackupRun.objects.filter(
        pk=run_id, device_id=device_id, state=RunState.RUNNING, sent_at__isnull=True
    ).update(sent_at=timezone.now())
    if not taken:
        return None
    run = BackupRun.objects.get(pk=run_id)
    policy = BackupPolicy.objects.get(device_id=device_id)
    password = secrets.decrypt(policy.password_sealed)
    if run.kind == RunKind.BACKUP:
        return {
            "type": "backup.run", "job": str(run.pk), "password": password,
            "init": not BackupRepository.objects.filter(device_id=device_id).exists(),
            "paths": policy.paths, "exclude": policy.exclude,
        }
    return {
        "type": "restore.run", "job": str(run.pk), "password": password, "snapshot": run.snapshot_id,
        "items": run.items, "target": run.target or None, "conflict": run.conflict, "total_bytes": run.total_bytes,
    }


def start_due_backups(now: datetime | None = None) -> int:
    """Every policy whose time has come starts (or is recorded as missed); its next time is set."""
    now = now or timezone.now()
    started = 0
    due = BackupPolicy.objects.filter(next_run_at__lte=now, device__backup_enabled=True).select_related("device")
    for policy in due:
        BackupPolicy.objects.filter(pk=policy.pk).update(next_run_at=next_run(policy, now))
        try:
            start_backup(policy.device)
        except BackupBusy:
            continue
        started += 1
    return started


def _run_of(credential: AgentCredential, message: dict, kind: str) -> BackupRun | None:
    """The running run the message is about, if it is this device's."""
    return BackupRun.objects.select_for_update().filter(
        pk=int(message["job"]), device_id=credential.device_id, kind=kind, state=RunState.RUNNING
    ).first()


def _count(message: dict, name: str) -> int:
    value = message.get(name)
    return int(value) if isinstance(value, (int, float)) and value >= 0 else 0


def progress(credential: AgentCredential, message: dict) -> None:
    """`backup.progress` or `restore.progress`: the run's bar moves."""
    kind = RunKind.BACKUP if message["type"] == "backup.progress" else RunKind.RESTORE
    with transaction.atomic():
        run = _run_of(credential, message, kind)
        if run is None:
            return
        if kind == RunKind.BACKUP:
            fraction = message.get("percent")
            fraction = float(fraction) if isinstance(fraction, (int, float)) else 0.0
            run.total_bytes = _count(message, "total_bytes")
        else:
            fraction = _count(message, "bytes_done") / run.total_bytes if run.total_bytes else 0.0
        run.bytes_done = _count(message, "bytes_done")
        # 100 % is the result's to show: progress stops at 99.
        run.percent = max(run.percent, min(99, int(fraction * 100)))
        run.save(update_fields=["bytes_done", "total_bytes", "percent", "updated_at"])


def _texts(values: object, count: int, length: int) -> list[str]:
    return [str(value)[:length] for value in values[:count]] if isinstance(values, list) else []


def backup_done(credential: AgentCredential, message: dict) -> None:
    with transaction.atomic():
        run = _run_of(credential, message, RunKind.BACKUP)
        if run is None:
            return
        run.warnings = _texts(message.get("warnings"), 20, 500)
        run.state = RunState.WARNING if run.warnings else RunState.SUCCEEDED
        run.snapshot_id = str(message.get("snapshot", ""))[:64]
        run.summary = {name: _count(message, name) for name in SUMMARY_FIELDS}
        run.percent, run.finished_at = 100, timezone.now()
        run.message = "\n".join(run.warnings)[:2000]
        run.save()
        _note_result(credential.device_id, run)
        device_id = credential.device_id
        transaction.on_commit(lambda: _after_backup(device_id))


def backup_failed(credential: AgentCredential, message: dict) -> None:
    with transaction.atomic():
        run = _run_of(credential, message, RunKind.BACKUP)
        if run is None:
            return
        said = str(message.get("message") or _("The agent gave no reason."))
        # What the server saw itself (its storage full) comes first: restic only saw an HTTP error.
        _fail(run, f"{run.message}\n{said}"[:2000] if run.message else said[:2000])


def storage_full(device_id: int) -> None:
    """The backup storage refused a file of the device for want of space: its running backup
    will fail, and says why; the server's log tells the administrator."""
    log.error("backup storage full: a file of device %s could not be stored", device_id)
    BackupRun.objects.filter(device_id=device_id, kind=RunKind.BACKUP, state=RunState.RUNNING, message="").update(
        message=str(_("The backup storage on the server is full: no snapshot was made this time, and the "
                      "snapshots kept so far are intact. The server's administrator must free or add space."))
    )


def _fail(run: BackupRun, message: str) -> None:
    run.state, run.message, run.finished_at = RunState.FAILED, message, timezone.now()
    run.save()
    device = run.device
    if run.kind == RunKind.BACKUP:
        _note_result(run.device_id, run)
        record(
            "backup.failed", obj=device, partner_id=device.partner_id, organization_id=device.organization_id,
            actor=run.requested_by, actor_email="" if run.requested_by else f"agent of {device.name}"[:254],
            after={"run": run.pk, "message": message[:500]},
        )
    else:
        record(
            "backup.restore_failed", obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id, actor=run.requested_by,
            after={"run": run.pk, "message": message[:500]},
        )


def agent_disconnected(device_id: int) -> None:
    """The control connection closed: the device's runs cannot report any more."""
    with transaction.atomic():
        for run in BackupRun.objects.select_for_update().filter(device_id=device_id, state=RunState.RUNNING):
            _fail(run, str(_("The device disconnected before the backup finished.") if run.kind == RunKind.BACKUP
                           else _("The device disconnected before the restore finished.")))


def fail_stale_runs(now: datetime | None = None) -> int:
    """Runs that reported nothing for STALE_MINUTES (a server node that died holding the agent's
    connection, an agent that hung) fail, so the device can back up again."""
    now = now or timezone.now()
    quiet_since = now - timedelta(minutes=STALE_MINUTES)
    failed = 0
    with transaction.atomic():
        for run in BackupRun.objects.select_for_update().filter(state=RunState.RUNNING, updated_at__lt=quiet_since):
            _fail(run, str(_("The agent stopped reporting.")))
            failed += 1
        untaken = BackupRun.objects.select_for_update().filter(
            state=RunState.RUNNING, sent_at__isnull=True, created_at__lt=now - timedelta(minutes=UNTAKEN_MINUTES)
        )
        for run in untaken:
            _fail(run, str(_("The device's agent did not take the run: it may have lost its connection.")))
            failed += 1
    return failed


def _after_backup(device_id: int) -> None:
    from portico.backups.tasks import maintain_repository

    maintain_repository(device_id)


def maintain(device_id: int) -> None:
    """After a backup: index new snapshots, apply the retention policy (`forget --prune`, which the
    agent may not), drop forgotten snapshots from the index, and measure the repository."""
    policy = BackupPolicy.objects.select_related("device").get(device_id=device_id)
    device, password = policy.device, secrets.decrypt(policy.password_sealed)
    problems = []
    try:
        for snapshot in index.synchronise(device, password):
            # restic 0.14's summary names the snapshot by its short id; the run keeps the full one.
            BackupRun.objects.filter(
                device=device, kind=RunKind.BACKUP, snapshot_id__in=(snapshot.short_id, snapshot.snapshot_id)
            ).update(snapshot_id=snapshot.snapshot_id)
        keep = [
            f"--keep-{name.replace('_', '-')}={value}" for name in ("last", "daily", "weekly", "monthly")
            if (value := getattr(policy, f"keep_{name}"))
        ]
        if keep:
            restic.run(device.pk, password, "forget", "--prune", *keep)
        listed = restic.run_json(device.pk, password, "snapshots") or []
        index.forget_missing(device, {snapshot["id"] for snapshot in listed})
        stats = restic.run_json(device.pk, password, "stats", "--mode", "raw-data") or {}
    except restic.ResticError as error:
        problems.append(str(error))
        stats = {}
    newest = Snapshot.objects.filter(device=device).order_by("-seq").first()
    values: dict = {"source_bytes": newest.total_bytes if newest else None}
    if isinstance(stats, dict) and "total_size" in stats:
        values["stored_bytes"] = stats["total_size"]
    if problems:
        values["last_message"] = str(_("Backed up, but the server's upkeep of the repository failed: %(error)s")
                                     % {"error": problems[0]})[:2000]
    BackupPolicy.objects.filter(pk=policy.pk).update(**values)


# Restores (FR-2 … FR-4).


class RestoreRefused(Exception):
    """A restore that cannot be asked for as chosen; the message says why."""


def start_restore(
    actor: Membership, device: Device, snapshot: Snapshot, paths: list[str], target: str, conflict: str
) -> BackupRun:
    """Ask the agent to restore `paths` of `snapshot` to their place (target "") or into `target`.
    The caller found `device` through the policy (RESTORE); the snapshot must be the device's."""
    if snapshot.device_id != device.pk:
        raise Http404
    if conflict not in Conflict.values:
        raise RestoreRefused(_("Choose what happens to files that exist: overwrite, keep both or skip."))
    if target and (not target.startswith("/") or posixpath.normpath(target) != target.rstrip("/") or "\x00" in target):
        raise RestoreRefused(_("The destination must be a full folder path, like /home/ana/Restored."))
    items, total = [], 0
    for path in dict.fromkeys(paths):
        entry = index.entry_of(device, snapshot, path)
        if entry is None:
            raise RestoreRefused(_("%(path)s is not in this snapshot.") % {"path": path})
        if "\ufffd" in entry.path:
            raise RestoreRefused(_("%(path)s has a name that is not valid text; restore its folder instead.")
                                 % {"path": entry.path})
        items.append({"path": entry.path, "type": "dir" if entry.kind == EntryKind.DIR else "file"})
        total += index.bytes_under(device, snapshot, entry)
    if not items:
        raise RestoreRefused(_("Choose at least one file or folder."))
    if len(items) > MAX_RESTORE_ITEMS:
        raise RestoreRefused(_("Choose at most %(count)s files or folders at once; a folder restores all it holds.")
                             % {"count": MAX_RESTORE_ITEMS})
    with transaction.atomic():
        BackupPolicy.objects.select_for_update().get(device=device)
        if _running(device.pk) is not None:
            raise BackupBusy
        if not _online(device):
            raise DeviceOffline
        run = BackupRun.objects.create(
            device=device, kind=RunKind.RESTORE, manual=True, requested_by=actor, snapshot_id=snapshot.snapshot_id,
            items=items, target=target.rstrip("/") if target != "/" else target, conflict=conflict, total_bytes=total,
        )
        record(
            "backup.restore_started", actor=actor, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id,
            after={"run": run.pk, "snapshot": snapshot.snapshot_id, "items": [i["path"] for i in items][:20],
                   "target": run.target or "original place", "conflict": conflict},
        )
        transaction.on_commit(lambda: _deliver(run))
    return run


def restore_done(credential: AgentCredential, message: dict) -> None:
    with transaction.atomic():
        run = _run_of(credential, message, RunKind.RESTORE)
        if run is None:
            return
        run.summary = {name: _count(message, name) for name in ("restored", "overwritten", "kept_both", "skipped")}
        # The agent counts each file once, by what happened to it; all but the skipped are back.
        run.summary["placed"] = run.summary["restored"] + run.summary["overwritten"] + run.summary["kept_both"]
        run.state, run.percent, run.finished_at = RunState.SUCCEEDED, 100, timezone.now()
        run.bytes_done = run.total_bytes
        run.save()
        device = run.device
        record(
            "backup.restore_finished", actor=run.requested_by, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id, after={"run": run.pk, **run.summary},
        )


def restore_failed(credential: AgentCredential, message: dict) -> None:
    with transaction.atomic():
        run = _run_of(credential, message, RunKind.RESTORE)
        if run is None:
            return
        _fail(run, str(message.get("message") or _("The agent gave no reason."))[:2000])


def restore_refused(actor: Membership, details: dict, device: Device | None = None) -> None:
    """A restore asked for and refused is audited: a device out of reach, a path not in the
    snapshot, a destination that is not a full path."""
    with transaction.atomic():
        record(
            "backup.restore_refused", actor=actor, obj=device, partner_id=actor.partner_id,
            organization_id=device.organization_id if device else None, after=details,
        )


def downloaded(actor: Membership, device: Device, snapshot: Snapshot, path: str) -> None:
    """A file or folder of a snapshot leaves as a zip (FR-2): audited when it starts."""
    with transaction.atomic():
        record(
            "backup.downloaded", actor=actor, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id, after={"snapshot": snapshot.snapshot_id, "path": path},
        )
