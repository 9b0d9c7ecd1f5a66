"""Backups and restores on the device (docs/agent-protocol.md, "Backups and restores"): the server's
`backup.run` and `restore.run`, carried out by the real restic, one run at a time, each as a task of
its own so that the control connection keeps its heartbeats meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import itertools
import json
import logging
import os
import re
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from websockets.exceptions import ConnectionClosed

from portico_agent.connection import SendMessage
from portico_agent.endpoint import check_server_url
from portico_agent.state import AgentState

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_PATHS = 100
MAX_EXCLUDES = 200
MAX_WARNINGS = 20
MAX_WARNING_CHARS = 500
MAX_MESSAGE_CHARS = 2000
# The server closes the connection on a message over 64 KiB; non-ASCII text grows in JSON's escapes.
MAX_MESSAGE_BYTES = 60_000
BACKUP_PROGRESS_SECONDS = 1.0
RESTORE_PROGRESS_SECONDS = 0.5
STAGING_PREFIX = ".portico-restore-"
CONFLICTS = ("overwrite", "keep_both", "skip")
# Lines restic writes longer than this (a status line naming many files, say) are cut here.
MAX_LINE_BYTES = 1 << 20
OUTPUT_POLL_SECONDS = 0.1

_JOB = re.compile(r"[0-9]{1,20}")
_SNAPSHOT = re.compile(r"[0-9a-f]{8,64}")
# restic's --include patterns are globs: these characters of a real name must be escaped.
_GLOB = re.compile(r"([\\*?\[])")

_O_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_PR_SET_PDEATHSIG = 1
_RENAME_NOREPLACE = 1


def _libc_function(name: str, *argtypes: Any) -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


# Looked up once here: the child calls prctl between fork and exec, where loading is unsafe.
_prctl = _libc_function("prctl", ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_renameat2 = _libc_function("renameat2", ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)


class Refused(Exception):
    """A run that fails with this message: refused before restic starts, or stopped on the way."""


class _Stopped(Exception):
    """The agent is stopping: the files moved so far stay where they are."""


@dataclass(frozen=True)
class BackupRequest:
    job: str
    password: str = field(repr=False)
    init: bool
    paths: tuple[str, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class RestoreRequest:
    job: str
    password: str = field(repr=False)
    snapshot: str
    # Absolute, normalised, and none inside another (that one's folder brings it along).
    items: tuple[str, ...]
    target: str | None
    conflict: str
    total_bytes: int


def job_of(message: dict) -> str | None:
    job = message.get("job")
    return job if isinstance(job, str) and _JOB.fullmatch(job) else None


def parse_backup(message: dict, job: str) -> BackupRequest:
    init = message.get("init", False)
    if not isinstance(init, bool):
        raise Refused("init must be true or false")
    paths = _strings(message.get("paths"), "paths", 1, MAX_PATHS)
    for path in paths:
        if not path.startswith("/"):
            raise Refused(f"not an absolute path: {path!r}")
    exclude = _strings(message.get("exclude", []), "exclude", 0, MAX_EXCLUDES)
    return BackupRequest(job, _password(message), init, paths, exclude)


def parse_restore(message: dict, job: str) -> RestoreRequest:
    snapshot = message.get("snapshot")
    if not isinstance(snapshot, str) or not _SNAPSHOT.fullmatch(snapshot):
        raise Refused("snapshot must be a snapshot id (hexadecimal)")
    items = message.get("items")
    if not isinstance(items, list) or not items:
        raise Refused("items must be a list of at least one item")
    paths = []
    for item in items:
        path = item.get("path") if isinstance(item, dict) else None
        paths.append(_normalised(path, "item"))
        if path == "/":
            raise Refused("an item names a file or folder inside the snapshot, not its root")
    target = message.get("target")
    if target is not None:
        target = _normalised(target, "target")
    conflict = message.get("conflict")
    if conflict not in CONFLICTS:
        raise Refused(f"conflict must be one of {', '.join(CONFLICTS)}")
    total = message.get("total_bytes")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise Refused("total_bytes must be a whole number of bytes")
    return RestoreRequest(job, _password(message), snapshot, _outermost(paths), target, conflict, total)


def _password(message: dict) -> str:
    password = message.get("password")
    if not isinstance(password, str) or not password or "\0" in password:
        raise Refused("password must be the repository's key")
    return password


def _strings(value: object, name: str, least: int, most: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not least <= len(value) <= most:
        raise Refused(f"{name} must be a list of {least} to {most} strings")
    for text in value:
        if not isinstance(text, str) or not text or "\0" in text:
            raise Refused(f"{name} must hold non-empty strings without NUL: {text!r}")
    return tuple(value)


def _normalised(path: object, what: str) -> str:
    if not isinstance(path, str) or not path.startswith("/") or "\0" in path:
        raise Refused(f"{what} must be an absolute path: {path!r}")
    if path != "/" and any(part in ("", ".", "..") for part in path.split("/")[1:]):
        raise Refused(f"{what} must be a normalised path (no '.', '..' or empty parts): {path!r}")
    return path


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _outermost(paths: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for path in sorted(set(paths), key=lambda p: len(_parts(p))):
        if not any(path.startswith(outer.rstrip("/") + "/") for outer in kept):
            kept.append(path)
    return tuple(p for p in dict.fromkeys(paths) if p in kept)


def repository_url(state: AgentState) -> str:
    """restic's REST repository of this device on its server, with the device's credential."""
    parts = urlsplit(check_server_url(state.server))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{state.device_id}:{quote(state.credential, safe='')}"
    return f"rest:{parts.scheme}://{user}@{host}{parts.path}/backups/v1/{state.device_id}/"


async def _say(send: SendMessage, message: dict) -> None:
    try:
        await send(message)
    except ConnectionClosed:
        log.warning("job %s: the control connection closed before %s was sent", message["job"], message["type"])


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Backups:
    """Runs the server's backups and restores. `backup` and `restore` are the control connection's
    handlers for backup.run and restore.run; `close` stops a run in progress (the agent stopping)."""

    def __init__(
        self,
        state: AgentState,
        *,
        cache_dir: Path,
        restic: str = "restic",
        repository: str | Callable[[], str] | None = None,
        stop_seconds: float = 10.0,
    ) -> None:
        self.state = state
        self.cache_dir = cache_dir
        self.restic = restic
        self._repository = repository
        self.stop_seconds = stop_seconds
        self._task: asyncio.Future | None = None

    def repository(self) -> str:
        if self._repository is None:
            return repository_url(self.state)
        return self._repository() if callable(self._repository) else self._repository

    @property
    def busy(self) -> bool:
        return self._task is not None

    async def backup(self, message: dict, send: SendMessage) -> None:
        await self._accept("backup", message, send, parse_backup, self._back_up)

    async def restore(self, message: dict, send: SendMessage) -> None:
        await self._accept("restore", message, send, parse_restore, self._restore)

    async def _accept(self, kind: str, message: dict, send: SendMessage, parse, work) -> None:
        """Start `work` on the parsed request, or answer `<kind>.failed` at once: a malformed
        request, or the agent busy with another run."""
        job = job_of(message)
        if job is None:
            log.warning("a %s.run without a usable job id cannot be answered", kind)
            return
        try:
            request = parse(message, job)
            self._check_free()
        except Refused as refusal:
            log.info("%s %s refused: %s", kind, job, refusal)
            answer = {"type": f"{kind}.failed", "job": job, "message": str(refusal)}
            if kind == "backup":
                answer["exit_code"] = None  # restic did not run
            await _say(send, answer)
            return
        self._start(self._answer(send, job, f"{kind}.failed", lambda: work(request, send)))

    async def close(self) -> None:
        """Stop the run in progress: restic interrupted, the staging folder removed."""
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _check_free(self) -> None:
        if self.busy:
            raise Refused("another backup or restore is running on this device")
        if os.name != "posix":
            raise Refused("backups and restores need Linux or macOS for now")

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._task = task
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future) -> None:
        self._task = None
        if not task.cancelled() and task.exception() is not None:
            log.error("a backup or restore failed", exc_info=task.exception())

    async def _answer(self, send: SendMessage, job: str, failed: str, work: Callable[[], Awaitable[dict]]) -> None:
        try:
            answer = await work()
        except Exception as exc:  # a bug here must still end the run for the server
            log.exception("job %s failed", job)
            answer = {"type": failed, "job": job, "message": f"the agent failed: {type(exc).__name__}"}
            if failed == "backup.failed":
                answer["exit_code"] = None
        log.info("job %s: %s", answer["job"], answer["type"])
        await _say(send, _fit(answer))

    def _redact(self, text: str, password: str) -> str:
        for secret in (password, self.state.credential, quote(self.state.credential, safe="")):
            if secret:
                text = text.replace(secret, "***")
        return text

    # restic

    def _environment(self, password: str) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("RESTIC_")}
        env["RESTIC_REPOSITORY"] = self.repository()
        env["RESTIC_PASSWORD"] = password
        env["RESTIC_CACHE_DIR"] = str(self.cache_dir)
        return env

    async def _run_restic(
        self,
        password: str,
        command: str,
        *args: str,
        stdout: Callable[[str], Awaitable[None]] | None = None,
        stderr: Callable[[str], Awaitable[None]] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> int:
        """restic's exit status; the repository and its key reach it only through its environment.

        restic writes into files, not pipes: a pipe whose reader died (the agent killed) would kill
        restic at its next line, before it removes its lock from the repository."""
        options = ["--cacert", self.state.ca_file] if self.state.ca_file else []
        # Nameless files in the agent's private cache folder; they go when closed.
        with tempfile.TemporaryFile(dir=self.cache_dir) as out, tempfile.TemporaryFile(dir=self.cache_dir) as err:
            try:
                process = await asyncio.create_subprocess_exec(
                    self.restic, command, *options, *args,
                    stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err,
                    env=self._environment(password), start_new_session=True, preexec_fn=_dies_with_agent(),
                    pass_fds=pass_fds,
                )
            except OSError as exc:
                raise Refused(f"cannot run restic ({self.restic}): {exc.strerror or exc}") from None
            try:
                exited = asyncio.ensure_future(process.wait())
                await asyncio.gather(_follow(out.fileno(), exited, stdout), _follow(err.fileno(), exited, stderr))
                return await exited
            except asyncio.CancelledError:
                await _interrupt(process, self.stop_seconds)
                if process.returncode == -signal.SIGKILL and command != "unlock":
                    # restic did not stop in time and was killed holding its lock: restic's own
                    # unlock removes it (it takes only the locks of processes that are gone).
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self._run_restic(password, "unlock"), self.stop_seconds)
                raise
            finally:
                if process.returncode is None:
                    _signal_group(process.pid, signal.SIGKILL)

    # backup

    async def _back_up(self, request: BackupRequest, send: SendMessage) -> dict:
        def failed(message: str, code: int | None) -> dict:
            message = _clip(self._redact(message, request.password), MAX_MESSAGE_CHARS)
            return {"type": "backup.failed", "job": request.job, "message": message, "exit_code": code}

        log.info("backup %s of %d paths", request.job, len(request.paths))
        self.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            if request.init:
                said = _Stderr()
                code = await self._run_restic(request.password, "init", stderr=said.line)
                if code != 0 and not said.already_initialised():
                    return failed(said.failure(code), code)
            said = _Stderr()
            progress = _BackupProgress(request.job, send)
            excludes = [f"--exclude={pattern}" for pattern in request.exclude]
            code = await self._run_restic(
                request.password, "backup", "--json", *excludes, "--", *request.paths,
                stdout=progress.line, stderr=said.line,
            )
            if code not in (0, 3) or progress.summary is None:
                return failed(said.failure(code), code)
            summary = progress.summary
            warnings = [self._redact(warning, request.password) for warning in said.warnings()]
        except Refused as refusal:
            return failed(str(refusal), None)
        except OSError as exc:
            return failed(f"{exc.strerror or exc}: {exc.filename}", None)
        # restic 0.14 names the snapshot by its short id; the server, which indexes it, keeps the
        # full one (a lookup here would cost a second restic call, most of a second).
        done: dict[str, Any] = {"type": "backup.done", "job": request.job, "snapshot": str(summary.get("snapshot_id", ""))}
        for name in ("files_new", "files_changed", "files_unmodified", "data_added",
                     "total_files_processed", "total_bytes_processed"):
            done[name] = _count(summary.get(name))
        done["warnings"] = warnings
        return done

    async def _restore(self, request: RestoreRequest, send: SendMessage) -> dict:
        def failed(message: str) -> dict:
            message = _clip(self._redact(message, request.password), MAX_MESSAGE_CHARS)
            return {"type": "restore.failed", "job": request.job, "message": message}

        log.info("restore %s of %d items from %s", request.job, len(request.items), request.snapshot[:8])
        self.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        plan = _Plan(request)
        try:
            await _in_thread(plan.prepare)
            said = _Stderr()
            code = await self._restore_into_staging(request, plan, said, send)
            if code != 0:
                return failed(said.failure(code))
            missing = await _in_thread(plan.missing)
            if missing:
                return failed(f"not in snapshot {request.snapshot[:8]}: " + ", ".join(map(repr, missing)))
            await _say(send, _restore_progress(request, request.total_bytes))
            counts = await _in_thread(plan.move_into_place, stop=threading.Event())
            return {"type": "restore.done", "job": request.job, **counts.message()}
        except Refused as refusal:
            return failed(str(refusal))
        except OSError as exc:
            return failed(f"{exc.strerror or exc}: {exc.filename}")
        finally:
            await _in_thread(plan.remove_staging)

    async def _restore_into_staging(self, request: RestoreRequest, plan: _Plan, said: _Stderr, send: SendMessage) -> int:
        finished = asyncio.Event()
        progress = asyncio.ensure_future(_report_restore_progress(request, plan, send, finished))
        try:
            for stage in plan.stages:
                includes = [f"--include={_pattern(item)}" for item in stage.items]
                code = await self._run_restic(
                    request.password, "restore", request.snapshot, f"--target={stage.restic_target}", *includes,
                    stderr=said.line, pass_fds=(stage.fd,),
                )
                if code != 0:
                    return code
            return 0
        finally:
            # The measuring thread reads the staging folders' descriptors: it ends before they close.
            finished.set()
            await asyncio.gather(progress, return_exceptions=True)


def _pattern(path: str) -> str:
    """restic's --include pattern that matches exactly `path` (and what is inside it)."""
    return _GLOB.sub(r"\\\1", path)


