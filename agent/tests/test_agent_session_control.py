"""Sessions from end to end: session.open arriving on the control connection, the session's own
socket dialled with the device's credential and TLS pinning, heartbeats going on meanwhile, and
the real `portico-agent run` with its session options."""

from __future__ import annotations

import asyncio
import json
import signal
import stat
import sys
from pathlib import Path

import pytest
from fake_vnc import KEY_DOWN_A, UPDATE_REQUEST, FakeVnc, Viewer
from own_loop import run
from session_server import CREDENTIAL, WAIT, ControlSide, open_message, ready
from test_agent_cli import agent_env

from portico_agent import state
from portico_agent.connection import Backoff, ControlConnection
from portico_agent.sessions import SessionOptions, Sessions
from portico_agent.state import AgentState

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="consent scripts are POSIX shell scripts")


def consent_script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "consent"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


class Portico:
    """The server's two endpoints an agent dials: its control connection, and sessions' sockets."""

    def __init__(self, messages: list[dict]) -> None:
        self.messages = messages  # session.open messages sent once the agent's inventory arrived
        self.control: list[tuple[float, dict]] = []
        self.session_sockets: asyncio.Queue = asyncio.Queue()  # made on the scenario's loop (Python 3.9)
        self.session_paths: list[str] = []

    async def handler(self, ws) -> None:
        if ws.request.path.startswith("/agent/v1/sessions/"):
            self.session_paths.append(ws.request.path)
            await self.session_sockets.put(ws)
            await ws.wait_closed()
            return
        await ws.send(json.dumps({"type": "welcome", "device_id": 42, "heartbeat_seconds": 0.05}))
        self.control.append((asyncio.get_running_loop().time(), json.loads(await ws.recv())))
        for message in self.messages:
            await ws.send(json.dumps(message))
        async for raw in ws:
            self.control.append((asyncio.get_running_loop().time(), json.loads(raw)))

    def heartbeats_between(self, start: float, end: float) -> int:
        return sum(1 for at, message in self.control if message["type"] == "heartbeat" and start <= at <= end)


@posix_only
def test_heartbeats_go_on_while_sessions_wait_for_consent(control_server, tmp_path):
    vnc = FakeVnc()
    asking = consent_script(tmp_path, "sleep 0.6; exit 0")

    async def scenario():
        portico = Portico([
            open_message("remote_control", session="asked", consent="ask"),
            open_message("system_cli", session="refused", rights=["user_cli"]),
        ])
        vnc_server = await asyncio.start_server(vnc.handle, "127.0.0.1", 0)
        options = SessionOptions(consent_command=(asking,), vnc_port=vnc_server.sockets[0].getsockname()[1])
        async with vnc_server, control_server(portico.handler) as url:
            agent_state = AgentState(server=url, device_id=42, credential=CREDENTIAL)
            connection = ControlConnection(agent_state, probe=lambda: {"type": "inventory"},
                                           backoff=Backoff(0.01), open_timeout=WAIT)
            sessions = Sessions(agent_state, options)
            connection.handlers["session.open"] = sessions.open
            control = asyncio.ensure_future(connection.run())
            try:
                asked_at = asyncio.get_running_loop().time()
                ws = await asyncio.wait_for(portico.session_sockets.get(), WAIT)
                opened_at = asyncio.get_running_loop().time()
                headers = ws.request.headers
                answer = await ready(ws)
                await Viewer(ws).handshake()
                await ws.close()
            finally:
                control.cancel()
                await asyncio.gather(control, return_exceptions=True)
                await sessions.close()
            return portico, asked_at, opened_at, headers, answer

    portico, asked_at, opened_at, headers, answer = run(scenario())
    assert answer == {"type": "ready", "consent": "granted"}
    assert opened_at - asked_at >= 0.6
    assert portico.heartbeats_between(asked_at, opened_at) >= 5  # one every 0.05 s while the person was asked
    refusals = [message for _, message in portico.control if message["type"] == "session.refused"]
    assert [(m["session"], m["reason"]) for m in refusals] == [("refused", "not_allowed")]
    assert headers["Authorization"] == f"Bearer 42.{CREDENTIAL}"
    assert "Sec-WebSocket-Extensions" not in headers  # no compression
    assert portico.session_paths == ["/agent/v1/sessions/asked"]


