"""backup.run with the real restic on a folder repository: progress, the snapshot, restic's warnings
and failures, and the runs the agent refuses before restic starts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys

import pytest
from backup_support import (
    PASSWORD,
    Control,
    Repository,
    agent_state,
    backup_message,
    backups_on,
    pid_alive,
    restore_message,
    slow_restic,
    wrapper,
)
from own_loop import run
from session_server import CREDENTIAL

from portico_agent.backups import Backups, repository_url


def documents(tmp_path, random_bytes: int = 0):
    source = tmp_path / "documents"
    (source / "letters").mkdir(parents=True)
    (source / "notes.txt").write_text("the report is in letters/\n")
    (source / "letters" / "ana.txt").write_text("Dear Ana,\n")
    (source / "scratch.tmp").write_text("not worth keeping\n")
    if random_bytes:
        (source / "photo.raw").write_bytes(os.urandom(random_bytes))
    return source


def test_backup_reports_progress_then_the_snapshot_restic_lists(restic, tmp_path):
    fresh = Repository(restic, tmp_path / "repo", tmp_path / "cache")
    source = documents(tmp_path, random_bytes=3 << 20)
    slow, _ = slow_restic(tmp_path, restic, kib_per_second=768)

    async def scenario():
        control = Control()
        backups = backups_on(fresh, tmp_path, restic=slow)
        await backups.backup(backup_message("17", source, init=True, exclude=("*.tmp",)), control.send)
        return control, await control.last_word("17")

    control, done = run(scenario())
    assert done["type"] == "backup.done", done
    # restic 0.14's summary gives the short id; the server keeps the full one when it indexes.
    assert re.fullmatch(r"[0-9a-f]{8}", done["snapshot"])
    assert [s["id"] for s in fresh.snapshots() if s["id"].startswith(done["snapshot"])]
    assert (done["files_new"], done["files_changed"], done["files_unmodified"]) == (3, 0, 0)
    assert done["total_files_processed"] == 3
    assert done["total_bytes_processed"] == (3 << 20) + len("the report is in letters/\n") + len("Dear Ana,\n")
    assert done["data_added"] > 3 << 20
    assert done["warnings"] == []
    listed = fresh("ls", "--json", done["snapshot"]).stdout
    assert "notes.txt" in listed and "scratch.tmp" not in listed

    progress = control.of_type("backup.progress")
    assert len(progress) >= 2, control.sent
    assert all(set(p) == {"type", "job", "percent", "files_done", "total_files", "bytes_done", "total_bytes"}
               for p in progress)
    assert all(p["job"] == "17" for p in progress)
    assert max(p["bytes_done"] for p in progress) > 0
    times = [t for t, m in zip(control.times, control.sent) if m["type"] == "backup.progress"]
    assert all(later - earlier >= 0.95 for earlier, later in zip(times, times[1:])), times


def test_init_on_a_repository_that_exists_goes_on_to_back_up(repository, tmp_path):
    source = documents(tmp_path)

    async def scenario():
        control = Control()
        await backups_on(repository, tmp_path).backup(backup_message("18", source, init=True), control.send)
        return await control.last_word("18")

    done = run(scenario())
    assert done["type"] == "backup.done", done
    assert done["files_new"] == 3


def test_a_missing_path_is_a_warning_and_the_rest_is_backed_up(repository, tmp_path):
    source = documents(tmp_path)
    missing = tmp_path / "gone"

    async def scenario():
        control = Control()
        await backups_on(repository, tmp_path).backup(backup_message("19", source, missing), control.send)
        return await control.last_word("19")

    done = run(scenario())
    assert done["type"] == "backup.done", done
    assert done["warnings"] == [f"{missing} does not exist, skipping"]
    assert done["total_files_processed"] == 3


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to run restic without the right to read every file")
def test_an_unreadable_file_is_a_warning_and_the_snapshot_is_still_made(repository, tmp_path):
    # Root reads every file: restic here runs as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH,
    # so a file of mode 000 is unreadable to it, and restic exits 3.
    source = documents(tmp_path)
    locked = source / "locked.txt"
    locked.write_text("secret\n")
    locked.chmod(0)
    limited = wrapper(tmp_path / "restic-without-dac",
                      f'exec setpriv --bounding-set -dac_override,-dac_read_search {repository.restic} "$@"')

    async def scenario():
        control = Control()
        await backups_on(repository, tmp_path, restic=limited).backup(backup_message("20", source), control.send)
        return await control.last_word("20")

    done = run(scenario())
    assert done["type"] == "backup.done", done
    assert done["warnings"] == [f"open {locked}: Permission denied",
                                "Warning: at least one source file could not be read"]
    assert any(s["id"].startswith(done["snapshot"]) for s in repository.snapshots())
    assert done["total_files_processed"] == 3


def test_a_wrong_password_fails_with_restics_reason(repository, tmp_path):
    source = documents(tmp_path)

    async def scenario():
        control = Control()
        message = backup_message("21", source, password="not the key")
        await backups_on(repository, tmp_path).backup(message, control.send)
        return control, await control.last_word("21")

    control, failed = run(scenario())
    assert failed == {"type": "backup.failed", "job": "21", "message": "wrong password or no key found",
                      "exit_code": 1}
    assert control.of_type("backup.progress") == []


def test_no_repository_fails_with_restics_reason(restic, tmp_path):
    nowhere = Repository(restic, tmp_path / "no-repo", tmp_path / "cache")
    source = documents(tmp_path)

    async def scenario():
        control = Control()
        await backups_on(nowhere, tmp_path).backup(backup_message("22", source), control.send)
        return await control.last_word("22")

    failed = run(scenario())
    assert failed["type"] == "backup.failed" and failed["exit_code"] == 1
    assert failed["message"].startswith("unable to open config file")
    assert "Is there a repository at the following location?" in failed["message"]


def test_one_run_at_a_time(repository, tmp_path):
    source = documents(tmp_path)

    async def scenario():
        control = Control()
        backups = backups_on(repository, tmp_path)
        await backups.backup(backup_message("23", source), control.send)
        await backups.backup(backup_message("24", source), control.send)
        await backups.restore(restore_message("25", "0" * 64, source / "notes.txt"), control.send)
        refused = list(control.sent)
        await backups.close()
        return refused

    refused = run(scenario())
    busy = "another backup or restore is running on this device"
    assert refused == [
        {"type": "backup.failed", "job": "24", "message": busy, "exit_code": None},
        {"type": "restore.failed", "job": "25", "message": busy},
    ]


def test_stopping_the_agent_interrupts_restic_and_leaves_no_lock(repository, tmp_path):
    source = documents(tmp_path, random_bytes=2 << 20)
    slow, pids = slow_restic(tmp_path, repository.restic)
    before = len(repository.snapshots())

    async def scenario():
        control = Control()
        backups = backups_on(repository, tmp_path, restic=slow)
        await backups.backup(backup_message("26", source), control.send)
        while not control.of_type("backup.progress"):
            await asyncio.sleep(0.02)
        await backups.close()
        return control, backups.busy

    control, busy = run(scenario())
    assert not busy
    assert not [m for m in control.sent if m["type"] != "backup.progress"]  # no word: the agent is stopping
    assert not pid_alive(int(pids.read_text().split()[0]))
    assert len(repository.snapshots()) == before
    assert repository.locks() == []  # SIGINT: restic removed its lock on the way out


@pytest.mark.parametrize("change, reason", [
    ({"paths": []}, "paths must be a list of 1 to 100 strings"),
    ({"paths": ["/tmp"] * 101}, "paths must be a list of 1 to 100 strings"),
    ({"paths": "/home"}, "paths must be a list of 1 to 100 strings"),
    ({"paths": ["home/ana"]}, "not an absolute path: 'home/ana'"),
    ({"paths": ["/home/\0ana"]}, "paths must hold non-empty strings without NUL: '/home/\\x00ana'"),
    ({"exclude": ["*.tmp"] * 201}, "exclude must be a list of 0 to 200 strings"),
    ({"exclude": [""]}, "exclude must hold non-empty strings without NUL: ''"),
    ({"password": ""}, "password must be the repository's key"),
    ({"password": None}, "password must be the repository's key"),
    ({"init": "yes"}, "init must be true or false"),
])
def test_a_malformed_backup_is_refused_before_restic_runs(tmp_path, change, reason):
    never = wrapper(tmp_path / "never", f"touch {tmp_path / 'ran'}; exit 1")

    async def scenario():
        control = Control()
        message = {**backup_message("27", "/etc"), **change}
        await backups_on(Repository(never, tmp_path / "repo", tmp_path), tmp_path).backup(message, control.send)
        return control.sent

    assert run(scenario()) == [{"type": "backup.failed", "job": "27", "message": reason, "exit_code": None}]
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("job", [None, 27, "", "27a", "-1", "1" * 21])
def test_a_run_without_a_usable_job_id_is_not_answered(tmp_path, job):
    async def scenario():
        control = Control()
        backups = backups_on(Repository("restic", tmp_path / "repo", tmp_path), tmp_path)
        await backups.backup({**backup_message("1", "/etc"), "job": job}, control.send)
        await backups.restore({**restore_message("1", "0" * 64, "/etc/hosts"), "job": job}, control.send)
        return control.sent, backups.busy

    assert run(scenario()) == ([], False)


def test_a_missing_restic_fails_without_an_exit_code(tmp_path):
    async def scenario():
        control = Control()
        backups = backups_on(Repository("restic", tmp_path / "repo", tmp_path), tmp_path,
                             restic=str(tmp_path / "no-restic"))
        await backups.backup(backup_message("28", tmp_path), control.send)
        return await control.last_word("28")

    failed = run(scenario())
    assert failed == {"type": "backup.failed", "job": "28", "exit_code": None,
                      "message": f"cannot run restic ({tmp_path / 'no-restic'}): No such file or directory"}


def test_restic_gets_the_repository_and_key_in_its_environment_only(repository, tmp_path, tls_files):
    """The server's repository URL and the key reach restic through its environment, the pinned CA
    as --cacert, and restic's cache goes where the agent says; nothing secret on its command line."""
    starts = tmp_path / "starts.jsonl"
    recording = tmp_path / "recording-restic"
    recording.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(starts)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'argv': sys.argv[1:], 'env': {k: v for k, v in os.environ.items()\n"
        "                                                      if k.startswith('RESTIC_')}}) + '\\n')\n"
        f"os.environ['RESTIC_REPOSITORY'] = {str(repository.path)!r}\n"
        f"os.execv({repository.restic!r}, [{repository.restic!r}, *sys.argv[1:]])\n"
    )
    recording.chmod(0o755)
    state = agent_state(server="https://portico.example.com:8443/msp", credential="a/b:c@d",
                        ca_file=str(tls_files.ca_file))
    source = documents(tmp_path)

    async def scenario():
        control = Control()
        backups = Backups(state, cache_dir=tmp_path / "agent-cache", restic=str(recording))
        await backups.backup(backup_message("29", source), control.send)
        return await control.last_word("29")

    done = run(scenario())
    assert done["type"] == "backup.done", done
    started = [json.loads(line) for line in starts.read_text().splitlines()]
    assert [s["argv"][:3] for s in started] == [["backup", "--cacert", str(tls_files.ca_file)]]
    for each in started:
        assert each["env"] == {
            "RESTIC_REPOSITORY": "rest:https://42:a%2Fb%3Ac%40d@portico.example.com:8443/msp/backups/v1/42/",
            "RESTIC_PASSWORD": PASSWORD,
            "RESTIC_CACHE_DIR": str(tmp_path / "agent-cache"),
        }
        assert not any(PASSWORD in arg or "a/b:c@d" in arg or "a%2Fb" in arg for arg in each["argv"])


@pytest.mark.parametrize("server, url", [
    ("http://127.0.0.1:8000", "rest:http://42:{c}@127.0.0.1:8000/backups/v1/42/"),
    ("https://portico.example.com/", "rest:https://42:{c}@portico.example.com/backups/v1/42/"),
    ("http://[::1]:9000", "rest:http://42:{c}@[::1]:9000/backups/v1/42/"),
])
def test_the_repository_is_the_devices_own_on_its_server(server, url):
    assert repository_url(agent_state(server=server)) == url.format(c=CREDENTIAL)