def _restore_progress(request: RestoreRequest, done: int) -> dict:
    return {"type": "restore.progress", "job": request.job, "bytes_done": min(done, request.total_bytes),
            "total_bytes": request.total_bytes}


async def _report_restore_progress(request: RestoreRequest, plan: _Plan, send: SendMessage, finished: asyncio.Event) -> None:
    """restic 0.14 reports no progress of a restore: what has arrived in the staging folders tells.
    restic sizes each file when it creates it, so a large file counts whole from its start."""
    said = None
    while not finished.is_set():
        arrived = await _in_thread(plan.staged_bytes)
        if arrived != said:
            await _say(send, _restore_progress(request, arrived))
            said = arrived
        try:
            await asyncio.wait_for(finished.wait(), RESTORE_PROGRESS_SECONDS)
        except asyncio.TimeoutError:
            pass


async def _in_thread(work: Callable[..., T], stop: threading.Event | None = None) -> T:
    """`work()` (or `work(stop)`) in a thread, off the event loop. Cancelled, the caller still waits
    for the thread to end (told to `stop` if it can be), so that it never runs on with descriptors
    the caller is about to close."""
    future = asyncio.ensure_future(asyncio.to_thread(work) if stop is None else asyncio.to_thread(work, stop))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if stop is not None:
            stop.set()
        await asyncio.gather(future, return_exceptions=True)
        raise


