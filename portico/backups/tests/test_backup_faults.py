"""Faults (issue 7, item 7): an agent killed mid-backup or mid-restore, and a server whose backup
storage is full. Real agent process, real restic, a real (tiny) file system."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from portico.backups import restic as server_restic
from portico.backups import services
from portico.backups.models import BackupPolicy, BackupRun, Snapshot
from portico.notifications import secrets
from portico.remote.tests.support import until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def concurrent_database():
    """Minutes of an agent heartbeating, reporting progress and the server indexing at once: the
    in-memory SQLite of local runs locks whole tables between threads, PostgreSQL (CI) does not."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs a database with concurrent writers: PostgreSQL (set DATABASE_URL; CI does)")


def _big_files(folder, count: int, megabytes: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"video-{n}.raw").write_bytes(os.urandom(megabytes * 1024 * 1024))


def _password(device) -> str:
    return secrets.decrypt(BackupPolicy.objects.get(device=device).password_sealed)


def _checked(device, *options: str) -> str:
    """`restic check` of the device's repository by the server, once the server's own upkeep
    (prune, which locks the repository) has let go of it."""

    def attempt() -> str | None:
        try:
            return server_restic.run(device.pk, _password(device), "check", *options)
        except server_restic.ResticError as error:
            if "locked" in str(error):
                return None
            raise

    return until(attempt, timeout=120)


def test_an_agent_killed_mid_backup_leaves_a_repository_restic_checks_and_the_next_backup_succeeds(
    backed_up_by_agent, admin, backup_storage
):
    agent, home, back_up = backed_up_by_agent
    assert back_up().state == "succeeded"  # the repository exists, with one snapshot
    _big_files(home / "videos", 6, 40)
    run = until(lambda: services.start_backup(agent.device, requested_by=admin))
    until(lambda: BackupRun.objects.filter(pk=run.pk, bytes_done__gt=20 * 1024 * 1024).exists(), timeout=120)

    agent.kill()

    failed = until(lambda: BackupRun.objects.filter(pk=run.pk, state="failed").first())
    assert "disconnected" in failed.message
    # restic heard SIGINT when its agent died (PR_SET_PDEATHSIG): it stops and removes its lock.
    locks = backup_storage / str(agent.device.pk) / "locks"
    until(lambda: not any(locks.iterdir()), timeout=30)
    assert "no errors were found" in _checked(agent.device)
    agent.restart()
    assert back_up(timeout=240).state == "succeeded"
    until(lambda: Snapshot.objects.filter(device=agent.device).count() == 2, timeout=60)
    assert "no errors were found" in _checked(agent.device)


def test_an_agent_killed_mid_restore_leaves_the_originals_untouched(backed_up_by_agent, admin):
    agent, home, back_up = backed_up_by_agent
    _big_files(home / "videos", 3, 60)
    assert back_up(timeout=240).state == "succeeded"
    snapshot = until(lambda: Snapshot.objects.filter(device=agent.device).first(), timeout=60)
    originals = sorted((home / "videos").iterdir())
    for original in originals:  # the person changed them since
        original.write_bytes(b"changed after the backup\n")
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in originals}

    run = until(lambda: services.start_restore(admin, agent.device, snapshot, [str(home / "videos")], "", "overwrite"))
    until(lambda: BackupRun.objects.filter(pk=run.pk, bytes_done__gt=10 * 1024 * 1024).exists(), timeout=120)
    agent.kill()

    until(lambda: BackupRun.objects.filter(pk=run.pk, state="failed").exists())
    assert sorted((home / "videos").iterdir()) == originals
    assert {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in originals} == before


@pytest.fixture
def tiny_storage(settings, tmp_path):
    """The backup storage on a file system of 8 MB (tmpfs; needs root, as CI runs)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set but a tmpfs cannot be mounted: {done.stderr}")
        pytest.skip(f"mounting a tmpfs needs root: {done.stderr.strip()}")
    settings.BACKUP_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": mount}}
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_server_disk_fails_the_backup_clearly_and_corrupts_nothing(tiny_storage, backed_up_by_agent, admin):
    agent, home, back_up = backed_up_by_agent
    assert back_up().state == "succeeded"
    _big_files(home / "videos", 2, 12)  # incompressible, more than the storage holds

    failed = back_up(timeout=300)

    assert failed.state == "failed"
    assert failed.message.startswith("The backup storage on the server is full")
    policy = BackupPolicy.objects.get(device=agent.device)
    assert policy.health == "failed"
    # What was stored is a repository restic accepts: no half-written file kept under its name.
    assert "no errors were found" in _checked(agent.device, "--read-data")
    (home / "videos" / "video-1.raw").unlink()
    (home / "videos" / "video-0.raw").unlink()
    assert back_up().state == "succeeded"
