"""restore.run with the real restic on a folder repository: files back in their places or in another
folder through a staging folder, each conflict mode, progress, and what a restore refuses to do
(paths with `..`, destinations through symbolic links, following a restored link)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from backup_support import (
    RESTIC_WAIT,
    Control,
    Repository,
    backups_on,
    pid_alive,
    restore_message,
    slow_restic,
)
from own_loop import run
from session_server import eventually

from portico_agent.backups import restored_name


class Home:
    """Ana's files as they were backed up: a report, notes, photos (with a link among them), a file
    whose name holds a newline, and a link to a file outside her folder."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.ana = tmp_path / "home" / "ana"
        self.outside = tmp_path / "outside"
        self.outside.mkdir()
        self.victim = self.outside / "victim.txt"
        self.victim.write_text("not Ana's to change\n")
        self.report = self.ana / "report.odt"
        self.notes = self.ana / "notes"
        self.photos = self.ana / "photos"
        self.newline = self.ana / "new\nline.txt"
        self.link = self.ana / "outside-link"
        (self.photos / "trip").mkdir(parents=True)
        self.photos.chmod(0o750)
        self.report.write_text("Q3 report, as backed up\n")
        self.notes.write_text("notes, as backed up\n")
        (self.photos / "a.jpg").write_bytes(b"A" * 3000)
        (self.photos / "b.jpg").write_bytes(b"B" * 2000)
        (self.photos / "trip" / "c.jpg").write_bytes(b"C" * 1000)
        (self.photos / "latest").symlink_to("a.jpg")
        self.newline.write_text("a name on two lines\n")
        self.link.symlink_to(self.victim)

    def size(self, *paths: Path) -> int:
        total = 0
        for path in paths:
            if path.is_dir() and not path.is_symlink():
                total += sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
            elif path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        return total


def staging_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(".portico-restore-*"))


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def home(repository, tmp_path) -> tuple[Home, str]:
    """Ana's files, and the id of the snapshot that holds them."""
    files = Home(tmp_path)
    return files, repository.snapshot_of(files.ana)


def restore(repository: Repository, tmp_path: Path, message: dict, **kwargs) -> tuple[dict, Control]:
    async def scenario():
        control = Control()
        await backups_on(repository, tmp_path, **kwargs).restore(message, control.send)
        return await control.last_word(message["job"]), control

    return run(scenario())


def test_overwrite_puts_the_snapshots_files_back_in_their_places(repository, tmp_path, home):
    files, snapshot = home
    total = files.size(files.report, files.notes, files.photos)
    files.report.write_text("Q3 report, edited since\n")
    files.notes.unlink()
    (files.photos / "a.jpg").write_bytes(b"edited")
    (files.photos / "new.jpg").write_bytes(b"taken since")

    done, control = restore(repository, tmp_path, restore_message(
        "31", snapshot, files.report, files.notes, files.photos, total_bytes=total))

    assert done == {"type": "restore.done", "job": "31", "restored": 1, "overwritten": 5, "kept_both": 0,
                    "skipped": 0}
    assert files.report.read_text() == "Q3 report, as backed up\n"
    assert files.notes.read_text() == "notes, as backed up\n"
    assert (files.photos / "a.jpg").read_bytes() == b"A" * 3000
    assert (files.photos / "new.jpg").read_bytes() == b"taken since"  # a folder is merged, not replaced
    assert os.readlink(files.photos / "latest") == "a.jpg"
    assert staging_folders(tmp_path) == []
    progress = control.of_type("restore.progress")
    assert progress and all(p["total_bytes"] == total and 0 <= p["bytes_done"] <= total for p in progress)
    assert progress[-1]["bytes_done"] == total
    assert control.sent[-1] == done


def test_keep_both_gives_the_restored_file_a_free_name(repository, tmp_path, home):
    files, snapshot = home
    files.report.write_text("Q3 report, edited since\n")
    files.notes.write_text("notes, edited since\n")

    first, _ = restore(repository, tmp_path, restore_message(
        "32", snapshot, files.report, files.notes, files.photos, conflict="keep_both"))
    second, _ = restore(repository, tmp_path, restore_message("33", snapshot, files.report, conflict="keep_both"))

    assert first == {"type": "restore.done", "job": "32", "restored": 0, "overwritten": 0, "kept_both": 6,
                     "skipped": 0}
    assert second["kept_both"] == 1
    assert files.report.read_text() == "Q3 report, edited since\n"
    assert (files.ana / "report (restored).odt").read_text() == "Q3 report, as backed up\n"
    assert (files.ana / "report (restored 2).odt").read_text() == "Q3 report, as backed up\n"
    assert (files.ana / "notes (restored)").read_text() == "notes, as backed up\n"
    assert (files.photos / "a (restored).jpg").read_bytes() == b"A" * 3000
    assert os.readlink(files.photos / "latest (restored)") == "a.jpg"
    assert staging_folders(tmp_path) == []


