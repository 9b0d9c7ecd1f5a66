from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from portico.remote import services as remote


@pytest.fixture(autouse=True)
def backup_storage(settings, tmp_path):
    """Each test's repositories in a folder of its own."""
    location = tmp_path / "backups"
    settings.BACKUP_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": location},
    }
    return location


@pytest.fixture(scope="session")
def restic() -> str:
    """The restic client. Without the package the tests that need it skip, except in CI (CI set),
    where they fail."""
    found = shutil.which("restic")
    if found is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("CI is set but restic is not installed: install restic (`make system-packages`)")
        pytest.skip("restic is not installed (apt-get install restic); CI runs these tests")
    return found


@pytest.fixture
def agent_restic(restic, asgi_server, enrol, tmp_path):
    """A new device's agent's restic, speaking to Portico's REST endpoint (`.device` is the device)."""
    from portico.backups.tests.support import Restic

    device, secret = enrol("laptop-01")
    url = f"rest:http://{device.pk}:{secret}@127.0.0.1:{asgi_server.port}/backups/v1/{device.pk}/"
    return Restic(restic, url, tmp_path / "agent-cache", device)


@pytest.fixture
def laptop(asgi_server, enrol, backup_storage):
    """A device whose agent created its repository: (device, its Basic authorization)."""
    from portico.backups.tests.support import basic, call

    device, secret = enrol("laptop-01")
    authorization = basic(str(device.pk), secret)
    assert call(asgi_server, "POST", f"/backups/v1/{device.pk}/?create=true", authorization=authorization).status == 200
    return device, authorization


@pytest.fixture
def enrol(admin, org_a):
    """`enrol(hostname)` enrols a device into org_a as its agent would: (device, secret)."""

    def enrol(hostname: str):
        _token, raw = remote.create_enrolment_token(admin, org_a)
        return remote.enrol(remote.Enrolment(token=raw, hostname=hostname, os_family="linux"))

    return enrol


def in_a_thread(function, *args, **kwargs):
    """Call `function` on a thread without an event loop: the sync browser driver keeps one
    running in the test's thread, and telling an agent goes through async_to_sync."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(function, *args, **kwargs).result()


@pytest.fixture
def backed_up_by_agent(start_agent, admin, tmp_path, restic):
    """A real agent whose device backs up `tmp_path/home/emma` (report, notes) under `policy`;
    `back_up()` runs one backup to its end and returns the run."""
    from datetime import time

    from portico.backups import services
    from portico.backups.models import BackupRun
    from portico.remote.tests.support import until

    home = tmp_path / "home" / "emma"
    (home / "Documents").mkdir(parents=True)
    (home / "Documents" / "report.odt").write_bytes(b"the report as it was\n" * 200)
    (home / "notes").mkdir()
    (home / "notes" / "monday.txt").write_text("call the bank\n")
    (home / "notes" / "tuesday.txt").write_text("order gloves\n")
    agent = start_agent("--restic", restic)
    services.set_policy(admin, agent.device, services.PolicyChoice(
        paths=[str(home)], exclude=["*.tmp"], interval_hours=24, start_time=time(1), keep_last=5, keep_daily=0,
        keep_weekly=0, keep_monthly=0,
    ))

    def back_up(timeout: float = 120):
        # until(): on SQLite the server may still be writing the previous backup's upkeep.
        run = until(lambda: in_a_thread(services.start_backup, agent.device, requested_by=admin))
        return until(lambda: BackupRun.objects.filter(pk=run.pk).exclude(state="running").first(), timeout=timeout)

    return agent, home, back_up
