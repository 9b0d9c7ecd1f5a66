"""The server's own restic, opening a device's repository directly in the backup storage: it
lists and indexes snapshots, applies retention (which the agent may not), measures the
repository, and streams zip downloads. The key goes through the environment, never argv."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from portico.backups.location import restic_repository

# Every call spends about a second deriving the key; listings of 100,000 files take a few more.
TIMEOUT_SECONDS = 600


class ResticError(Exception):
    """restic failed; the message is what it said, for the run's record."""


def environment(device_id: int, password: str) -> dict[str, str]:
    repository, extra = restic_repository(device_id)
    cache = Path(settings.BACKUP_CACHE_DIR)
    cache.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cache), "RESTIC_CACHE_DIR": str(cache),
        "RESTIC_REPOSITORY": repository, "RESTIC_PASSWORD": password, **extra,
    }


def _error_text(stderr: str) -> str:
    """restic's errors, as readable text: JSON error objects become their message."""
    lines = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            parsed = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        if isinstance(parsed, dict):
            error = parsed.get("error")
            lines.append(str(error.get("Err") or error) if isinstance(error, dict) else str(error or parsed.get("message") or line))
    return "\n".join(lines)[-2000:] or "restic failed without saying why"


def run(device_id: int, password: str, *args: str, timeout: float = TIMEOUT_SECONDS) -> str:
    """restic's stdout; ResticError when it exits with anything but 0."""
    done = subprocess.run(
        [settings.RESTIC_BINARY, *args], env=environment(device_id, password), capture_output=True, text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise ResticError(_error_text(done.stderr))
    return done.stdout


def run_json(device_id: int, password: str, *args: str) -> object:
    return json.loads(run(device_id, password, *args, "--json") or "null")


def lines(device_id: int, password: str, *args: str) -> Iterator[dict]:
    """restic's JSON output one object a line (`ls --json`), read as it comes: 100,000 files are
    never held as one text."""
    with subprocess.Popen(
        [settings.RESTIC_BINARY, *args, "--json"], env=environment(device_id, password),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        for line in process.stdout:
            if line.strip():
                yield json.loads(line)
        stderr = process.stderr.read()
        if process.wait() != 0:
            raise ResticError(_error_text(stderr))


def command(device_id: int, password: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """argv and environment for a restic whose output the caller streams itself (zip downloads)."""
    return [settings.RESTIC_BINARY, *args], environment(device_id, password)