def test_skip_leaves_existing_files_and_restores_the_missing_ones(repository, tmp_path, home):
    files, snapshot = home
    files.report.write_text("Q3 report, edited since\n")
    files.notes.unlink()
    (files.photos / "trip" / "c.jpg").unlink()

    done, _ = restore(repository, tmp_path, restore_message(
        "34", snapshot, files.report, files.notes, files.photos, conflict="skip"))

    assert done == {"type": "restore.done", "job": "34", "restored": 2, "overwritten": 0, "kept_both": 0,
                    "skipped": 4}
    assert files.report.read_text() == "Q3 report, edited since\n"
    assert files.notes.read_text() == "notes, as backed up\n"
    assert (files.photos / "trip" / "c.jpg").read_bytes() == b"C" * 1000


def test_an_item_inside_another_is_restored_once(repository, tmp_path, home):
    files, snapshot = home
    done, _ = restore(repository, tmp_path, restore_message("30", snapshot, files.photos / "a.jpg", files.photos))
    assert done == {"type": "restore.done", "job": "30", "restored": 0, "overwritten": 4, "kept_both": 0,
                    "skipped": 0}


def test_restore_into_another_folder_creates_it_and_leaves_the_originals(repository, tmp_path, home):
    files, snapshot = home
    files.report.write_text("Q3 report, edited since\n")
    target = tmp_path / "restored" / "for ana"
    total = files.size(files.report, files.photos)

    done, control = restore(repository, tmp_path, restore_message(
        "35", snapshot, files.report, files.photos, target=target, total_bytes=total))

    assert done == {"type": "restore.done", "job": "35", "restored": 5, "overwritten": 0, "kept_both": 0,
                    "skipped": 0}
    assert tree(target) == ["photos", "photos/a.jpg", "photos/b.jpg", "photos/latest", "photos/trip",
                            "photos/trip/c.jpg", "report.odt"]
    assert (target / "report.odt").read_text() == "Q3 report, as backed up\n"
    assert files.report.read_text() == "Q3 report, edited since\n"
    assert (target / "photos").stat().st_mode & 0o777 == 0o750
    assert control.of_type("restore.progress")[-1]["bytes_done"] == total
    assert staging_folders(tmp_path) == []


def test_missing_folders_on_the_way_come_back_as_they_were(repository, tmp_path, home):
    files, snapshot = home
    shutil.rmtree(files.ana)

    done, _ = restore(repository, tmp_path, restore_message("36", snapshot, files.photos / "trip" / "c.jpg"))

    assert done["type"] == "restore.done" and done["restored"] == 1, done
    assert tree(files.ana) == ["photos", "photos/trip", "photos/trip/c.jpg"]
    assert files.photos.stat().st_mode & 0o777 == 0o750  # the folder's mode from the snapshot
    assert staging_folders(tmp_path) == []


def test_a_restored_symlink_is_a_symlink_and_an_existing_one_is_replaced_not_followed(repository, tmp_path, home):
    files, snapshot = home
    files.link.unlink()
    files.report.unlink()
    files.report.symlink_to(files.victim)  # someone put a link where the report was

    done, _ = restore(repository, tmp_path, restore_message("37", snapshot, files.link, files.report))

    assert done == {"type": "restore.done", "job": "37", "restored": 1, "overwritten": 1, "kept_both": 0,
                    "skipped": 0}
    assert os.readlink(files.link) == str(files.victim)
    assert not files.report.is_symlink() and files.report.read_text() == "Q3 report, as backed up\n"
    assert files.victim.read_text() == "not Ana's to change\n"
    assert tree(files.outside) == ["victim.txt"]


def test_names_with_a_newline(repository, tmp_path, home):
    files, snapshot = home
    files.newline.unlink()
    first, _ = restore(repository, tmp_path, restore_message("38", snapshot, files.newline))
    second, _ = restore(repository, tmp_path, restore_message("39", snapshot, files.newline, conflict="keep_both"))

    assert first["restored"] == 1 and second["kept_both"] == 1
    assert files.newline.read_text() == "a name on two lines\n"
    assert (files.ana / "new\nline (restored).txt").read_text() == "a name on two lines\n"


