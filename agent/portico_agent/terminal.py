"""Command lines: a login shell on a pseudo-terminal of its own, relayed over a session's socket
(terminal bytes as binary frames, resizes as text frames). POSIX only: Linux, and macOS."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import json
import logging
import os
import pwd
import shutil
import signal
import struct
import termios
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from portico_agent.session_request import UNAVAILABLE, Refused

log = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024
HANG_UP_GRACE = 1.0  # seconds between SIGHUP and SIGKILL
MAX_DIMENSION = 1000
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_USER_PATH = "/usr/local/bin:/usr/bin:/bin"
# How a pump or the shell's exit tells the relay which side ended the session.
_SHELL, _SOCKET = "shell exited", "socket closed"


@dataclass(frozen=True)
class ShellCommand:
    """What to run for a command line, chosen by the agent alone."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: str
    user: str
    # Set when the agent drops to the user itself (no runuser): uid, gid and supplementary groups.
    uid: int | None = None
    gid: int | None = None
    groups: tuple[int, ...] | None = None
    # The terminal belongs to the user whose shell it is, as after a login.
    tty_owner: int | None = None


def is_root() -> bool:
    return os.geteuid() == 0


def system_shell() -> ShellCommand:
    """root's login shell; only an agent running as root can give one."""
    if not is_root():
        raise Refused(UNAVAILABLE, "the agent does not run as root")
    root = pwd.getpwuid(0)
    shell = root.pw_shell or "/bin/sh"
    return ShellCommand(
        argv=(shell, "-l"), env=_environment(root, shell, _SYSTEM_PATH), cwd=_home(root), user=root.pw_name
    )


def user_shell(name: str) -> ShellCommand:
    """`name`'s login shell, run as `name`."""
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        raise Refused(UNAVAILABLE, f"there is no user {name!r} on this device") from None
    if user.pw_uid == 0:
        # A user command line must never be a way around the system command line's own right.
        raise Refused(UNAVAILABLE, "the logged-in user is root: that is a system command line")
    shell = user.pw_shell or "/bin/sh"
    env = _environment(user, shell, _USER_PATH)
    if is_root():
        runuser = shutil.which("runuser", path=_SYSTEM_PATH)
        if runuser:
            # runuser opens a PAM session for the user, as a login does (limits, logind).
            argv: tuple[str, ...] = (runuser, "-u", user.pw_name, "--", shell, "-l")
            return ShellCommand(argv, env, _home(user), user.pw_name, tty_owner=user.pw_uid)
        # No runuser (macOS): the agent drops to the user's ids itself.
        return ShellCommand(
            (shell, "-l"), env, _home(user), user.pw_name, uid=user.pw_uid, gid=user.pw_gid,
            groups=tuple(os.getgrouplist(user.pw_name, user.pw_gid)), tty_owner=user.pw_uid,
        )
    if user.pw_uid == os.geteuid():
        return ShellCommand((shell, "-l"), env, _home(user), user.pw_name)
    raise Refused(UNAVAILABLE, f"the agent does not run as root and cannot open a command line as {name}")


def _environment(user: pwd.struct_passwd, shell: str, path: str) -> dict[str, str]:
    # A fresh environment: nothing of the agent's own (its state file's path, say) reaches the
    # shell. Terminal bytes are UTF-8 by the protocol, so the locale must be a UTF-8 one.
    lang = os.environ.get("LANG", "")
    return {
        "HOME": user.pw_dir,
        "USER": user.pw_name,
        "LOGNAME": user.pw_name,
        "SHELL": shell,
        "PATH": path,
        "TERM": "xterm-256color",
        "LANG": lang if "utf-8" in lang.lower() or "utf8" in lang.lower() else "C.UTF-8",
    }


def _home(user: pwd.struct_passwd) -> str:
    return user.pw_dir if os.path.isdir(user.pw_dir) else "/"


