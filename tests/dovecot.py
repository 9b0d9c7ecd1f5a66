"""A private Dovecot IMAP server on loopback for tests (docs: /work/shared/recipes/dovecot-loopback.md).

Everything lives in one temporary folder: config, users, mail, sockets, logs. It never touches
/etc/dovecot or the system service, and listens on a free port with its own instance name.
"""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imapclient import IMAPClient

from portico.tickets.imap import MailboxServer

SBIN = ("/usr/sbin", "/sbin")


def binary(name: str) -> str | None:
    """Where a Dovecot program is; /usr/sbin is often not on a non-root PATH."""
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *SBIN]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    """Start with `start()` (or use as a context manager), add users, append mail, `stop()`.

    Started by root it runs the way the package does (privileged master, unprivileged helpers);
    started by anyone else, every process runs as that user, without chroot.
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portico-dovecot-"))
        # Dovecot's helpers run as other users and must reach the mail and the users file.
        self.dir.chmod(0o755)
        self.config = self.dir / "dovecot.conf"
        self.users_dir = self.dir / "users"
        self.host = "127.0.0.1"
        self.port = 0
        self.passwords: dict[str, str] = {}
        self.root = os.geteuid() == 0
        self._master_pid: int | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, attempts: int = 3) -> None:
        for name in ("run", "state", "log", "mail", "home", "users"):
            (self.dir / name).mkdir(exist_ok=True)
        if self.root:
            for name in ("mail", "home"):
                shutil.chown(self.dir / name, "nobody", "nogroup")
        if self.root:
            shutil.chown(self.users_dir, "root", "dovecot")
            self.users_dir.chmod(0o750)
        for _attempt in range(attempts):
            self.port = _free_port()
            self._write_config()
            self._run("dovecot", "-c", str(self.config))
            if self._wait_for_port():
                self._master_pid = self._read_pid()
                return
            self._stop_master()  # most likely someone took the port between choosing and binding it
        raise RuntimeError(f"Dovecot did not start on 127.0.0.1:{self.port}; its log:\n{self.log()}")

    def stop(self) -> None:
        self._stop_master()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _stop_master(self) -> None:
        if self.config.exists():
            self._run("doveadm", "-c", str(self.config), "stop", check=False)
        pid, self._master_pid = self._master_pid or self._read_pid(), None
        deadline = time.monotonic() + 10
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid and _alive(pid):
            os.kill(pid, 9)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        """Run a Dovecot program; its output goes to a file, because the daemon it starts keeps
        inherited pipes open and a captured run would never end."""
        with open(self.dir / "log" / "commands.log", "ab") as output:
            done = subprocess.run([binary(program) or program, *args], stdin=subprocess.DEVNULL, stdout=output,
                                  stderr=output, timeout=30)
        if check and done.returncode:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{self.log()}")

    def _read_pid(self) -> int | None:
        try:
            return int((self.dir / "run" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _wait_for_port(self, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def log(self) -> str:
        """What Dovecot and the commands that drove it wrote."""
        return "".join(
            path.read_text(errors="replace") for name in ("commands.log", "dovecot.log")
            if (path := self.dir / "log" / name).exists()
        )

    # --- configuration -------------------------------------------------------------------------

    def _write_config(self) -> None:
        d = self.dir
        if self.root:
            internal, internal_group, login = "dovecot", "dovecot", "dovenull"
            mail_user, mail_group = "nobody", "nogroup"
        else:
            internal = login = mail_user = getpass.getuser()
            internal_group = mail_group = grp.getgrgid(os.getegid()).gr_name
        chroot = "" if self.root else "  chroot =\n"
        self.config.write_text(f"""\
protocols = imap
listen = 127.0.0.1
instance_name = portico-test-{uuid.uuid4().hex[:12]}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log/dovecot.log
info_log_path = {d}/log/dovecot.log
debug_log_path = {d}/log/dovecot.log
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_fsync = never
# Tests sign in wrongly on purpose: no delay, and no penalty slowing the next sign-ins from 127.0.0.1.
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users_dir}/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.users_dir}/%u
  default_fields = uid={mail_user} gid={mail_group} home={d}/home/%u
}}
mail_location = maildir:{d}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{chroot}}}
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
""")

    def _write_user(self, name: str) -> None:
        """One passwd-file a user: Dovecot re-reads a passwd-file at most once a second, but reads
        a file it has not seen at the first sign-in, so a user added now can sign in now."""
        path = self.users_dir / name
        temporary = self.users_dir / f".{name}.new"
        temporary.write_text(f"{name}:{{PLAIN}}{self.passwords[name]}::::::\n")
        if self.root:
            temporary.chmod(0o640)
            shutil.chown(temporary, "root", "dovecot")
        else:
            temporary.chmod(0o600)
        temporary.replace(path)

    # --- users and mail ------------------------------------------------------------------------

    def add_user(self, name: str | None = None, password: str | None = None) -> str:
        """Add a user (a fresh unique name when none is given) and return the name."""
        name = name or f"user-{uuid.uuid4().hex[:10]}"
        if not re.fullmatch(r"[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*", name):
            raise ValueError(f"not a simple user name: {name!r}")
        self.passwords[name] = password or f"pw-{uuid.uuid4().hex}"
        self._write_user(name)
        return name

    def server(self, user: str, folder: str = "INBOX", password: str | None = None) -> MailboxServer:
        """The settings a support mailbox would hold for `user`."""
        return MailboxServer(
            host=self.host, port=self.port, username=user,
            password=self.passwords[user] if password is None else password, use_tls=False, folder=folder,
        )

    def new_mailbox(self, folder: str = "INBOX") -> MailboxServer:
        """A fresh user's mailbox, so a test sees only its own mail; other folders are created."""
        user = self.add_user()
        if folder != "INBOX":
            with self.client(user) as client:
                client.create_folder(folder)
        return self.server(user, folder)

    @contextmanager
    def client(self, user: str) -> Iterator[IMAPClient]:
        """A signed-in IMAP client for `user`, for arranging and inspecting mail."""
        with IMAPClient(self.host, port=self.port, ssl=False, timeout=30) as client:
            client.login(user, self.passwords[user])
            yield client

    def append(self, user: str, raw: bytes, *, folder: str = "INBOX", flags: tuple = ()) -> int:
        """Put one message into `user`'s folder as delivered mail; returns its UID (UIDPLUS)."""
        with self.client(user) as client:
            response = client.append(folder, raw, flags=flags)
        return _appenduid(response)[-1]

    def append_many(self, user: str, messages: list[bytes], *, folder: str = "INBOX") -> list[int]:
        """Many messages in one MULTIAPPEND; returns their UIDs."""
        with self.client(user) as client:
            response = client.multiappend(folder, messages)
        return _appenduid(response)


def _appenduid(response) -> list[int]:
    """UIDs from an APPENDUID response code: `[APPENDUID 1700000000 4]` or `[APPENDUID 17 4:6]`."""
    if isinstance(response, (list, tuple)):
        response = b" ".join(r if isinstance(r, bytes) else str(r).encode() for r in response)
    match = re.search(rb"APPENDUID \d+ ([\d:,]+)", response)
    if not match:
        raise RuntimeError(f"no APPENDUID in {response!r}")
    uids: list[int] = []
    for piece in match.group(1).decode().split(","):
        first, _, last = piece.partition(":")
        uids.extend(range(int(first), int(last or first) + 1))
    return uids


def _alive(pid: int) -> bool:
    """Running, and not a zombie (a container's init may never reap the daemon)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
