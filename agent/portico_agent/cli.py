"""The `portico-agent` command: `enrol` once, then `run` (as a service)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from portico_agent import __version__, state
from portico_agent.endpoint import InsecureServerError

if TYPE_CHECKING:
    from portico_agent.backups import Backups
    from portico_agent.connection import ControlConnection
    from portico_agent.sessions import SessionOptions, Sessions

log = logging.getLogger("portico_agent")

# Exit status when only a new enrolment can help; the systemd unit does not restart on it.
EXIT_ENROL_AGAIN = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portico-agent", description="Portico device agent.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    state_help = f"state file (default: $PORTICO_AGENT_STATE, else {state.DEFAULT_PATH})"

    enrol = commands.add_parser("enrol", help="enrol this device with a Portico server")
    enrol.add_argument("--server", required=True, help="the server's URL, e.g. https://portico.example.com")
    enrol.add_argument("--token", required=True, help="an enrolment token from the organization's devices")
    enrol.add_argument("--ca-file", help="PEM file of the CA that signed the server's certificate (pins it)")
    enrol.add_argument("--state", type=Path, help=state_help)

    run = commands.add_parser(
        "run", help="keep the control connection to the server open, serve sessions, back up and restore"
    )
    run.add_argument("--state", type=Path, help=state_help)
    run.add_argument(
        "--restic", metavar="PATH", default="restic",
        help="the restic program that backs up and restores (default: restic, found on PATH)",
    )
    run.add_argument(
        "--consent-command", metavar="CMD", type=_command,
        help="program that asks the person at the device (the prompt is its last argument; exit 0 = yes) "
        "or, with PORTICO_CONSENT=notify, tells them; default: zenity / notify-send on their display",
    )
    run.add_argument(
        "--session-user", metavar="NAME",
        help="open user command lines as NAME instead of the user logged in at the console (kiosks, tests)",
    )
    screen = run.add_mutually_exclusive_group()
    screen.add_argument("--vnc-port", metavar="PORT", type=_port, help="remote control: a VNC server on 127.0.0.1:PORT")
    screen.add_argument(
        "--x11vnc-display", metavar=":N", type=_display,
        help="remote control: start x11vnc on this X display (on loopback) when a session needs it",
    )
    return parser


def _command(text: str) -> tuple[str, ...]:
    try:
        words = tuple(shlex.split(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"cannot split {text!r} into words: {exc}") from None
    if not words:
        raise argparse.ArgumentTypeError("empty command")
    return words


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return int(text)


def _display(text: str) -> str:
    if not re.fullmatch(r":\d+(\.\d+)?", text):
        raise argparse.ArgumentTypeError(f"not a local X display like :0: {text!r}")
    return text


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    state_path = args.state or state.default_path()
    if args.command == "enrol":
        return _enrol(args.server, args.token, args.ca_file, state_path)
    return _run(state_path, _session_options(args), args.restic)


def _session_options(args: argparse.Namespace) -> SessionOptions:
    from portico_agent.sessions import SessionOptions

    return SessionOptions(
        consent_command=args.consent_command,
        session_user=args.session_user,
        vnc_port=args.vnc_port,
        x11vnc_display=args.x11vnc_display,
    )


def _enrol(server: str, token: str, ca_file: str | None, state_path: Path) -> int:
    from portico_agent.enrol import EnrolmentFailed, EnrolmentRefused, enrol

    try:
        enrolled = enrol(server, token, state_path, ca_file=ca_file)
    except EnrolmentRefused as refused:
        print("enrolment refused:", file=sys.stderr)
        for field, messages in refused.errors.items():
            for message in messages:
                print(f"  {field}: {message}", file=sys.stderr)
        return 2
    except (EnrolmentFailed, InsecureServerError, state.StateError, OSError) as exc:
        print(f"enrolment failed: {exc}", file=sys.stderr)
        return 1
    print(f"enrolled as device {enrolled.device_id}; state saved to {state_path}")
    return 0


def _run(state_path: Path, options: SessionOptions, restic: str) -> int:
    from portico_agent.backups import Backups
    from portico_agent.connection import ControlConnection, CredentialRefused
    from portico_agent.sessions import Sessions

    try:
        agent_state = state.load(state_path)
        connection = ControlConnection(agent_state)
        sessions = Sessions(agent_state, options)
        # restic's cache beside the state file: never in the HOME of whoever started the agent.
        backups = Backups(agent_state, restic=restic, cache_dir=state_path.resolve().parent / "restic-cache")
    except state.StateError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ENROL_AGAIN
    except InsecureServerError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"cannot use the CA file: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(_until_stopped(_serve(connection, sessions, backups)))
    except CredentialRefused as exc:
        log.error("%s", exc)
        return EXIT_ENROL_AGAIN
    return 0


async def _serve(connection: ControlConnection, sessions: Sessions, backups: Backups) -> None:
    connection.handlers["session.open"] = sessions.open
    connection.handlers["backup.run"] = backups.backup
    connection.handlers["restore.run"] = backups.restore
    try:
        await connection.run()
    finally:
        await sessions.close()
        await backups.close()


async def _until_stopped(work) -> None:
    """Run `work` until it ends or SIGTERM/SIGINT arrives; on a signal the websocket closes cleanly."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, task.cancel)
        except (NotImplementedError, RuntimeError):
            pass  # Windows: Ctrl-C still raises KeyboardInterrupt, and a service stop ends the process.
    try:
        await task
    except asyncio.CancelledError:
        log.info("stopped")
