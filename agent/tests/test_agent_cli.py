"""The real `portico-agent` command, run as a subprocess, as a service manager would run it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from own_loop import run

from portico_agent import cli, state
from portico_agent.state import AgentState

AGENT_DIR = Path(__file__).resolve().parents[1]
WAIT = 10


def agent_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess that finds the agent even when it is not installed."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(AGENT_DIR), env.get("PYTHONPATH")]))
    return env


def test_python_m_portico_agent_help():
    done = subprocess.run(
        [sys.executable, "-m", "portico_agent", "--help"], capture_output=True, text=True, env=agent_env(), timeout=WAIT
    )
    assert done.returncode == 0
    assert "enrol" in done.stdout and "run" in done.stdout


def test_the_agent_imports_nothing_from_django():
    code = (
        "import sys, portico_agent.cli, portico_agent.connection, portico_agent.enrol, portico_agent.inventory,"
        " portico_agent.sessions;"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] == 'django'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=agent_env(), timeout=WAIT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_run_without_a_state_file_asks_for_enrolment(tmp_path, capsys):
    assert cli.main(["run", "--state", str(tmp_path / "absent.json")]) == cli.EXIT_ENROL_AGAIN
    assert "portico-agent enrol" in capsys.readouterr().err


def test_run_refuses_plain_http_to_a_remote_server(tmp_path, capsys):
    path = tmp_path / "state.json"
    state.save(AgentState(server="http://portico.example.com", device_id=1, credential="c"), path)
    assert cli.main(["run", "--state", str(path)]) == 1
    assert "refusing plain http://" in capsys.readouterr().err


async def run_agent(state_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portico_agent", "run",
        env=agent_env(PORTICO_AGENT_STATE=str(state_path)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


def test_run_stops_with_a_clear_message_when_the_credential_is_revoked(control_server, tmp_path):
    inventories = []

    async def handler(ws):
        await ws.send(json.dumps({"type": "welcome", "device_id": 42, "heartbeat_seconds": 30}))
        inventories.append(json.loads(await asyncio.wait_for(ws.recv(), WAIT)))
        await ws.close(4401, "credential revoked")

    async def scenario():
        async with control_server(handler) as url:
            path = tmp_path / "state.json"
            state.save(AgentState(server=url, device_id=42, credential="secret-value"), path)
            process = await run_agent(path)
            _, err = await asyncio.wait_for(process.communicate(), WAIT)
            return process.returncode, err.decode()

    code, err = run(scenario())
    assert code == cli.EXIT_ENROL_AGAIN
    assert "credential refused: enrol again" in err
    assert "secret-value" not in err
    assert inventories[0]["type"] == "inventory" and inventories[0]["hostname"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_closes_the_connection_cleanly(control_server, tmp_path):
    closed = []

    async def scenario():
        ready = asyncio.Event()

        async def handler(ws):
            await ws.send(json.dumps({"type": "welcome", "device_id": 42, "heartbeat_seconds": 30}))
            await asyncio.wait_for(ws.recv(), WAIT)
            ready.set()
            await ws.wait_closed()
            closed.append(ws.close_code)

        async with control_server(handler) as url:
            path = tmp_path / "state.json"
            state.save(AgentState(server=url, device_id=42, credential="c"), path)
            process = await run_agent(path)
            await asyncio.wait_for(ready.wait(), WAIT)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.communicate(), WAIT)
            await asyncio.sleep(0.05)
            return process.returncode

    assert run(scenario()) == 0
    assert closed == [1001]  # going away


def test_the_systemd_unit_runs_the_command_and_leaves_exit_3_alone():
    import configparser

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(AGENT_DIR / "packaging" / "portico-agent.service")
    service = unit["Service"]
    assert service["ExecStart"] == "/usr/local/bin/portico-agent run"
    assert (service["Type"], service["Restart"], service["RestartSec"]) == ("simple", "always", "5")
    assert service["RestartPreventExitStatus"] == str(cli.EXIT_ENROL_AGAIN)
    assert service["StateDirectory"] == "portico-agent"
    assert service["Environment"] == f"PORTICO_AGENT_STATE={state.DEFAULT_PATH}"
