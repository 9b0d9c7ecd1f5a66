"""The device side of backups for the agent's tests: the real restic on a local folder repository,
wrappers that slow restic down or record how it was started, and a stand-in for the control
connection that waits for a run's last word."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from session_server import CREDENTIAL

from portico_agent.backups import Backups
from portico_agent.state import AgentState

PASSWORD = "correct horse battery staple"
RESTIC_WAIT = 120  # seconds; restic spends about a second deriving the key on every call


def find_restic() -> str:
    """The restic client. Without the package these tests skip, except in CI (CI set), where they fail."""
    found = shutil.which("restic")
    if found is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("CI is set but restic is not installed: install restic (`make system-packages`)")
        pytest.skip("restic is not installed (apt-get install restic); CI runs these tests")
    return found


class Repository:
    """A restic repository in a local folder, and restic run on it as a person would."""

    def __init__(self, restic: str, path: Path, cache: Path) -> None:
        self.restic, self.path, self.cache = restic, path, cache

    def env(self, password: str = PASSWORD) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", ""), "HOME": str(self.cache), "RESTIC_REPOSITORY": str(self.path),
                "RESTIC_PASSWORD": password, "RESTIC_CACHE_DIR": str(self.cache)}

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.restic, *args], env=self.env(), capture_output=True, text=True,
                              timeout=RESTIC_WAIT)

    def init(self) -> Repository:
        done = self("init")
        assert done.returncode == 0, done.stderr
        return self

    def snapshot_of(self, *paths: Path) -> str:
        """A new snapshot of `paths`: its full id, as the server would name it."""
        done = self("backup", "--json", *map(str, paths))
        assert done.returncode == 0, done.stderr
        short = json.loads(done.stdout.splitlines()[-1])["snapshot_id"]
        return next(s["id"] for s in self.snapshots() if s["id"].startswith(short))

    def snapshots(self) -> list[dict]:
        done = self("snapshots", "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def locks(self) -> list[str]:
        done = self("list", "locks", "--no-lock")
        assert done.returncode == 0, done.stderr
        return done.stdout.split()


def wrapper(path: Path, body: str) -> str:
    """A shell script standing in for the restic program: `body` ends by exec'ing the real one."""
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def slow_restic(tmp_path: Path, restic: str, kib_per_second: int = 64) -> tuple[str, Path]:
    """restic limited to a trickle each way, and the file where each start writes its pid."""
    pids = tmp_path / "restic.pids"
    script = wrapper(
        tmp_path / "slow-restic",
        f'echo $$ >> {pids}\n'
        f'exec {restic} --limit-download {kib_per_second} --limit-upload {kib_per_second} "$@"',
    )
    return script, pids


def agent_state(**fields: object) -> AgentState:
    values: dict = {"server": "http://127.0.0.1:9", "device_id": 42, "credential": CREDENTIAL}
    values.update(fields)
    return AgentState(**values)


def backups_on(repository: Repository, tmp_path: Path, restic: str | None = None, **kwargs) -> Backups:
    """The agent's Backups with the test's folder repository in place of the server's."""
    return Backups(agent_state(), cache_dir=tmp_path / "agent-cache", restic=restic or repository.restic,
                   repository=str(repository.path), **kwargs)


class Control:
    """Stands in for the control connection: what the agent sends, with the loop's time of each."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.times: list[float] = []

    async def send(self, message: dict) -> None:
        json.dumps(message)  # what the real connection does with it; fails on anything not JSON
        self.sent.append(message)
        self.times.append(asyncio.get_running_loop().time())

    def of_type(self, kind: str) -> list[dict]:
        return [message for message in self.sent if message["type"] == kind]

    async def last_word(self, job: str, timeout: float = RESTIC_WAIT) -> dict:
        """The run's done or failed message, once it came."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for message in self.sent:
                if message["job"] == job and message["type"].endswith((".done", ".failed")):
                    return message
            if loop.time() > deadline:
                raise AssertionError(f"job {job} never ended; sent {self.sent}")
            await asyncio.sleep(0.02)


def backup_message(job: str, *paths: Path | str, password: str = PASSWORD, init: bool = False,
                   exclude: tuple[str, ...] = ()) -> dict:
    return {"type": "backup.run", "job": job, "password": password, "init": init,
            "paths": [str(p) for p in paths], "exclude": list(exclude)}


def restore_message(job: str, snapshot: str, *items: Path | str, target: Path | str | None = None,
                    conflict: str = "overwrite", total_bytes: int = 0, password: str = PASSWORD) -> dict:
    return {"type": "restore.run", "job": job, "password": password, "snapshot": snapshot,
            "items": [{"path": str(item), "type": "file"} for item in items],
            "target": None if target is None else str(target), "conflict": conflict, "total_bytes": total_bytes}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signals: it has ended all the same.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False

