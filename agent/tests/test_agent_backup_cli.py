"""Backups through the real `portico-agent run`: backup.run and restore.run arrive on its control
connection, restic gets the server's repository in its environment, and restic ends with the agent
however the agent ends."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from backup_support import RESTIC_WAIT, Repository, backup_message, pid_alive, restore_message
from own_loop import run
from session_server import CREDENTIAL, WAIT, eventually
from test_agent_cli import agent_env

from portico_agent import state
from portico_agent.state import AgentState


class Portico:
    """The server's control endpoint: sends `messages` once the agent's inventory came, keeps the rest."""

    def __init__(self, messages: list[dict]) -> None:
        self.messages = messages
        self.received: list[dict] = []

    async def handler(self, ws) -> None:
        await ws.send(json.dumps({"type": "welcome", "device_id": 42, "heartbeat_seconds": 30}))
        self.received.append(json.loads(await ws.recv()))
        for message in self.messages:
            await ws.send(json.dumps(message))
        async for raw in ws:
            self.received.append(json.loads(raw))

    def last_word(self) -> dict | None:
        return next((m for m in self.received if m["type"].endswith((".done", ".failed"))), None)


def redirecting_restic(tmp_path: Path, repository: Repository, limit: int | None = None) -> tuple[Path, Path]:
    """A restic that records how the agent started it, then runs the real one on the test's folder
    repository (the loopback server here speaks no restic), at `limit` KiB/s if given."""
    starts = tmp_path / "starts.jsonl"
    script = tmp_path / "restic"
    options = ["--limit-download", str(limit)] if limit else []
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(starts)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'pid': os.getpid(), 'argv': sys.argv[1:],\n"
        "                        'env': {k: v for k, v in os.environ.items() if k.startswith('RESTIC_')}}) + '\\n')\n"
        f"os.environ['RESTIC_REPOSITORY'] = {str(repository.path)!r}\n"
        f"os.execv({repository.restic!r}, [{repository.restic!r}, *{options!r}, *sys.argv[1:]])\n"
    )
    script.chmod(0o755)
    return script, starts


async def start_agent(url: str, state_path: Path, restic: Path) -> asyncio.subprocess.Process:
    state.save(AgentState(server=url, device_id=42, credential=CREDENTIAL), state_path)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portico_agent", "run", "--state", str(state_path), "--restic", str(restic),
        env=agent_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


def test_portico_agent_run_backs_up_with_the_servers_repository(control_server, restic, tmp_path):
    repository = Repository(restic, tmp_path / "repo", tmp_path / "cache").init()
    source = tmp_path / "documents"
    source.mkdir()
    (source / "notes.txt").write_text("backed up by the agent\n")
    fake_restic, starts = redirecting_restic(tmp_path, repository)
    state_path = tmp_path / "state" / "state.json"

    async def scenario():
        portico = Portico([backup_message("61", source)])
        async with control_server(portico.handler) as url:
            process = await start_agent(url, state_path, fake_restic)
            try:
                await eventually(portico.last_word, timeout=RESTIC_WAIT)
            finally:
                process.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(process.communicate(), WAIT)
            return portico.last_word(), url, process.returncode, err.decode()

    done, url, code, err = run(scenario())
    assert done["type"] == "backup.done", (done, err)
    assert any(s["id"].startswith(done["snapshot"]) for s in repository.snapshots())
    assert code == 0, err
    started = json.loads(starts.read_text().splitlines()[0])
    assert started["argv"][0] == "backup"
    port = url.rsplit(":", 1)[1]
    assert started["env"] == {
        "RESTIC_REPOSITORY": f"rest:http://42:{CREDENTIAL}@127.0.0.1:{port}/backups/v1/42/",
        "RESTIC_PASSWORD": "correct horse battery staple",
        "RESTIC_CACHE_DIR": str(state_path.parent / "restic-cache"),
    }
    assert CREDENTIAL not in err and "correct horse battery staple" not in err


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_restic_ends_with_the_agent_and_the_original_stays(control_server, restic, tmp_path, stop):
    repository = Repository(restic, tmp_path / "repo", tmp_path / "cache").init()
    folder = tmp_path / "home" / "ana"
    folder.mkdir(parents=True)
    report = folder / "report.odt"
    report.write_bytes(os.urandom(2_400_000))  # incompressible: restic fetches it at 32 KiB/s
    snapshot = repository.snapshot_of(folder)
    report.write_text("edited since\n")
    fake_restic, starts = redirecting_restic(tmp_path, repository, limit=32)
    staging = folder / ".portico-restore-62"

    async def scenario():
        portico = Portico([restore_message("62", snapshot, report, total_bytes=2_400_000)])
        async with control_server(portico.handler) as url:
            process = await start_agent(url, tmp_path / "state.json", fake_restic)
            try:
                # restic has made the report's folders in the staging folder: it is fetching the data.
                await eventually((staging / folder.relative_to("/")).is_dir, timeout=RESTIC_WAIT)
            finally:
                process.send_signal(stop)
                _, err = await asyncio.wait_for(process.communicate(), WAIT)
            restic_pid = json.loads(starts.read_text().splitlines()[0])["pid"]
            await eventually(lambda: not pid_alive(restic_pid), timeout=WAIT)
            return portico.last_word(), err.decode()

    last_word, err = run(scenario())
    assert last_word is None, err
    assert report.read_text() == "edited since\n"
    assert repository.locks() == []  # SIGINT (from the agent, or from Linux when it died): restic unlocked
    # Stopped, the agent removes its staging folder; killed, it cannot, and the folder stays behind.
    assert staging.exists() == (stop == signal.SIGKILL)