def test_a_destination_through_a_symlink_is_refused_and_nothing_is_written_outside(repository, tmp_path, home):
    files, snapshot = home
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(files.photos)
    files.photos.symlink_to(files.outside)
    (tmp_path / "link-to-elsewhere").symlink_to(elsewhere)

    into_link, _ = restore(repository, tmp_path, restore_message("40", snapshot, files.photos / "a.jpg"))
    beneath_link, _ = restore(repository, tmp_path, restore_message(
        "41", snapshot, files.report, target=tmp_path / "link-to-elsewhere" / "restored"))
    ana_moved = tmp_path / "ana-moved"
    files.ana.rename(ana_moved)
    files.ana.symlink_to(ana_moved)
    whole_link, _ = restore(repository, tmp_path, restore_message("42", snapshot, files.report))

    assert into_link == {"type": "restore.failed", "job": "40",
                         "message": f"{files.photos} is a symbolic link: a restore never writes through one"}
    assert beneath_link["message"] == f"{tmp_path / 'link-to-elsewhere'} is a symbolic link: a restore never writes through one"
    assert whole_link["message"] == f"{files.ana} is a symbolic link: a restore never writes through one"
    assert tree(files.outside) == ["victim.txt"]
    assert tree(elsewhere) == []
    assert staging_folders(tmp_path) == []


def test_a_target_that_is_a_file_is_refused(repository, tmp_path, home):
    files, snapshot = home
    failed, _ = restore(repository, tmp_path, restore_message("43", snapshot, files.notes, target=files.report))
    assert failed == {"type": "restore.failed", "job": "43", "message": f"{files.report} is not a folder"}


@pytest.mark.parametrize("change, reason", [
    ({"items": [{"path": "/home/ana/../bob/report.odt", "type": "file"}]},
     "item must be a normalised path (no '.', '..' or empty parts): '/home/ana/../bob/report.odt'"),
    ({"items": [{"path": "/home/./ana", "type": "dir"}]},
     "item must be a normalised path (no '.', '..' or empty parts): '/home/./ana'"),
    ({"items": [{"path": "/home//ana", "type": "dir"}]},
     "item must be a normalised path (no '.', '..' or empty parts): '/home//ana'"),
    ({"items": [{"path": "/home/ana/", "type": "dir"}]},
     "item must be a normalised path (no '.', '..' or empty parts): '/home/ana/'"),
    ({"items": [{"path": "home/ana", "type": "dir"}]}, "item must be an absolute path: 'home/ana'"),
    ({"items": [{"path": "/home/\0", "type": "dir"}]}, "item must be an absolute path: '/home/\\x00'"),
    ({"items": [{"path": "/", "type": "dir"}]},
     "an item names a file or folder inside the snapshot, not its root"),
    ({"items": []}, "items must be a list of at least one item"),
    ({"items": ["/home/ana"]}, "item must be an absolute path: None"),
    ({"target": "restored"}, "target must be an absolute path: 'restored'"),
    ({"target": "/srv/../etc"}, "target must be a normalised path (no '.', '..' or empty parts): '/srv/../etc'"),
    ({"conflict": "merge"}, "conflict must be one of overwrite, keep_both, skip"),
    ({"snapshot": "latest"}, "snapshot must be a snapshot id (hexadecimal)"),
    ({"total_bytes": -1}, "total_bytes must be a whole number of bytes"),
    ({"total_bytes": True}, "total_bytes must be a whole number of bytes"),
    ({"password": ""}, "password must be the repository's key"),
])
def test_a_malformed_restore_is_refused_before_anything_is_written(repository, tmp_path, change, reason):
    message = {**restore_message("44", "ab" * 32, "/home/ana/report.odt", target=tmp_path / "target"), **change}
    failed, control = restore(repository, tmp_path, message)
    assert control.sent == [{"type": "restore.failed", "job": "44", "message": reason}]
    assert tree(tmp_path) == []


def test_an_item_not_in_the_snapshot_fails_and_moves_nothing(repository, tmp_path, home):
    files, snapshot = home
    files.report.write_text("Q3 report, edited since\n")
    failed, _ = restore(repository, tmp_path, restore_message("45", snapshot, files.report, files.ana / "absent"))
    assert failed == {"type": "restore.failed", "job": "45",
                      "message": f"not in snapshot {snapshot[:8]}: {str(files.ana / 'absent')!r}"}
    assert files.report.read_text() == "Q3 report, edited since\n"
    assert staging_folders(tmp_path) == []


