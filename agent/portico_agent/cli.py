"""The `portico-agent` command: `enrol` once, then `run` (as a service)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from portico_agent import __version__, state
from portico_agent.endpoint import InsecureServerError

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

    run = commands.add_parser("run", help="keep the control connection to the server open")
    run.add_argument("--state", type=Path, help=state_help)
    return parser


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
    return _run(state_path)


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


def _run(state_path: Path) -> int:
    from portico_agent.connection import ControlConnection, CredentialRefused

    try:
        connection = ControlConnection(state.load(state_path))
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
        asyncio.run(_until_stopped(connection.run()))
    except CredentialRefused as exc:
        log.error("%s", exc)
        return EXIT_ENROL_AGAIN
    return 0


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