def _fit(message: dict) -> dict:
    """Drop warnings from the end until the message fits in one control message."""
    while message.get("warnings") and len(json.dumps(message)) > MAX_MESSAGE_BYTES:
        message["warnings"] = message["warnings"][:-1]
    return message


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


# restic's processes


def _dies_with_agent() -> Callable[[], None] | None:
    """In the child before exec: ask Linux for SIGINT when the agent dies (restic then removes its
    lock and exits), however the agent ends, even by SIGKILL. The signal follows the thread that
    started restic: the agent starts it from its event loop's thread, which lives as long as it does."""
    if _prctl is None:
        return None
    agent = os.getpid()

    def die_with_agent() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0)
        if os.getppid() != agent:  # the agent died before the request took hold
            os._exit(1)

    return die_with_agent


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


async def _interrupt(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGINT to restic's process group, as Ctrl-C would (restic removes its lock), then SIGKILL."""
    _signal_group(process.pid, signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except asyncio.TimeoutError:
        _signal_group(process.pid, signal.SIGKILL)
        await process.wait()


async def _follow(fd: int, exited: asyncio.Future, handle: Callable[[str], Awaitable[None]] | None) -> None:
    """Each line restic writes into the file `fd`, as it comes, until restic has exited."""
    offset, pending = 0, b""
    while True:
        ended = exited.done()  # before reading: what restic wrote before it exited is read below
        chunk = os.pread(fd, 65536, offset)
        if chunk:
            offset += len(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            pending = pending[:MAX_LINE_BYTES]
            for line in lines:
                if handle is not None:
                    await handle(line[:MAX_LINE_BYTES].decode("utf-8", "replace"))
            continue
        if ended:
            break
        await asyncio.sleep(OUTPUT_POLL_SECONDS)
    if pending and handle is not None:
        await handle(pending.decode("utf-8", "replace"))


class _BackupProgress:
    """restic backup --json's stdout: status lines to backup.progress (at most one a second), and the
    summary. A status line may lack any field: the last value seen stands."""

    FIELDS = (("percent_done", "percent"), ("files_done", "files_done"), ("total_files", "total_files"),
              ("bytes_done", "bytes_done"), ("total_bytes", "total_bytes"))

    def __init__(self, job: str, send: SendMessage) -> None:
        self.job, self.send = job, send
        self.summary: dict | None = None
        self.values: dict[str, float] = {"percent": 0.0, "files_done": 0, "total_files": 0, "bytes_done": 0,
                                         "total_bytes": 0}
        self.sent_at: float | None = None

    async def line(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("message_type") == "summary":
            self.summary = message
        elif message.get("message_type") == "status":
            for theirs, ours in self.FIELDS:
                value = message.get(theirs)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.values[ours] = value
            now = time.monotonic()
            if self.sent_at is None or now - self.sent_at >= BACKUP_PROGRESS_SECONDS:
                self.sent_at = now
                await _say(self.send, {"type": "backup.progress", "job": self.job, **self.values})


class _Stderr:
    """restic's stderr: JSON errors about single files and `Warning:` lines are warnings; the rest
    (`Fatal: ...`) says why a run failed."""

    def __init__(self) -> None:
        self._warnings: list[str] = []
        self._more_warnings = 0
        self._errors: list[str] = []
        self._length = 0

    async def line(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if text.startswith("{"):
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            if isinstance(message, dict) and message.get("message_type") == "error":
                self._warn(_error_text(message))
                return
        if text.startswith("Warning:") or text.endswith("does not exist, skipping"):
            self._warn(text)
        elif self._length < MAX_MESSAGE_CHARS:
            text = text[len("Fatal: "):] if text.startswith("Fatal: ") else text
            self._errors.append(text)
            self._length += len(text) + 1

    def _warn(self, text: str) -> None:
        if len(self._warnings) < MAX_WARNINGS:
            self._warnings.append(_clip(text, MAX_WARNING_CHARS))
        else:
            self._more_warnings += 1

    def warnings(self) -> list[str]:
        if not self._more_warnings:
            return list(self._warnings)
        return self._warnings[: MAX_WARNINGS - 1] + [f"… and {self._more_warnings + 1} more"]

    def already_initialised(self) -> bool:
        said = "\n".join(self._errors)
        return "already exists" in said or "already initialized" in said

    def failure(self, code: int) -> str:
        said = self._errors + self._warnings
        if said:
            return "\n".join(said)
        if code < 0:
            return f"restic was ended by signal {-code}"
        return f"restic exited with status {code}"


def _error_text(message: dict) -> str:
    text = _go_error(message.get("error"))
    item = message.get("item")
    if isinstance(item, str) and item and item not in text:
        text = f"{item}: {text}"
    return text


def _go_error(error: object) -> str:
    """A Go error as restic 0.14 marshals it: {"Op", "Path", "Err"}, an errno, or a string."""
    if isinstance(error, bool):
        return str(error)
    if isinstance(error, int):
        return os.strerror(error)
    if isinstance(error, str):
        return error
    if isinstance(error, dict) and "Err" in error:
        head = " ".join(str(error[key]) for key in ("Op", "Path") if error.get(key))
        reason = _go_error(error["Err"])
        return f"{head}: {reason}" if head else reason
    return "error" if error in ({}, None) else json.dumps(error)


# The file system side of a restore: staging folders, and files moved from them into place.


@dataclass
class _Counts:
    restored: int = 0
    overwritten: int = 0
    kept_both: int = 0
    skipped: int = 0

    def message(self) -> dict[str, int]:
        return {"restored": self.restored, "overwritten": self.overwritten, "kept_both": self.kept_both,
                "skipped": self.skipped}


@dataclass
class _Stage:
    """One staging folder `.portico-restore-<job>` in `location`, and the items restic restores into it."""

    location: str
    location_fd: int
    name: str
    fd: int
    items: list[str]

    @property
    def restic_target(self) -> str:
        # Through the descriptor, restic writes into this very folder even if someone renames it and
        # puts a symbolic link in its place while restic runs.
        if os.path.isdir(f"/proc/self/fd/{self.fd}"):
            return f"/proc/self/fd/{self.fd}"
        return os.path.join(self.location, self.name)


class _Plan:
    """Where a restore stages its files and where they go. Destinations are walked one component at
    a time from `/` with O_NOFOLLOW, so no symbolic link on the way is ever followed."""

    def __init__(self, request: RestoreRequest) -> None:
        self.request = request
        self.staging_name = STAGING_PREFIX + request.job
        self.stages: list[_Stage] = []
        self.target_fd: int | None = None

    def prepare(self) -> None:
        """Open the destination and make the staging folders; `remove_staging` undoes it, however far
        it got."""
        if self.request.target is not None:
            # A missing target is created with its parents; its staging folder goes inside it.
            self.target_fd = _open_folder(self.request.target, create=True)
            self._stage(self.request.target, list(self.request.items))
        else:
            for location, items in _staging_locations(self.request.items).items():
                self._stage(location, items)

    def _stage(self, location: str, items: list[str]) -> None:
        path = os.path.join(location, self.staging_name)
        location_fd = _open_folder(location, create=False)
        try:
            os.mkdir(self.staging_name, 0o700, dir_fd=location_fd)
        except FileExistsError:
            os.close(location_fd)
            raise Refused(f"{path} already exists (left by an interrupted restore?)") from None
        except OSError as exc:
            os.close(location_fd)
            raise Refused(f"cannot create {path}: {exc.strerror}") from None
        try:
            fd = os.open(self.staging_name, _O_DIRECTORY, dir_fd=location_fd)
        except OSError as exc:
            os.close(location_fd)
            raise Refused(f"cannot open {path}: {exc.strerror}") from None
        self.stages.append(_Stage(location, location_fd, self.staging_name, fd, items))

    def staged_bytes(self) -> int:
        return sum(_bytes_under(stage.fd) for stage in self.stages)

    def missing(self) -> list[str]:
        return [item for stage in self.stages for item in stage.items if not _exists_under(stage.fd, _parts(item))]

    def move_into_place(self, stop: threading.Event) -> _Counts:
        counts = _Counts()
        for stage in self.stages:
            for item in stage.items:
                try:
                    if self.target_fd is None:
                        _back_to_original(stage.fd, _parts(item), self.request.conflict, counts, stop)
                    else:
                        _into_target(stage.fd, _parts(item), self.target_fd, self.request.conflict, counts, stop)
                except _Stopped:
                    log.info("restore %s stopped while moving files into place", self.request.job)
                    return counts
                except OSError as exc:
                    raise Refused(f"cannot put {item} in place: {exc.strerror or exc}") from None
        return counts

    def remove_staging(self) -> None:
        """Remove the staging folders this restore made (never one it did not), and close all."""
        for stage in self.stages:
            path = os.path.join(stage.location, stage.name)
            try:
                here = os.lstat(stage.name, dir_fd=stage.location_fd)
                ours = os.fstat(stage.fd)
                if (here.st_dev, here.st_ino) == (ours.st_dev, ours.st_ino):
                    _remove_tree(stage.location_fd, stage.name)
                else:
                    log.warning("restore %s: %s was replaced while restoring; left as it is", self.request.job, path)
            except OSError as exc:
                log.warning("restore %s: cannot remove %s: %s", self.request.job, path, exc)
            finally:
                os.close(stage.fd)
                os.close(stage.location_fd)
        self.stages = []
        if self.target_fd is not None:
            os.close(self.target_fd)
            self.target_fd = None


def _staging_locations(items: tuple[str, ...]) -> dict[str, list[str]]:
    """Where to stage items going back to their original places: on the file system each will land
    on, in the deepest folder that exists and holds them all, one staging folder per file system."""
    by_device: dict[int, list[tuple[str, str]]] = {}
    for item in items:
        folder, device = _deepest_existing_folder(_parts(item)[:-1])
        by_device.setdefault(device, []).append((item, folder))
    locations: dict[str, list[str]] = {}
    for device, entries in by_device.items():
        common = os.path.commonpath([folder for _, folder in entries])
        if _device_of(common) == device:
            locations.setdefault(common, []).extend(item for item, _ in entries)
        else:  # two mounts of one file system, say: each folder stages its own
            for item, folder in entries:
                locations.setdefault(folder, []).append(item)
    return locations


def _refusal(path: str, dir_fd: int, name: str) -> Refused:
    try:
        is_link = stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        is_link = False
    if is_link:
        return Refused(f"{path} is a symbolic link: a restore never writes through one")
    return Refused(f"{path} is not a folder")


def _open_folder(path: str, *, create: bool) -> int:
    """A descriptor of the folder `path`, refusing a path that runs through a symbolic link."""
    fd = os.open("/", _O_DIRECTORY)
    walked = ""
    try:
        for name in _parts(path):
            walked += "/" + name
            try:
                child = os.open(name, _O_DIRECTORY, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise Refused(f"{walked} does not exist") from None
                try:
                    os.mkdir(name, dir_fd=fd)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise Refused(f"cannot create {walked}: {exc.strerror}") from None
                child = _descend(fd, name, walked)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refusal(walked, fd, name) from None
                raise Refused(f"cannot open {walked}: {exc.strerror}") from None
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _descend(fd: int, name: str, path: str | None = None) -> int:
    try:
        return os.open(name, _O_DIRECTORY, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and path is not None:
            raise _refusal(path, fd, name) from None
        raise


def _deepest_existing_folder(parts: list[str]) -> tuple[str, int]:
    """The deepest folder on the way to `parts` that exists, and its device; refused if the way runs
    through a symbolic link or a file."""
    fd = os.open("/", _O_DIRECTORY)
    walked = ""
    try:
        for name in parts:
            try:
                child = _descend(fd, name, walked + "/" + name)
            except FileNotFoundError:
                break
            os.close(fd)
            fd = child
            walked += "/" + name
        return walked or "/", os.fstat(fd).st_dev
    finally:
        os.close(fd)


def _device_of(path: str) -> int:
    fd = _open_folder(path, create=False)
    try:
        return os.fstat(fd).st_dev
    finally:
        os.close(fd)


def _exists_under(fd: int, parts: list[str]) -> bool:
    fds: list[int] = []
    try:
        for name in parts[:-1]:
            fd = os.open(name, _O_DIRECTORY, dir_fd=fd)
            fds.append(fd)
        os.lstat(parts[-1], dir_fd=fd)
        return True
    except OSError:
        return False
    finally:
        for opened in fds:
            os.close(opened)


def _entries(fd: int) -> Iterator[os.stat_result]:
    """Every entry under the folder `fd` but folders, without following symbolic links."""
    with os.scandir(fd) as listing:
        for entry in listing:
            try:
                if entry.is_dir(follow_symlinks=False):
                    child = os.open(entry.name, _O_DIRECTORY, dir_fd=fd)
                    try:
                        yield from _entries(child)
                    finally:
                        os.close(child)
                else:
                    yield entry.stat(follow_symlinks=False)
            except OSError:
                continue  # gone while looking: restic or a move got there first


def _bytes_under(fd: int) -> int:
    return sum(st.st_size for st in _entries(fd) if stat.S_ISREG(st.st_mode))


def _files_at(fd: int, name: str, st: os.stat_result) -> int:
    if not stat.S_ISDIR(st.st_mode):
        return 1
    child = os.open(name, _O_DIRECTORY, dir_fd=fd)
    try:
        return sum(1 for _ in _entries(child))
    finally:
        os.close(child)


def _remove_tree(fd: int, name: str) -> None:
    try:
        child = os.open(name, _O_DIRECTORY, dir_fd=fd)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            os.unlink(name, dir_fd=fd)
            return
        raise
    try:
        with os.scandir(child) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    _remove_tree(child, entry.name)
                else:
                    os.unlink(entry.name, dir_fd=child)
    finally:
        os.close(child)
    os.rmdir(name, dir_fd=fd)


def _rename_no_replace(src_fd: int, src: str, dst_fd: int, dst: str) -> None:
    """Rename unless `dst` exists (FileExistsError), atomically where the file system allows it."""
    if _renameat2 is not None:
        if _renameat2(src_fd, os.fsencode(src), dst_fd, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS):
            raise OSError(code, os.strerror(code), dst)
    try:
        os.lstat(dst, dir_fd=dst_fd)
    except FileNotFoundError:
        os.rename(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
        return
    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst)


def restored_name(name: str, number: int, *, folder: bool = False) -> str:
    """`report.odt` → `report (restored).odt`, then `report (restored 2).odt`; `notes` → `notes (restored)`."""
    stem, extension = (name, "") if folder else os.path.splitext(name)
    label = "restored" if number == 1 else f"restored {number}"
    return f"{stem} ({label}){extension}"


def _place(src_fd: int, name: str, dst_fd: int, dst_name: str, conflict: str, counts: _Counts,
           stop: threading.Event) -> None:
    """Move the staged `name` to `dst_name` in the folder `dst_fd`: by rename, a folder merged into
    an existing folder file by file, a clash settled by `conflict`. Nothing here follows a link."""
    if stop.is_set():
        raise _Stopped
    staged = os.lstat(name, dir_fd=src_fd)
    is_folder = stat.S_ISDIR(staged.st_mode)
    files = _files_at(src_fd, name, staged)
    while True:
        try:
            existing = os.lstat(dst_name, dir_fd=dst_fd)
            break
        except FileNotFoundError:
            try:
                _rename_no_replace(src_fd, name, dst_fd, dst_name)
            except FileExistsError:
                continue  # it appeared meanwhile: a clash after all
            counts.restored += files
            return
    if is_folder and stat.S_ISDIR(existing.st_mode):
        src_child = _descend(src_fd, name)
        try:
            dst_child = _descend(dst_fd, dst_name)
            try:
                for child in sorted(os.listdir(src_child)):
                    _place(src_child, child, dst_child, child, conflict, counts, stop)
            finally:
                os.close(dst_child)
        finally:
            os.close(src_child)
        return
    if conflict == "skip":
        counts.skipped += files
        return
    if conflict == "overwrite" and not is_folder and not stat.S_ISDIR(existing.st_mode):
        # rename replaces a symbolic link itself, never what it points to.
        os.rename(name, dst_name, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
        counts.overwritten += 1
        return
    # keep_both, and overwrite between a file and a folder: a folder is never deleted to make room.
    for number in itertools.count(1):
        try:
            _rename_no_replace(src_fd, name, dst_fd, restored_name(dst_name, number, folder=is_folder))
        except FileExistsError:
            continue
        counts.kept_both += files
        return


def _back_to_original(staging_fd: int, parts: list[str], conflict: str, counts: _Counts, stop: threading.Event) -> None:
    """Walk the item's original path from `/` and its staged copy side by side; where the original
    path stops existing, the staged folder goes in whole (with any other item inside it)."""
    dst = os.open("/", _O_DIRECTORY)
    src = os.dup(staging_fd)
    walked = ""
    try:
        for depth, name in enumerate(parts):
            walked += "/" + name
            try:
                os.lstat(name, dir_fd=src)
            except FileNotFoundError:
                return  # already moved in with a folder of an earlier item
            try:
                existing = os.lstat(name, dir_fd=dst)
            except FileNotFoundError:
                existing = None
            if depth == len(parts) - 1 or existing is None:
                _place(src, name, dst, name, conflict, counts, stop)
                return
            if not stat.S_ISDIR(existing.st_mode):
                kind = "a symbolic link: a restore never writes through one" if stat.S_ISLNK(existing.st_mode) else "not a folder"
                raise Refused(f"{walked} is {kind}")
            next_dst = _descend(dst, name, walked)
            os.close(dst)
            dst = next_dst
            next_src = _descend(src, name)
            os.close(src)
            src = next_src
    finally:
        os.close(dst)
        os.close(src)


def _into_target(staging_fd: int, parts: list[str], target_fd: int, conflict: str, counts: _Counts,
                 stop: threading.Event) -> None:
    src = os.dup(staging_fd)
    try:
        for name in parts[:-1]:
            next_src = _descend(src, name)
            os.close(src)
            src = next_src
        _place(src, parts[-1], target_fd, parts[-1], conflict, counts, stop)
    finally:
        os.close(src)
