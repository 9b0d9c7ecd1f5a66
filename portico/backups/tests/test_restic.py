"""The real restic client against Portico: a device's agent initialises its repository, backs up,
checks and restores through the REST protocol, and cannot remove what it wrote."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


class Restic:
    def __init__(self, binary: str, repository: str, cache) -> None:
        self.binary = binary
        self.env = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(cache), "RESTIC_REPOSITORY": repository,
            "RESTIC_PASSWORD": "correct horse battery staple", "RESTIC_CACHE_DIR": str(cache),
        }

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def agent_restic(restic, asgi_server, enrol, tmp_path):
    device, secret = enrol("laptop-01")
    url = f"rest:http://{device.pk}:{secret}@127.0.0.1:{asgi_server.port}/backups/v1/{device.pk}/"
    return Restic(restic, url, tmp_path / "cache")


def test_backup_check_and_restore_through_portico(agent_restic, tmp_path, backup_storage):
    source = tmp_path / "documents"
    (source / "letters").mkdir(parents=True)
    (source / "notes.txt").write_text("the quarterly report is in letters/\n")
    (source / "letters" / "draft.md").write_text("# Dear customer\n" * 200)
    (source / "photo.raw").write_bytes(os.urandom(5 * 1024 * 1024))

    initialised = agent_restic("init")
    assert initialised.returncode == 0, initialised.stderr
    backed_up = agent_restic("backup", str(source))
    assert backed_up.returncode == 0, backed_up.stderr
    checked = agent_restic("check", "--read-data")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    target = tmp_path / "restored"
    restored = agent_restic("restore", "latest", "--target", str(target))
    assert restored.returncode == 0, restored.stderr
    comparison = filecmp.dircmp(source, target / source.relative_to("/"))
    assert (comparison.left_only, comparison.right_only, comparison.diff_files) == ([], [], [])
    assert filecmp.cmp(source / "photo.raw", target / source.relative_to("/") / "photo.raw", shallow=False)
    assert filecmp.cmp(
        source / "letters" / "draft.md", target / source.relative_to("/") / "letters" / "draft.md", shallow=False
    )
    # restic's own local layout: the server could open the folder as a repository directly.
    device_folder = next(backup_storage.iterdir())
    assert {path.name for path in device_folder.iterdir()} >= {"config", "data", "keys", "snapshots", "index"}
    assert all(len(folder.name) == 2 for folder in (device_folder / "data").iterdir())


def test_the_agent_cannot_forget_a_snapshot(agent_restic, tmp_path):
    source = tmp_path / "documents"
    source.mkdir()
    (source / "notes.txt").write_text("keep me\n")
    assert agent_restic("init").returncode == 0
    assert agent_restic("backup", str(source)).returncode == 0
    snapshot = json.loads(agent_restic("snapshots", "--json").stdout)[0]["id"]

    # restic 0.14 retries the refused DELETE ten times (about 45 s) before it gives up.
    forgotten = agent_restic("forget", snapshot, timeout=300)

    assert forgotten.returncode != 0
    assert "403" in forgotten.stderr
    listed = agent_restic("snapshots", "--json")
    assert [entry["id"] for entry in json.loads(listed.stdout)] == [snapshot]
