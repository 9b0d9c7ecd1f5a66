"""Command lines for real: a login shell on a pseudo-terminal, run as root or as an unprivileged
user, through a loopback session socket. These need Linux and root, as the agent on a device."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import shutil
import subprocess
import sys

import pytest
from own_loop import run
from session_server import WAIT, eventually, open_message, read_match, read_until, ready, serving

from portico_agent.sessions import SessionOptions

TEST_USER = "portico-test-user"

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="command line tests run on Linux"),
    pytest.mark.skipif(sys.platform.startswith("linux") and os.geteuid() != 0,
                       reason="opening a system command line, or one as another user, needs root"),
]


@pytest.fixture(scope="session")
def unprivileged_user() -> str:
    """An unprivileged user with a login shell, made for the session when the system has none."""
    try:
        pwd.getpwnam(TEST_USER)
        created = False
    except KeyError:
        if shutil.which("useradd") is None:
            pytest.skip("useradd is not available to create the test user")
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", TEST_USER], check=True)
        created = True
    yield TEST_USER
    if created:
        subprocess.run(["userdel", "--remove", TEST_USER], check=False, capture_output=True)


async def type_line(ws, line: str) -> None:
    await ws.send((line + "\r").encode())


def pid_is_gone(pid: int) -> bool:
    """Gone, or a zombie waiting for a parent that is not the agent (the test's init may not reap)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] == b"Z"
    except FileNotFoundError:
        return True


def test_system_command_line_runs_as_root():
    async def scenario():
        async with serving() as (sessions, sockets):
            await sessions.open(open_message("system_cli"), _ignore)
            ws = await sockets.next()
            assert await ready(ws) == {"type": "ready", "consent": "not_asked"}
            # The shell computes the marker, so the echo of what was typed cannot match it.
            await type_line(ws, 'echo "who=$(whoami) home=$HOME term=$TERM"')
            return await read_until(ws, b"term=xterm-256color")

    output = run(scenario())
    assert b"who=root home=/root term=xterm-256color" in output


def test_user_command_line_runs_as_the_user(unprivileged_user):
    async def scenario():
        async with serving(SessionOptions(session_user=unprivileged_user)) as (sessions, sockets):
            await sessions.open(open_message("user_cli"), _ignore)
            ws = await sockets.next()
            await ready(ws)
            await type_line(ws, 'echo "who=$(whoami) groups=$(id -G) tty=$(tty)"')
            return await read_until(ws, b"tty=/dev/pts/")

    output = run(scenario()).decode()
    user = pwd.getpwnam(unprivileged_user)
    assert f"who={unprivileged_user} " in output
    # Dropped all of root's groups, kept only the user's own.
    groups = re.search(r"groups=([\d ]+)", output).group(1).split()
    assert "0" not in groups and str(user.pw_gid) in groups


def test_resize_changes_the_terminal_size():
    async def scenario():
        async with serving() as (sessions, sockets):
            await sessions.open(open_message("system_cli"), _ignore)
            ws = await sockets.next()
            await ready(ws)
            await type_line(ws, 'echo "size=$(stty size)"')
            before = await read_until(ws, b"size=24 80")
            await ws.send(json.dumps({"type": "resize", "cols": 132, "rows": 43}))
            # Out of range, not integers, or not a resize at all: ignored, and the session goes on.
            for ignored in ({"type": "resize", "cols": 0, "rows": 43}, {"type": "resize", "cols": 5000, "rows": 1},
                            {"type": "resize", "cols": "9", "rows": 9}, {"type": "resize", "cols": True, "rows": 9},
                            {"type": "other"}):
                await ws.send(json.dumps(ignored))
            await ws.send("not json")
            await type_line(ws, 'echo "size=$(stty size)"')
            after = await read_until(ws, b"size=43 132")
            return before, after

    before, after = run(scenario())
    assert b"size=24 80" in before and b"size=43 132" in after


def test_ctrl_c_interrupts_the_foreground_command():
    async def scenario():
        async with serving() as (sessions, sockets):
            await sessions.open(open_message("system_cli"), _ignore)
            ws = await sockets.next()
            await ready(ws)
            await type_line(ws, 'sleep 100; echo "finished=$((40+2))"')
            await asyncio.sleep(0.3)
            await ws.send(b"\x03")
            await type_line(ws, 'echo "after=$((1+1))"')
            return await read_until(ws, b"after=2", timeout=5)

    output = run(scenario())
    assert b"^C" in output
    assert b"finished=42" not in output


def test_utf8_round_trip():
    async def scenario():
        async with serving() as (sessions, sockets):
            await sessions.open(open_message("system_cli"), _ignore)
            ws = await sockets.next()
            await ready(ws)
            await type_line(ws, "printf '%s\\n' \"h\"\"éllo ✓ $((1+1))\"")
            return await read_until(ws, "héllo ✓ 2".encode())

    assert "héllo ✓ 2" in run(scenario()).decode("utf-8")


@pytest.mark.parametrize("kind", ["system_cli", "user_cli"])
def test_closing_the_socket_kills_the_shell(kind, unprivileged_user):
    async def scenario():
        async with serving(SessionOptions(session_user=unprivileged_user)) as (sessions, sockets):
            await sessions.open(open_message(kind), _ignore)
            ws = await sockets.next()
            await ready(ws)
            # A shell busy in a foreground command, and a background job of its own. The shell
            # writes the marker, so the echo of what was typed cannot match it.
            await type_line(ws, "sleep 300 & printf 'pid%s=%s,%s.\\n' s $$ $!; sleep 200")
            found = await read_match(ws, rb"pids=(\d+),(\d+)\.")
            shell, job = int(found.group(1)), int(found.group(2))
            assert not pid_is_gone(shell) and not pid_is_gone(job)
            started = asyncio.get_running_loop().time()
            await ws.close()
            await eventually(lambda: pid_is_gone(shell) and pid_is_gone(job), timeout=2)
            return asyncio.get_running_loop().time() - started

    assert run(scenario()) < 2


def test_a_shell_that_ignores_the_hangup_is_killed_after_a_second():
    async def scenario():
        async with serving() as (sessions, sockets):
            await sessions.open(open_message("system_cli"), _ignore)
            ws = await sockets.next()
            await ready(ws)
            # Busy in a command that, like the shell, ignores SIGHUP (dispositions are inherited).
            await type_line(ws, "trap '' HUP; printf 'pid%s=%s.\\n' s $$; sleep 30")
            shell = int((await read_match(ws, rb"pids=(\d+)\.")).group(1))
            loop = asyncio.get_running_loop()
            started = loop.time()
            await ws.close()
            await eventually(lambda: pid_is_gone(shell), timeout=3)
            return loop.time() - started

    assert 0.9 <= run(scenario()) < 2.5


def test_the_agent_stopping_hangs_up_its_shells_and_says_so():
    async def scenario():
        async with serving() as (sessions, sockets):
            await sessions.open(open_message("system_cli"), _ignore)
            ws = await sockets.next()
            await ready(ws)
            await type_line(ws, "printf 'pid%s=%s.\\n' s $$")
            shell = int((await read_match(ws, rb"pids=(\d+)\.")).group(1))
            await sessions.close()
            await asyncio.wait_for(ws.wait_closed(), WAIT)
            return shell, ws.close_code, ws.close_reason

    shell, code, reason = run(scenario())
    assert (code, reason) == (1001, "agent stopping")
    assert pid_is_gone(shell)


def test_exit_closes_the_socket_normally():
    async def scenario():
        async with serving() as (sessions, sockets):
            await sessions.open(open_message("system_cli"), _ignore)
            ws = await sockets.next()
            await ready(ws)
            await type_line(ws, "exit 3")
            await asyncio.wait_for(ws.wait_closed(), WAIT)
            return ws.close_code, ws.close_reason

    assert run(scenario()) == (1000, "shell exited")


def test_several_sessions_at_once(unprivileged_user):
    async def scenario():
        async with serving(SessionOptions(session_user=unprivileged_user)) as (sessions, sockets):
            await sessions.open(open_message("system_cli", session="root-1"), _ignore)
            await sessions.open(open_message("user_cli", session="user-1"), _ignore)
            first, second = await sockets.next(), await sockets.next()
            by_path = {ws.request.path: ws for ws in (first, second)}
            root, user = by_path["/agent/v1/sessions/root-1"], by_path["/agent/v1/sessions/user-1"]
            await ready(root)
            await ready(user)
            await type_line(user, 'echo "who=$(whoami)."')
            await type_line(root, 'echo "who=$(whoami)."')
            return await read_until(root, b"who=root."), await read_until(user, f"who={unprivileged_user}.".encode())

    root_output, user_output = run(scenario())
    assert f"who={TEST_USER}".encode() not in root_output
    assert b"who=root." not in user_output


async def _ignore(message: dict) -> None:
    raise AssertionError(f"nothing should be sent on the control connection: {message}")
