"""The real restic client against Portico: a device's agent initialises its repository, backs up,
checks and restores through the REST protocol, and cannot remove what it wrote."""

from __future__ import annotations

import json
import os

import pytest

from portico.backups.tests.support import round_trip

pytestmark = pytest.mark.django_db(transaction=True)


def test_backup_check_and_restore_through_portico(agent_restic, tmp_path, backup_storage):
    source = tmp_path / "documents"
    (source / "letters").mkdir(parents=True)
    (source / "notes.txt").write_text("the quarterly report is in letters/\n")
    (source / "letters" / "draft.md").write_text("# Dear customer\n" * 200)
    (source / "photo.raw").write_bytes(os.urandom(5 * 1024 * 1024))

    round_trip(agent_restic, source, tmp_path / "restored")

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
