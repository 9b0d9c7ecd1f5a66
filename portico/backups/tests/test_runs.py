"""Backups and restores as the server runs them (FR-1 … FR-4; docs/agent-protocol.md "Backups
and restores"): Portico served by uvicorn, an agent speaking the protocol from a script and
backing up with the real restic through the REST endpoint, the server's own restic indexing and
keeping the repository, and the pages an end user and a technician use. The real agent's side is
in agent/tests and test_backup_agent.py."""

from __future__ import annotations

import asyncio
import io
import json
import urllib.request
import zipfile
from datetime import UTC, datetime, time, timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from websockets.asyncio.client import connect

from portico import seed
from portico.access.catalog import BACKUP_RESTORE
from portico.audit.models import AuditEvent
from portico.backups import services
from portico.backups.models import BackupPolicy, BackupRun, RunState, Snapshot
from portico.backups.tests.support import Restic
from portico.remote.tests.support import run, until
from tests.support import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def choice(paths: list[str], **changes) -> services.PolicyChoice:
    values = dict(paths=paths, exclude=["*.tmp"], interval_hours=24, start_time=time(1, 0), keep_last=2,
                  keep_daily=0, keep_weekly=0, keep_monthly=0)
    return services.PolicyChoice(**(values | changes))


class World:
    def __init__(self, server, client, admin, user, device, secret, home, restic_binary, cache):
        self.server, self.client, self.admin, self.user, self.device = server, client, admin, user, device
        self.header = f"Bearer {device.pk}.{secret}"
        self.home = home
        self.restic = Restic(
            restic_binary, f"rest:http://{device.pk}:{secret}@127.0.0.1:{server.port}/backups/v1/{device.pk}/", cache
        )

    def control(self):
        return connect(self.server.ws_url + "/agent/v1/control", additional_headers={"Authorization": self.header})

    def back_up_as_the_agent(self, instruction: dict) -> dict:
        """What the agent does with `backup.run`: restic with the key it was given, its summary."""
        self.restic.env["RESTIC_PASSWORD"] = instruction["password"]
        if instruction["init"]:
            initialised = self.restic("init")
            assert initialised.returncode == 0, initialised.stderr
        excludes = [arg for pattern in instruction["exclude"] for arg in ("--exclude", pattern)]
        done = self.restic("backup", "--json", *excludes, *instruction["paths"])
        assert done.returncode == 0, done.stderr
        return next(json.loads(line) for line in done.stdout.splitlines() if '"summary"' in line)


@pytest.fixture
def world(asgi_server, client, admin, user_org, enrol, restic, tmp_path):
    device, secret = enrol("emma-laptop")
    seed.assign(user_org, device)
    seed.grant(user_org, BACKUP_RESTORE)
    home = tmp_path / "home" / "emma"
    (home / "Documents").mkdir(parents=True)
    (home / "Documents" / "report.odt").write_bytes(b"quarterly figures\n" * 100)
    (home / "Documents" / "notes.txt").write_text("call the bank\n")
    (home / "scratch.tmp").write_text("excluded\n")
    services.set_policy(admin, device, choice([str(home)]))
    sign_in(client, user_org)
    return World(asgi_server, client, admin, user_org, device, secret, home, restic, tmp_path / "cache")


async def _welcomed(world: World):
    control = await world.control()
    assert json.loads(await control.recv())["type"] == "welcome"
    return control


async def _receive(control, kind: str) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(control.recv(), 20))
        if message["type"] == kind:
            return message


async def _backup(world: World, control) -> tuple[BackupRun, dict]:
    run_ = await database_sync_to_async(services.start_backup)(world.device, requested_by=world.admin)
    instruction = await _receive(control, "backup.run")
    assert instruction["job"] == str(run_.pk)
    summary = await asyncio.to_thread(world.back_up_as_the_agent, instruction)
    await control.send(json.dumps({"type": "backup.progress", "job": instruction["job"], "percent": 0.5,
                                   "bytes_done": 10, "total_bytes": 20}))
    await control.send(json.dumps({"type": "backup.done", "job": instruction["job"], "snapshot": summary["snapshot_id"],
                                   "files_new": summary["files_new"], "warnings": []}))
    return run_, instruction


def test_a_backup_is_asked_run_indexed_and_shown(world):
    """FR-1: the technician's policy reaches the agent; its snapshot is indexed and the device's
    health shows it."""

    async def scenario():
        control = await _welcomed(world)
        async with control:
            return await _backup(world, control)

    run_, instruction = run(scenario)
    assert instruction["init"] is True and instruction["paths"] == [str(world.home)]
    assert instruction["exclude"] == ["*.tmp"] and len(instruction["password"]) >= 32
    # The key is the policy's, sealed at rest.
    policy = BackupPolicy.objects.get(device=world.device)
    assert instruction["password"] not in policy.password_sealed

    snapshot = until(lambda: Snapshot.objects.filter(device=world.device).first())
    finished = BackupRun.objects.get(pk=run_.pk)
    assert (finished.state, finished.percent, finished.snapshot_id) == (RunState.SUCCEEDED, 100, snapshot.snapshot_id)
    policy = until(lambda: BackupPolicy.objects.filter(device=world.device, stored_bytes__isnull=False).first())
    assert policy.last_result == RunState.SUCCEEDED and policy.health == "ok"
    assert policy.source_bytes == len(b"quarterly figures\n" * 100) + len("call the bank\n")
    assert snapshot.file_count == 2  # scratch.tmp excluded

    technician = sign_in(Client(), world.admin)
    page = technician.get(reverse("devices:detail", args=[world.device.pk]))
    assert page.context["backup_policy"].last_result == RunState.SUCCEEDED
    assert b'data-backup-health="ok"' in page.content
    listing = technician.get(reverse("devices:list"), {"backup": "on"})
    assert world.device in list(listing.context["page"])
    assert world.device not in list(technician.get(reverse("devices:list"), {"backup": "problem"}).context["page"])


