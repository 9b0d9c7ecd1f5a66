"""Asking, or telling, the person at the device before a session starts (docs/agent-protocol.md,
Sessions, step 3). The program that asks is the agent's `--consent-command` if it has one (a
kiosk's own prompt, or a test's script); otherwise zenity or notify-send on the user's X display."""

from __future__ import annotations

import asyncio
import glob
import logging
import math
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass

from portico_agent.session_request import CONSENT_DENIED, CONSENT_TIMEOUT, Refused

try:
    import pwd
except ImportError:  # Windows: no desktop program to ask with; a --consent-command still works
    pwd = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

ASK_SECONDS = 30.0
ZENITY_TIMED_OUT = 5  # zenity's exit status when its own --timeout ran out
_PATH = "/usr/local/bin:/usr/bin:/bin"
_RUNUSER_PATH = "/usr/sbin:/sbin:/usr/bin:/bin"


@dataclass(frozen=True)
class ConsentSettings:
    # The agent's --consent-command, split into words; the prompt is added as the last one.
    command: tuple[str, ...] | None = None
    seconds: float = ASK_SECONDS
    # The X display the person sits at when the agent knows it (its x11vnc's), else found.
    display: str | None = None


async def ask(prompt: str, kind: str, settings: ConsentSettings, user: str | None) -> None:
    """Returns when the person said yes; raises Refused(consent_denied or consent_timeout)."""
    if settings.command:
        argv = [*settings.command, prompt]
        env = dict(os.environ, PORTICO_CONSENT="ask", PORTICO_SESSION_KIND=kind)
        status = await _run(argv, env, settings.seconds, quiet=False)
    else:
        desktop = _desktop_command("zenity", user, settings.display)
        if desktop is None:
            raise Refused(CONSENT_TIMEOUT, "no one to ask")
        argv, env = desktop
        argv += ["--question", "--no-markup", "--title=Portico", f"--timeout={math.ceil(settings.seconds)}",
                 f"--text={prompt}"]
        status = await _run(argv, env, settings.seconds, quiet=True)
        if status == ZENITY_TIMED_OUT:
            status = None
    if status is None:
        raise Refused(CONSENT_TIMEOUT, f"no answer within {settings.seconds:g} s")
    if status != 0:
        raise Refused(CONSENT_DENIED, "the person at the device said no")


async def notify(prompt: str, kind: str, settings: ConsentSettings, user: str | None) -> None:
    """Tell the person at the device; their answer, if any, changes nothing. Meant to run as a
    task of its own, so that the session does not wait for it."""
    log.info("telling the person at the device: %s", prompt)
    if settings.command:
        argv = [*settings.command, prompt]
        env = dict(os.environ, PORTICO_CONSENT="notify", PORTICO_SESSION_KIND=kind)
        await _run(argv, env, settings.seconds, quiet=False)
        return
    desktop = _desktop_command("notify-send", user, settings.display)
    if desktop is not None:
        argv, env = desktop
        await _run([*argv, "--app-name=Portico", "Portico", prompt], env, settings.seconds, quiet=True)


async def _run(argv: list[str], env: dict[str, str], seconds: float, quiet: bool) -> int | None:
    """The program's exit status, or None when it had not answered within `seconds` (it is killed
    then, with whatever it started). A program that cannot be run has not answered either."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            # A desktop program's warnings are noise; an administrator's script's errors are not.
            stderr=subprocess.DEVNULL if quiet else None,
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("cannot run %s: %s", argv[0], exc)
        return None
    try:
        return await asyncio.wait_for(process.wait(), seconds)
    except asyncio.TimeoutError:
        return None
    finally:
        if process.returncode is None:
            _kill(process)
            await process.wait()


def _kill(process: asyncio.subprocess.Process) -> None:
    """Kill the program and whatever it started (its process group, made by start_new_session)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:
        pass


def _desktop_command(program: str, user: str | None, display: str | None) -> tuple[list[str], dict[str, str]] | None:
    """How to run `program` on the person's desktop: as them when the agent is root, with their
    display, X authority and session bus. None when there is no program or no display."""
    found = shutil.which(program)
    display = display or _find_display()
    if found is None or display is None or pwd is None:
        return None
    env = {"DISPLAY": display, "PATH": _PATH, "LANG": os.environ.get("LANG") or "C.UTF-8"}
    if os.environ.get("XAUTHORITY"):
        env["XAUTHORITY"] = os.environ["XAUTHORITY"]
    try:
        entry = pwd.getpwnam(user) if user else None
    except KeyError:
        entry = None
    runuser = shutil.which("runuser", path=_RUNUSER_PATH)
    if entry is None or entry.pw_uid == 0 or os.geteuid() != 0 or runuser is None:
        return [found], env
    env.update(HOME=entry.pw_dir, USER=entry.pw_name, LOGNAME=entry.pw_name)
    for authority in (f"/run/user/{entry.pw_uid}/gdm/Xauthority", os.path.join(entry.pw_dir, ".Xauthority")):
        if os.path.exists(authority):
            env["XAUTHORITY"] = authority
            break
    bus = f"/run/user/{entry.pw_uid}/bus"
    if os.path.exists(bus):
        env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={bus}"
    return [runuser, "-u", entry.pw_name, "--", found], env


def _find_display() -> str | None:
    if os.environ.get("DISPLAY"):
        return os.environ["DISPLAY"]
    for socket_path in sorted(glob.glob("/tmp/.X11-unix/X*")):
        number = socket_path.rpartition("/X")[2]
        if number.isdigit():
            return f":{number}"
    return None
