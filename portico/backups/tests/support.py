"""Speaking restic's REST protocol by hand, byte for byte: http.client keeps paths as written
(`..` included), where other clients would tidy them first."""

from __future__ import annotations

import base64
import filecmp
import hashlib
import http.client
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def call(server, method: str, path: str, *, authorization: str = "", body: bytes = b"", **headers: str) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        sent = {key.replace("_", "-"): value for key, value in headers.items()}
        if authorization:
            sent["Authorization"] = authorization
        connection.request(method, path, body=body if method in ("POST", "PUT") else None, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def post(server, device, authorization: str, path: str, body: bytes) -> Reply:
    return call(server, "POST", f"/backups/v1/{device.pk}/{path}", authorization=authorization, body=body)


def named(body: bytes) -> str:
    """The name restic gives a file: the SHA-256 of its bytes."""
    return hashlib.sha256(body).hexdigest()


class Restic:
    """The real restic client of a device's agent, for one repository."""

    def __init__(self, binary: str, repository: str, cache: Path, device=None) -> None:
        self.binary, self.device = binary, device
        self.env = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(cache), "RESTIC_REPOSITORY": repository,
            "RESTIC_PASSWORD": "correct horse battery staple", "RESTIC_CACHE_DIR": str(cache),
        }

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True, timeout=timeout)


def round_trip(agent_restic: Restic, source: Path, target: Path) -> Path:
    """init, backup `source`, check --read-data and restore into `target`, each passing; the
    restored copy of `source`, proved equal to it file by file."""
    for args in (("init",), ("backup", str(source)), ("check", "--read-data"), ("restore", "latest", "--target", str(target))):
        done = agent_restic(*args)
        assert done.returncode == 0, f"restic {args[0]}: {done.stdout}{done.stderr}"
    restored = target / source.relative_to("/")
    comparison = filecmp.dircmp(source, restored)
    assert (comparison.left_only, comparison.right_only, comparison.diff_files) == ([], [], [])
    for path in source.rglob("*"):
        if path.is_file():
            assert filecmp.cmp(path, restored / path.relative_to(source), shallow=False), path
    return restored