def _take_terminal() -> None:
    """In the child, after setsid: the pseudo-terminal on its standard input becomes its controlling
    terminal, so Ctrl-C, job control and the hangup work as on a console."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Shell:
    """A running shell and the pseudo-terminal's side the agent holds."""

    def __init__(self, process: asyncio.subprocess.Process, master: int) -> None:
        self.process = process
        self.pid = process.pid
        self._master: int | None = master

    @classmethod
    async def start(cls, command: ShellCommand, cols: int = 80, rows: int = 24) -> Shell:
        master, slave = os.openpty()
        try:
            _set_size(master, cols, rows)
            if command.tty_owner is not None:
                os.fchown(slave, command.tty_owner, -1)
            process = await asyncio.create_subprocess_exec(
                *command.argv,
                stdin=slave, stdout=slave, stderr=slave,
                env=command.env, cwd=command.cwd,
                start_new_session=True, preexec_fn=_take_terminal,
                user=command.uid, group=command.gid, extra_groups=command.groups,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            # Only the shell holds the terminal now: when it and its children are gone, reading the
            # master side fails with EIO, which is how the agent hears the terminal is over.
            os.close(slave)
        os.set_blocking(master, False)
        return cls(process, master)

    def resize(self, cols: int, rows: int) -> None:
        if self._master is not None:
            _set_size(self._master, cols, rows)

    async def read(self) -> bytes:
        """What the shell wrote since the last read (at most 64 KiB), as soon as there is some;
        b"" once nothing holds the terminal any more."""
        while True:
            chunk = self._read_available()
            if chunk is not None:
                return chunk
            await self._ready(writable=False)

    def _read_available(self) -> bytes | None:
        if self._master is None:
            return b""
        chunk = bytearray()
        while len(chunk) < MAX_FRAME:
            try:
                data = os.read(self._master, MAX_FRAME - len(chunk))
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                data = b""
            if not data:
                return bytes(chunk)  # the end of the terminal, after whatever came before it
            chunk += data
        return bytes(chunk) if chunk else None

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._master is None:
                raise OSError(errno.EIO, "the terminal is closed")
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                written = 0
            view = view[written:]
            if view:
                await self._ready(writable=True)

    async def _ready(self, writable: bool) -> None:
        loop = asyncio.get_running_loop()
        add, remove = (loop.add_writer, loop.remove_writer) if writable else (loop.add_reader, loop.remove_reader)
        ready = loop.create_future()
        add(self._master, lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            remove(self._master)

    async def wait(self) -> int:
        return await self.process.wait()

    async def hang_up(self) -> None:
        """End the session as a hangup does: the terminal closed and SIGHUP to its processes; if the
        shell is still there a second later, SIGKILL to all of them. Returns once it is reaped."""
        if self._master is not None:
            os.close(self._master)
            self._master = None
        self._signal(signal.SIGHUP)
        try:
            await asyncio.wait_for(self.process.wait(), HANG_UP_GRACE)
        except asyncio.TimeoutError:
            log.info("shell %s ignored the hangup; killing it", self.pid)
            self._signal(signal.SIGKILL)
            await self.process.wait()

    def _signal(self, signum: int) -> None:
        # The shell may sit in a process group of its own (job control, or behind runuser), so
        # everything in the terminal's session is signalled, not only the first process's group.
        # Linux keeps a session's id from being reused while any member lives, so none of these
        # pids can be a stranger's.
        targets = set(_session_members(self.pid))
        if self.process.returncode is None:
            targets.add(self.pid)
        for pid in targets:
            try:
                os.kill(pid, signum)
            except OSError:
                pass


def _session_members(session_id: int) -> list[int]:
    """Processes of a session, from /proc (Linux); elsewhere none, and the shell alone is signalled."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    members = []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # After "pid (command)": state, parent, process group, session. The command may hold ")".
        fields = stat.rpartition(b")")[2].split()
        if len(fields) > 3 and fields[3] == str(session_id).encode():
            members.append(int(entry))
    return members


async def relay(ws: ClientConnection, shell: Shell) -> str:
    """Carry the session until the socket closes or the shell exits; either way the shell is
    hung up and reaped, and the socket closed, when this returns why it ended."""
    output = asyncio.ensure_future(_shell_to_socket(shell, ws))
    keyboard = asyncio.ensure_future(_socket_to_shell(ws, shell))
    exited = asyncio.ensure_future(_exit(shell))
    try:
        done, _ = await asyncio.wait({output, keyboard, exited}, return_when=asyncio.FIRST_COMPLETED)
        ended = _SOCKET if any(_outcome(task) == _SOCKET for task in done) else _SHELL
        if ended == _SHELL and not output.done():
            # What the shell wrote last ("logout") may still be on the terminal: let it through.
            await asyncio.wait({output}, timeout=HANG_UP_GRACE)
    finally:
        for task in (output, keyboard, exited):
            task.cancel()
        await asyncio.gather(output, keyboard, exited, return_exceptions=True)
        await shell.hang_up()
    await ws.close(1000, "shell exited")
    return ended


def _outcome(task: asyncio.Future) -> str:
    if task.exception() is not None:
        log.warning("command line relay failed: %r", task.exception())
        return _SHELL
    return task.result()


async def _exit(shell: Shell) -> str:
    await shell.wait()
    return _SHELL


async def _shell_to_socket(shell: Shell, ws: ClientConnection) -> str:
    # No timer: each read takes whatever the shell wrote meanwhile, so output coalesces while a
    # send is under way and a lone keystroke's echo still leaves at once.
    while True:
        chunk = await shell.read()
        if not chunk:
            return _SHELL
        try:
            await ws.send(chunk)
        except ConnectionClosed:
            return _SOCKET


async def _socket_to_shell(ws: ClientConnection, shell: Shell) -> str:
    try:
        async for frame in ws:
            if isinstance(frame, bytes):
                await shell.write(frame)
            else:
                _control(shell, frame)
    except ConnectionClosed:
        pass
    except OSError:
        return _SHELL  # the terminal is gone
    return _SOCKET


def _control(shell: Shell, text: str) -> None:
    try:
        message = json.loads(text)
    except ValueError:
        message = None
    if isinstance(message, dict) and message.get("type") == "resize":
        cols, rows = message.get("cols"), message.get("rows")
        if _dimension(cols) and _dimension(rows):
            shell.resize(cols, rows)
            return
    log.info("ignoring a text frame that is not a valid resize")


def _dimension(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DIMENSION
