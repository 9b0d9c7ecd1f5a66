"""Consent: the person at the device is asked (and may say no, or nothing) or told, through the
agent's --consent-command, here a test script, or zenity / notify-send on their display."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import sys
from pathlib import Path

import pytest
from own_loop import run
from session_server import ControlSide, eventually, open_message, ready, serving

from portico_agent.sessions import SessionOptions

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="consent scripts are POSIX shell scripts")


@pytest.fixture
def vnc_port():
    """A port where something listens, for sessions that only need their tunnel to connect."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def recording_script(tmp_path: Path, then: str) -> tuple[Path, Path]:
    """A consent command that writes its pid, environment and arguments down, then runs `then`."""
    record = tmp_path / "record"
    command = script(tmp_path / "consent", f"""\
printf '%s\\n' "$$" "$PORTICO_CONSENT" "$PORTICO_SESSION_KIND" "$@" > {record}.tmp
mv {record}.tmp {record}
{then}
""")
    return command, record


def serve_session(message: dict, options: SessionOptions, consent_seconds: float = 5, **kwargs):
    """Open `message`; the ready frame if a socket opened, else what the control connection got."""
    control = ControlSide()

    async def scenario():
        async with serving(options, consent_seconds=consent_seconds, **kwargs) as (sessions, sockets):
            loop = asyncio.get_running_loop()
            started = loop.time()
            await sessions.open(message, control.send)
            await eventually(lambda: control.sent or sockets.opened)
            waited = loop.time() - started
            if control.sent:
                return control.sent, waited
            return await ready(sockets.opened[0]), waited

    return run(scenario())


def test_ask_granted(tmp_path, vnc_port):
    command, record = recording_script(tmp_path, "exit 0")
    options = SessionOptions(consent_command=(str(command), "--title", "IT support"), vnc_port=vnc_port)
    answer, _ = serve_session(open_message("remote_control", consent="ask", view_only=True), options)
    assert answer == {"type": "ready", "consent": "granted"}
    _, mode, kind, *arguments = record.read_text().splitlines()
    assert (mode, kind) == ("ask", "remote_control")
    assert arguments == ["--title", "IT support", "Tess Tech, through Portico, asks to see your screen. Allow?"]


def test_ask_denied(tmp_path):
    command, _ = recording_script(tmp_path, "exit 1")
    answer, _ = serve_session(open_message("system_cli", session="s-5", consent="ask"),
                              SessionOptions(consent_command=(str(command),)))
    assert answer == [{"type": "session.refused", "session": "s-5", "reason": "consent_denied",
                       "detail": "the person at the device said no"}]


def test_ask_unanswered_times_out_and_the_asker_is_killed(tmp_path):
    command, record = recording_script(tmp_path, "sleep 30")
    answer, waited = serve_session(open_message("system_cli", consent="ask"),
                                   SessionOptions(consent_command=(str(command),)), consent_seconds=0.5)
    assert [(m["reason"], m["detail"]) for m in answer] == [("consent_timeout", "no answer within 0.5 s")]
    assert 0.5 <= waited < 3
    asker = int(record.read_text().splitlines()[0])
    if sys.platform.startswith("linux"):
        assert not Path(f"/proc/{asker}").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="a command line as another user is available to root only")
def test_ask_for_a_user_command_line_names_the_user(tmp_path):
    command, record = recording_script(tmp_path, "exit 1")
    serve_session(open_message("user_cli", consent="ask"),
                  SessionOptions(consent_command=(str(command),)), find_logged_in_user=lambda: "nobody")
    prompt = record.read_text().splitlines()[-1]
    assert prompt == "Tess Tech, through Portico, asks to open a command line on this computer as nobody. Allow?"


def test_notify_does_not_wait_for_an_answer(tmp_path, vnc_port):
    command, record = recording_script(tmp_path, "sleep 5; exit 1")
    answer, waited = serve_session(open_message("remote_control", consent="notify"),
                                   SessionOptions(consent_command=(str(command),), vnc_port=vnc_port))
    assert answer == {"type": "ready", "consent": "notified"}
    assert waited < 2
    _, mode, _, prompt = record.read_text().splitlines()
    assert mode == "notify"
    assert prompt == "Tess Tech, through Portico, is about to see and control your screen."


def test_consent_none_runs_nothing(tmp_path, vnc_port):
    command, record = recording_script(tmp_path, "exit 1")
    answer, _ = serve_session(open_message("remote_control", consent="none"),
                              SessionOptions(consent_command=(str(command),), vnc_port=vnc_port))
    assert answer == {"type": "ready", "consent": "not_asked"}
    assert not record.exists()


def test_ask_with_no_one_to_ask_times_out(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "zenity" else real_which(name, *a, **k))
    answer, waited = serve_session(open_message("system_cli", consent="ask"), SessionOptions())
    assert [(m["reason"], m["detail"]) for m in answer] == [("consent_timeout", "no one to ask")]
    assert waited < 2


@pytest.mark.parametrize(("status", "expected"), [(0, "granted"), (1, "consent_denied"), (5, "consent_timeout")])
def test_ask_without_a_command_uses_zenity_on_the_display(tmp_path, monkeypatch, vnc_port, status, expected):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "zenity-args"
    script(bin_dir / "zenity", f'printf "%s\\n" "$DISPLAY" "$@" > {record}\nexit {status}\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":7")
    answer, _ = serve_session(open_message("remote_control", consent="ask"),
                              SessionOptions(vnc_port=vnc_port), find_logged_in_user=lambda: None)
    said = answer["consent"] if isinstance(answer, dict) else answer[0]["reason"]
    assert said == expected
    display, *arguments = record.read_text().splitlines()
    assert display == ":7"
    assert arguments[:3] == ["--question", "--no-markup", "--title=Portico"]
    assert arguments[-1] == "--text=Tess Tech, through Portico, asks to see and control your screen. Allow?"