def test_the_session_socket_pins_the_agents_ca(control_server, tls_files, other_tls_files, caplog):
    vnc = FakeVnc()

    async def open_with(ca_file: Path) -> tuple[int, list[dict]]:
        opened = []

        async def handler(ws):
            opened.append(ws.request.path)
            await ws.wait_closed()

        vnc_server = await asyncio.start_server(vnc.handle, "127.0.0.1", 0)
        options = SessionOptions(vnc_port=vnc_server.sockets[0].getsockname()[1])
        control = ControlSide()
        async with vnc_server, control_server(handler, ssl_context=tls_files.server_context()) as url:
            sessions = Sessions(AgentState(server=url, device_id=42, credential="c", ca_file=str(ca_file)), options)
            await sessions.open(open_message("remote_control", session="tls-1"), control.send)
            for _ in range(200):
                if opened or "cannot open its socket" in caplog.text:
                    break
                await asyncio.sleep(0.01)
            await sessions.close()
        return opened, control.sent

    assert run(open_with(tls_files.ca_file)) == (["/agent/v1/sessions/tls-1"], [])
    assert run(open_with(other_tls_files.ca_file)) == ([], [])
    assert "session tls-1: cannot open its socket" in caplog.text and "CERTIFICATE_VERIFY_FAILED" in caplog.text


@posix_only
def test_portico_agent_run_serves_sessions_with_its_options(control_server, tmp_path):
    vnc = FakeVnc()
    record = tmp_path / "asked"
    asking = consent_script(tmp_path, f'printf "%s\\n" "$@" > {record}; exit 0')
    async def scenario():
        portico = Portico([open_message("remote_control", session="cli-1", consent="ask", view_only=True,
                                        requested_by="Ana")])
        vnc_server = await asyncio.start_server(vnc.handle, "127.0.0.1", 0)
        vnc_port = vnc_server.sockets[0].getsockname()[1]
        async with vnc_server, control_server(portico.handler) as url:
            path = tmp_path / "state.json"
            state.save(AgentState(server=url, device_id=42, credential=CREDENTIAL), path)
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "portico_agent", "run", "--state", str(path), "--vnc-port", str(vnc_port),
                "--consent-command", f"{asking} --from-portico", "--session-user", "nobody",
                env=agent_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            try:
                ws = await asyncio.wait_for(portico.session_sockets.get(), WAIT)
                answer = await ready(ws)
                await Viewer(ws).handshake()
                await ws.send(KEY_DOWN_A)  # dropped: the session is view-only
                await ws.send(UPDATE_REQUEST)
                for _ in range(200):
                    if vnc.received:
                        break
                    await asyncio.sleep(0.01)
            finally:
                process.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(process.communicate(), WAIT)
            return answer, process.returncode, err.decode()

    answer, code, err = run(scenario())
    assert answer == {"type": "ready", "consent": "granted"}, err
    assert code == 0, err
    assert bytes(vnc.received) == UPDATE_REQUEST
    assert record.read_text().splitlines() == ["--from-portico", "Ana, through Portico, asks to see your screen. Allow?"]
    assert CREDENTIAL not in err


def test_run_rejects_unusable_session_options(capsys):
    from portico_agent import cli

    for arguments in (["--vnc-port", "0"], ["--vnc-port", "70000"], ["--x11vnc-display", "remote:0"],
                      ["--vnc-port", "5900", "--x11vnc-display", ":0"], ["--consent-command", "'unclosed"],
                      ["--consent-command", ""]):
        with pytest.raises(SystemExit) as exited:
            cli.build_parser().parse_args(["run", *arguments])
        assert exited.value.code == 2, arguments
    parsed = cli.build_parser().parse_args(
        ["run", "--x11vnc-display", ":1", "--consent-command", "/usr/bin/ask --title 'IT desk'", "--session-user", "kiosk"]
    )
    options = cli._session_options(parsed)
    assert options == SessionOptions(consent_command=("/usr/bin/ask", "--title", "IT desk"), session_user="kiosk",
                                     vnc_port=None, x11vnc_display=":1")