def test_a_wrong_password_fails_and_leaves_everything_as_it_was(repository, tmp_path, home):
    files, snapshot = home
    files.report.write_text("Q3 report, edited since\n")
    before = tree(files.root / "home")
    failed, _ = restore(repository, tmp_path, restore_message("46", snapshot, files.report, password="nope"))
    assert failed == {"type": "restore.failed", "job": "46", "message": "wrong password or no key found"}
    assert files.report.read_text() == "Q3 report, edited since\n"
    assert tree(files.root / "home") == before


def test_a_staging_folder_left_behind_is_not_reused(repository, tmp_path, home):
    files, snapshot = home
    left = files.ana / ".portico-restore-47"
    left.mkdir()
    (left / "partial").write_text("from a restore the agent did not finish\n")
    failed, _ = restore(repository, tmp_path, restore_message("47", snapshot, files.report, files.notes))
    assert failed == {"type": "restore.failed", "job": "47",
                      "message": f"{left} already exists (left by an interrupted restore?)"}
    assert (left / "partial").exists()


def test_stopping_mid_restore_leaves_the_originals_and_removes_the_staging_folder(repository, tmp_path, home):
    files, snapshot = home
    big = files.ana / "video.mp4"
    big.write_bytes(os.urandom(2 << 20))
    snapshot = repository.snapshot_of(files.ana)
    big.write_bytes(b"edited since")
    files.report.write_text("Q3 report, edited since\n")
    slow, pids = slow_restic(tmp_path, repository.restic)

    async def scenario():
        control = Control()
        backups = backups_on(repository, tmp_path, restic=slow)
        await backups.restore(restore_message("48", snapshot, files.report, big), control.send)
        # Both items' folder, the deepest they share, holds the staging folder; restic is restoring
        # once it has made the items' folders there (it fetches the data at 64 KiB/s then).
        staged = files.ana / ".portico-restore-48" / files.ana.relative_to("/")
        await eventually(staged.is_dir, timeout=RESTIC_WAIT)
        assert backups.busy
        await backups.close()
        return control

    control = run(scenario())
    assert [m["type"] for m in control.sent if m["type"] != "restore.progress"] == []
    assert big.read_bytes() == b"edited since"
    assert files.report.read_text() == "Q3 report, edited since\n"
    assert not pid_alive(int(pids.read_text().split()[0]))
    assert staging_folders(tmp_path) == []
    assert repository.locks() == []


@pytest.fixture
def mounted(tmp_path):
    """A tmpfs mounted inside the test's folder: a second file system. Needs root (and a system that
    lets it mount)."""
    point = tmp_path / "home" / "usb"
    point.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=True)


def test_items_on_two_file_systems_are_staged_on_each(repository, tmp_path, mounted):
    files = Home(tmp_path)
    on_usb = mounted / "scan.pdf"
    on_usb.write_text("scanned\n")
    snapshot = repository.snapshot_of(files.ana, mounted)
    files.report.unlink()
    on_usb.unlink()
    slow, pids = slow_restic(tmp_path, repository.restic, kib_per_second=1024)

    async def scenario():
        control = Control()
        backups = backups_on(repository, tmp_path, restic=slow)
        await backups.restore(restore_message("49", snapshot, files.report, on_usb), control.send)
        await eventually(lambda: len(staging_folders(tmp_path)) == 2, timeout=RESTIC_WAIT)
        seen = staging_folders(tmp_path)
        return await control.last_word("49"), seen

    done, seen = run(scenario())
    assert done["type"] == "restore.done" and done["restored"] == 2, done
    assert seen == [files.ana / ".portico-restore-49", mounted / ".portico-restore-49"]
    assert len(pids.read_text().split()) == 2  # one restic per staging folder
    assert on_usb.read_text() == "scanned\n" and files.report.read_text() == "Q3 report, as backed up\n"
    assert staging_folders(tmp_path) == []


def test_restored_names_for_keep_both():
    assert restored_name("report.odt", 1) == "report (restored).odt"
    assert restored_name("report.odt", 2) == "report (restored 2).odt"
    assert restored_name("notes", 1) == "notes (restored)"
    assert restored_name(".bashrc", 1) == ".bashrc (restored)"
    assert restored_name("photos.2024", 1, folder=True) == "photos.2024 (restored)"
