"""The agent's own check of a session.open, on its own: the kind must be among the session's
rights and one this device can serve, and nothing in the message chooses what runs."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from own_loop import run
from session_server import ControlSide, eventually, open_message, read_until, ready, serving

from portico_agent import terminal
from portico_agent.session_request import NOT_ALLOWED, UNAVAILABLE, Refused, SessionRequest, parse
from portico_agent.sessions import SessionOptions

needs_root_linux = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0, reason="opens a system command line: Linux, as root"
)


def refusal_of(message: dict) -> Refused:
    with pytest.raises(Refused) as refused:
        parse(message)
    return refused.value


def test_a_well_formed_message_is_a_request():
    assert parse(open_message("user_cli", session="abc-12", consent="ask", requested_by="Tess Tech")) == SessionRequest(
        session="abc-12", kind="user_cli", view_only=False, consent="ask", requested_by="Tess Tech"
    )


def test_a_kind_not_in_rights_is_not_allowed():
    refusal = refusal_of(open_message("system_cli", rights=["user_cli"]))
    assert (refusal.reason, refusal.detail) == (NOT_ALLOWED, "system_cli is not among this session's rights")
    assert refusal_of(open_message("remote_control", rights=[])).reason == NOT_ALLOWED


def test_an_unknown_kind_is_not_allowed_even_when_rights_name_it():
    refusal = refusal_of(open_message("root_shell", rights=["root_shell"]))
    assert refusal.reason == NOT_ALLOWED and "unknown kind" in refusal.detail


@pytest.mark.parametrize("fields", [
    {"session": None}, {"session": ""}, {"session": "../control"}, {"session": "a/b"}, {"session": True},
    {"session": -1}, {"session": "x" * 129},
    {"rights": "system_cli"}, {"rights": None}, {"rights": [["system_cli"]]},
    {"view_only": "false"}, {"view_only": None}, {"view_only": 0},
    {"consent": "never"}, {"consent": None}, {"kind": None}, {"kind": 3},
])
def test_a_malformed_message_is_not_allowed(fields):
    message = {**open_message("system_cli"), **fields}
    assert refusal_of(message).reason == NOT_ALLOWED


def test_a_message_without_a_kind_or_consent_is_not_allowed():
    for key in ("kind", "rights", "consent", "session"):
        message = open_message("system_cli")
        del message[key]
        assert refusal_of(message).reason == NOT_ALLOWED, key


def test_a_missing_view_only_is_malformed_not_a_default():
    message = open_message("remote_control")
    del message["view_only"]
    assert refusal_of(message).reason == NOT_ALLOWED


def test_keys_the_protocol_does_not_name_are_not_read():
    crafted = open_message("system_cli", command="rm -rf /", user="nobody", port=22, host="192.0.2.1",
                           shell="/bin/evil", env={"LD_PRELOAD": "x"})
    assert parse(crafted) == parse(open_message("system_cli"))


def test_requested_by_is_shown_printable_and_short():
    request = parse(open_message("system_cli", requested_by="Eve\x1b[2J\x07 " + "x" * 500))
    assert request.requested_by.startswith("Eve[2J ") and len(request.requested_by) == 100
    assert parse(open_message("system_cli", requested_by=None)).requested_by == "a technician"


def test_system_command_line_needs_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(Refused) as refused:
        terminal.system_shell()
    assert (refused.value.reason, refused.value.detail) == (UNAVAILABLE, "the agent does not run as root")


def test_user_command_line_as_another_user_needs_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 54321)
    with pytest.raises(Refused) as refused:
        terminal.user_shell("nobody")
    assert refused.value.reason == UNAVAILABLE


def test_user_command_line_as_the_agents_own_user_runs_the_shell_directly(monkeypatch):
    import pwd

    nobody = pwd.getpwnam("nobody")
    monkeypatch.setattr(os, "geteuid", lambda: nobody.pw_uid)
    command = terminal.user_shell("nobody")
    assert command.argv == (nobody.pw_shell, "-l") and command.uid is None


def test_user_command_line_as_root_is_refused():
    with pytest.raises(Refused) as refused:
        terminal.user_shell("root")
    assert refused.value.reason == UNAVAILABLE and "system command line" in refused.value.detail


def test_user_command_line_for_an_unknown_user_is_unavailable():
    with pytest.raises(Refused) as refused:
        terminal.user_shell("no-such-user-here")
    assert refused.value.reason == UNAVAILABLE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runuser is util-linux's")
def test_user_command_line_as_root_goes_through_runuser(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    command = terminal.user_shell("nobody")
    assert command.argv[0].endswith("/runuser") and command.argv[1:4] == ("-u", "nobody", "--")
    assert command.argv[-1] == "-l" and command.env["USER"] == "nobody" and command.env["HOME"] == "/nonexistent"
    assert command.cwd == "/"  # nobody's home does not exist


def refusals(message: dict, options: SessionOptions | None = None, **kwargs) -> tuple[list[dict], int]:
    """What the agent sends on the control connection for `message`, and how many session sockets it opened."""
    control = ControlSide()

    async def scenario():
        async with serving(options, **kwargs) as (sessions, sockets):
            await sessions.open(message, control.send)
            await eventually(lambda: control.sent)
            await asyncio.sleep(0.05)  # a socket opened after the refusal would show up by now
            return control.sent, len(sockets.opened)

    return run(scenario())


def test_kind_not_in_rights_is_refused_on_the_control_connection_and_no_socket_opens():
    sent, sockets = refusals(open_message("system_cli", session="s-9", rights=["user_cli"]))
    assert sent == [{"type": "session.refused", "session": "s-9", "reason": "not_allowed",
                     "detail": "system_cli is not among this session's rights"}]
    assert sockets == 0


def test_a_malformed_message_is_refused_and_no_socket_opens():
    sent, sockets = refusals(open_message("remote_control", session=7, view_only="no"))
    assert sent[0]["session"] == 7 and sent[0]["reason"] == "not_allowed"
    assert sockets == 0


def test_system_command_line_is_unavailable_when_the_agent_is_not_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    sent, sockets = refusals(open_message("system_cli"))
    assert (sent[0]["reason"], sent[0]["detail"]) == ("unavailable", "the agent does not run as root")
    assert sockets == 0


def test_user_command_line_is_unavailable_when_no_one_is_logged_in():
    sent, sockets = refusals(open_message("user_cli"), find_logged_in_user=lambda: None)
    assert (sent[0]["reason"], sent[0]["detail"]) == ("unavailable", "no one is logged in")
    assert sockets == 0


def test_remote_control_is_unavailable_without_a_vnc_server():
    sent, sockets = refusals(open_message("remote_control"))
    assert sent[0]["reason"] == "unavailable" and "VNC" in sent[0]["detail"]
    assert sockets == 0


def test_remote_control_is_unavailable_when_its_vnc_server_is_not_listening():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sent, sockets = refusals(open_message("remote_control"), SessionOptions(vnc_port=closed_port))
    assert sent[0]["reason"] == "unavailable" and f"127.0.0.1:{closed_port}" in sent[0]["detail"]
    assert sockets == 0


@needs_root_linux
def test_crafted_keys_never_change_what_runs(tmp_path):
    marker = tmp_path / "ran"
    crafted = open_message("system_cli", command=f"touch {marker}", user="nobody", port=22, host="192.0.2.1",
                           shell=f"/bin/sh -c 'touch {marker}'", argv=["/usr/bin/touch", str(marker)])
    control = ControlSide()

    async def scenario():
        async with serving() as (sessions, sockets):
            await sessions.open(crafted, control.send)
            ws = await sockets.next()
            await ready(ws)
            await ws.send(b'echo "who=$(whoami) shell=$0."\r')
            return await read_until(ws, b".\r\n")

    output = run(scenario())
    assert b"who=root shell=" in output
    assert not marker.exists()
    assert control.sent == []


def test_without_pseudo_terminals_command_lines_are_unavailable(monkeypatch):
    from portico_agent import sessions

    monkeypatch.setattr(sessions, "terminal", None)
    sent, sockets = refusals(open_message("system_cli"))
    assert (sent[0]["reason"], sent[0]["detail"]) == ("unavailable", "this device's agent has no command lines")
    assert sockets == 0


def test_the_agent_imports_where_there_are_no_pseudo_terminals():
    """As on Windows: no pwd, fcntl or termios; remote control and consent commands still load."""
    import subprocess

    from test_agent_cli import agent_env

    code = (
        "import sys\n"
        "for name in ('pwd', 'fcntl', 'termios'): sys.modules[name] = None\n"
        "import portico_agent.cli, portico_agent.sessions as sessions\n"
        "print(sessions.terminal)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=agent_env(), timeout=10)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
