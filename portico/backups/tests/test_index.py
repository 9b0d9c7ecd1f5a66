"""The index of a device's snapshots (FR-2): what restic holds, browsed and searched from the
database. Real restic makes the repository; the server's restic lists it."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import time as clock

import pytest

from portico.backups import index
from portico.backups.location import restic_repository
from portico.backups.models import EntryKind, Snapshot, SnapshotEntry

pytestmark = pytest.mark.django_db

PASSWORD = "index test key"


@pytest.fixture
def repository(restic, enrol, tmp_path):
    """A device whose repository (in the backup storage) gets snapshots of `tmp_path/home`."""
    device, _secret = enrol("laptop-01")
    location, extra = restic_repository(device.pk)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "RESTIC_REPOSITORY": location,
           "RESTIC_PASSWORD": PASSWORD, "RESTIC_CACHE_DIR": str(tmp_path / "cache"), **extra}

    def call(*args: str) -> str:
        done = subprocess.run([restic, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    call("init")
    home = tmp_path / "home"
    (home / "ana" / "letters").mkdir(parents=True)

    def back_up() -> None:
        call("backup", str(home))
        time.sleep(0.01)  # snapshots a moment apart keep their order

    return device, home, call, back_up


def names(entries) -> list[str]:
    return [entry.name for entry in entries]


def test_folders_of_each_snapshot_and_search_across_them(repository):
    device, home, call, back_up = repository
    (home / "ana" / "report.odt").write_bytes(b"v1" * 500)
    (home / "ana" / "letters" / "dear customer.txt").write_text("hello\n")
    (home / "ana" / "odd\nname.txt").write_text("a newline in a name\n")
    back_up()
    first = index.synchronise(device, PASSWORD)
    (home / "ana" / "report.odt").write_bytes(b"v2" * 800)  # changed
    (home / "ana" / "letters" / "dear customer.txt").unlink()  # gone
    (home / "ana" / "budget.ods").write_bytes(b"1" * 10)  # new
    back_up()
    second = index.synchronise(device, PASSWORD)
    assert [s.seq for s in first + second] == [1, 2]

    old, new = first[0], second[0]
    ana = str(home / "ana")
    assert names(index.folder(device, old, ana)) == ["letters", "odd\nname.txt", "report.odt"]
    assert names(index.folder(device, new, ana)) == ["letters", "budget.ods", "odd\nname.txt", "report.odt"]
    assert names(index.folder(device, old, f"{ana}/letters")) == ["dear customer.txt"]
    assert names(index.folder(device, new, f"{ana}/letters")) == []
    assert index.entry_of(device, old, f"{ana}/report.odt").size == 1000
    assert index.entry_of(device, new, f"{ana}/report.odt").size == 1600
    assert index.folder(device, new, ana).filter(name="letters").get().kind == EntryKind.DIR
    # Unchanged files are one row for both snapshots; the changed one has a version each.
    assert SnapshotEntry.objects.filter(device=device, path=f"{ana}/odd\nname.txt").count() == 1
    assert SnapshotEntry.objects.filter(device=device, path=f"{ana}/report.odt").count() == 2
    # Search finds every version, in any snapshot, case-insensitively.
    found = list(index.search(device, "REPORT"))
    assert [(e.path, e.first_seq, e.last_seq) for e in found] == [
        (f"{ana}/report.odt", 2, None), (f"{ana}/report.odt", 1, 1),
    ]
    assert [e.path for e in index.search(device, "customer")] == [f"{ana}/letters/dear customer.txt"]
    assert index.bytes_under(device, new, index.entry_of(device, new, ana)) == 1600 + 10 + 20
    assert (new.file_count, new.total_bytes) == (3, 1630)


def test_forgotten_snapshots_leave_the_index_with_what_only_they_held(repository):
    device, home, call, back_up = repository
    ana = home / "ana"
    for version in range(3):
        (ana / "notes.txt").write_text(f"version {version}\n")
        (ana / f"only-in-{version}.txt").write_text("x")
        if version:
            (ana / f"only-in-{version - 1}.txt").unlink()
        back_up()
    index.synchronise(device, PASSWORD)
    middle = Snapshot.objects.get(device=device, seq=2)
    call("forget", middle.snapshot_id)

    index.synchronise(device, PASSWORD)

    assert sorted(Snapshot.objects.filter(device=device).values_list("seq", flat=True)) == [1, 3]
    assert not SnapshotEntry.objects.filter(device=device, name="only-in-1.txt").exists()
    kept = {e.name for e in SnapshotEntry.objects.filter(device=device, kind="file")}
    assert kept == {"notes.txt", "only-in-0.txt", "only-in-2.txt"}
    assert SnapshotEntry.objects.filter(device=device, name="notes.txt").count() == 2
    newest = Snapshot.objects.get(device=device, seq=3)
    assert names(index.folder(device, newest, str(ana))) == ["letters", "notes.txt", "only-in-2.txt"]


def test_another_devices_index_is_not_in_reach(repository, enrol):
    device, home, call, back_up = repository
    (home / "ana" / "secret.txt").write_text("mine\n")
    back_up()
    index.synchronise(device, PASSWORD)
    other, _secret = enrol("laptop-02")
    assert list(index.search(other, "secret")) == []
    snapshot = Snapshot.objects.get(device=device)
    assert list(index.folder(other, snapshot, str(home / "ana"))) == []


def test_a_name_that_is_not_valid_text_is_shown_and_restored_with_its_folder(repository, admin):
    """restic 0.14 lists invalid UTF-8 in a name as U+FFFD, so the file cannot be named to restic
    exactly: it is listed, and a restore of it alone is refused with a way out."""
    from portico.backups import services

    device, home, call, back_up = repository
    (home / "ana" / os.fsdecode(b"caf\xe9.txt")).write_text("latin-1 name\n")
    back_up()
    snapshot = index.synchronise(device, PASSWORD)[0]
    assert "caf\ufffd.txt" in names(index.folder(device, snapshot, str(home / "ana")))
    services.set_policy(admin, device, services.PolicyChoice(
        paths=[str(home)], exclude=[], interval_hours=24, start_time=clock(1, 0), keep_last=1,
        keep_daily=0, keep_weekly=0, keep_monthly=0,
    ))
    with pytest.raises(services.RestoreRefused, match="restore its folder instead"):
        services.start_restore(admin, device, snapshot, [str(home / "ana" / "caf\ufffd.txt")], "", "skip")