def test_an_end_user_searches_restores_with_keep_both_and_downloads_a_zip(world):
    """FR-2, FR-3, FR-4: browse, search, restore to the original place keeping both, progress to
    100 %, the result audited; a folder as a zip of the snapshot's bytes."""
    documents = world.home / "Documents"

    async def scenario():
        control = await _welcomed(world)
        async with control:
            await _backup(world, control)
            snapshot = await asyncio.to_thread(until, lambda: Snapshot.objects.filter(device=world.device).first())

            found = await asyncio.to_thread(
                world.client.get, reverse("backups:portal_browse", args=[world.device.pk]), {"q": "REPO"}
            )
            assert [e.path for e in found.context["page"]] == [str(documents / "report.odt")]
            browsed = await asyncio.to_thread(
                world.client.get, reverse("backups:portal_browse", args=[world.device.pk]),
                {"snapshot": snapshot.snapshot_id, "path": str(documents), "select": str(documents / "report.odt")},
            )
            assert [e.name for e in browsed.context["page"]] == ["notes.txt", "report.odt"]
            assert str(documents / "report.odt") in browsed.context["selected"]

            posted = await asyncio.to_thread(world.client.post, reverse("backups:portal_browse", args=[world.device.pk]), {
                "snapshot": snapshot.snapshot_id, "path": str(documents), "paths": [str(documents / "report.odt")],
                "destination": "original", "target": "", "conflict": "keep_both",
            })
            assert posted.status_code == 302, posted.content
            instruction = await _receive(control, "restore.run")
            assert instruction["snapshot"] == snapshot.snapshot_id
            assert instruction["items"] == [{"path": str(documents / "report.odt"), "type": "file"}]
            assert (instruction["target"], instruction["conflict"]) == (None, "keep_both")
            assert instruction["total_bytes"] == 1800
            await control.send(json.dumps({"type": "restore.progress", "job": instruction["job"], "bytes_done": 900,
                                           "total_bytes": 1800}))
            half = await asyncio.to_thread(until, lambda: BackupRun.objects.filter(pk=int(instruction["job"]), percent=50).first())
            await control.send(json.dumps({"type": "restore.done", "job": instruction["job"], "restored": 0, "kept_both": 1,
                                           "overwritten": 0, "skipped": 0}))
            done = await asyncio.to_thread(until, lambda: BackupRun.objects.filter(pk=half.pk, state="succeeded").first())
            return posted["Location"], done, snapshot

    location, done, snapshot = run(scenario)
    assert location == reverse("backups:portal_run", args=[world.device.pk, done.pk])
    page = world.client.get(location)
    assert b'data-percent="100"' in page.content and b"1 file restored." in page.content
    assert done.requested_by == world.user and done.summary["kept_both"] == 1
    started, finished = (AuditEvent.objects.get(action=name) for name in ("backup.restore_started", "backup.restore_finished"))
    assert started.actor == world.user and started.after["conflict"] == "keep_both"
    assert finished.actor == world.user and finished.after["kept_both"] == 1

    # The folder as a zip, from the real server, streamed by the server's restic.
    url = reverse("backups:portal_download", args=[world.device.pk, snapshot.snapshot_id])
    request = urllib.request.Request(
        f"{world.server.url}{url}?path={documents}",
        headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={world.client.cookies[settings.SESSION_COOKIE_NAME].value}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["Content-Type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    contents = {name.rsplit("/", 1)[-1]: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    assert contents == {"report.odt": b"quarterly figures\n" * 100, "notes.txt": b"call the bank\n"}
    assert AuditEvent.objects.filter(action="backup.downloaded", actor=world.user).exists()


def test_failures_disconnects_and_foreign_reports(world, enrol):
    other, other_secret = enrol("someone-else")

    async def scenario():
        control = await _welcomed(world)
        async with control:
            first = await database_sync_to_async(services.start_backup)(world.device, requested_by=world.admin)
            instruction = await _receive(control, "backup.run")
            # Another device's agent cannot touch this run.
            async with connect(world.server.ws_url + "/agent/v1/control",
                               additional_headers={"Authorization": f"Bearer {other.pk}.{other_secret}"}) as stranger:
                await stranger.recv()
                await stranger.send(json.dumps({"type": "backup.failed", "job": instruction["job"], "message": "x"}))
            await control.send(json.dumps({"type": "backup.failed", "job": instruction["job"],
                                           "message": "Fatal: unable to open repository", "exit_code": 1}))
            failed = await asyncio.to_thread(until, lambda: BackupRun.objects.filter(pk=first.pk, state="failed").first())
            second = await database_sync_to_async(services.start_backup)(world.device)
            await _receive(control, "backup.run")
        return failed, second

    failed, second = run(scenario)
    assert failed.message == "Fatal: unable to open repository"
    # The agent went away mid-run: the run fails, so the next can start.
    lost = until(lambda: BackupRun.objects.filter(pk=second.pk, state="failed").first())
    assert "disconnected" in lost.message
    policy = BackupPolicy.objects.get(device=world.device)
    assert policy.last_result == RunState.FAILED and policy.health == "failed"
    assert AuditEvent.objects.filter(action="backup.failed").count() == 2
    problems = sign_in(Client(), world.admin).get(reverse("devices:list"), {"backup": "problem"})
    assert list(problems.context["page"]) == [world.device]
    assert b'data-backup-health="failed"' in problems.content


def test_an_offline_device_misses_its_scheduled_backup(world):
    assert not world.device.online
    policy = BackupPolicy.objects.get(device=world.device)
    started = services.start_due_backups(now=policy.next_run_at + timedelta(seconds=1))
    assert started == 1
    missed = BackupRun.objects.get(device=world.device)
    assert missed.state == RunState.MISSED
    policy.refresh_from_db()
    assert policy.health == "missed" and policy.next_run_at > missed.created_at
    with pytest.raises(services.DeviceOffline):
        services.start_backup(world.device, requested_by=world.admin)


@pytest.mark.parametrize(("interval", "after", "expected"), [
    (24, "2026-11-29T00:30", "2026-11-29T01:00"),
    (24, "2026-11-29T01:00", "2026-11-30T01:00"),
    (6, "2026-11-29T08:00", "2026-11-29T13:00"),
    (6, "2026-11-29T00:10", "2026-11-29T01:00"),
    (1, "2026-11-29T23:59", "2026-11-30T00:00"),
])
def test_the_schedule_starts_at_its_time_then_every_interval(interval, after, expected):
    policy = BackupPolicy(interval_hours=interval, start_time=time(1, 0))
    zone = UTC
    moment = datetime.fromisoformat(after).replace(tzinfo=zone)
    with timezone.override(zone):
        assert services.next_run(policy, moment) == datetime.fromisoformat(expected).replace(tzinfo=zone)


def test_a_run_no_message_announced_reaches_its_agent_once_through_the_outbox(world):
    """A run started where the channel layer does not reach the agent's node (a worker process
    without Redis, a lost message) is offered by that node's outbox; the agent gets it once."""

    async def scenario():
        control = await _welcomed(world)
        async with control:
            made = await database_sync_to_async(BackupRun.objects.create)(device=world.device, kind="backup")
            instruction = await _receive(control, "backup.run")  # within the outbox's interval
            assert instruction["job"] == str(made.pk)
            # Offered again (a late message), it is not sent twice.
            await database_sync_to_async(services._deliver)(made)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(control.recv(), 3)
            return made

    made = run(scenario)
    assert BackupRun.objects.get(pk=made.pk).sent_at is not None


def test_a_run_no_agent_takes_fails_after_two_minutes(world):
    waiting = BackupRun.objects.create(device=world.device, kind="backup")
    assert services.fail_stale_runs() == 0
    failed = services.fail_stale_runs(now=waiting.created_at + timedelta(minutes=3))
    assert failed == 1
    waiting.refresh_from_db()
    assert waiting.state == RunState.FAILED and "did not take the run" in waiting.message


def test_fr1_the_server_keeps_what_the_policy_says_and_forgets_the_rest(world):
    """Retention is the server's (the agent cannot delete): keep the last 2 of 3 snapshots, in
    the repository and in the index."""

    async def scenario():
        control = await _welcomed(world)
        async with control:
            for version in range(3):
                (world.home / "Documents" / "notes.txt").write_text(f"version {version}\n")
                run_, _instruction = await _backup(world, control)
                await asyncio.to_thread(until, lambda pk=run_.pk: BackupRun.objects.filter(
                    pk=pk, snapshot_id__regex=r"^[0-9a-f]{64}$").exists(), 60)

    run(scenario)
    policy = until(lambda: BackupPolicy.objects.filter(device=world.device).first())
    kept = until(lambda: list(Snapshot.objects.filter(device=world.device).order_by("seq")) if
                 Snapshot.objects.filter(device=world.device).count() == 2 else None, timeout=60)
    in_repository = services.restic.run_json(world.device.pk, services.secrets.decrypt(policy.password_sealed), "snapshots")
    assert sorted(s["id"] for s in in_repository) == sorted(s.snapshot_id for s in kept)
    assert [s.seq for s in kept] == [2, 3]
    first_notes = services.index.search(world.device, "notes.txt").filter(first_seq=1)
    assert not first_notes.exists()  # version 0 lived only in the forgotten snapshot
