"""The agent's side of sessions (docs/agent-protocol.md, Sessions): each `session.open` from the
control connection is checked against what the agent itself allows and can serve, consented
to when the server says so, and then served on a websocket of its own, as a task of its own, so
that the control connection keeps its heartbeats and several sessions can run at once."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.frames import CloseCode

from portico_agent import consent, inventory, screen
from portico_agent.connection import SendMessage, dial
from portico_agent.endpoint import session_url, tls_context
from portico_agent.session_request import UNAVAILABLE, Refused, SessionRequest, parse
from portico_agent.state import AgentState

try:
    from portico_agent import terminal
except ImportError:  # Windows: no pseudo-terminals, so no command lines
    terminal = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# What the ready frame says about consent, by the session.open's consent mode.
CONSENT_SAID = {"none": "not_asked", "notify": "notified", "ask": "granted"}


@dataclass(frozen=True)
class SessionOptions:
    """How this device serves sessions: `portico-agent run`'s options."""

    # Asks (or tells) the person at the device; its words, the prompt is added as the last one.
    consent_command: tuple[str, ...] | None = None
    # Whose command line user_cli opens, instead of the user logged in at the console (kiosks, tests).
    session_user: str | None = None
    # A VNC server already listening on 127.0.0.1 at this port...
    vnc_port: int | None = None
    # ...or the X display the agent's own x11vnc serves.
    x11vnc_display: str | None = None


class Sessions:
    """The sessions of one agent. `open` is the control connection's handler for session.open."""

    def __init__(
        self,
        state: AgentState,
        options: SessionOptions | None = None,
        *,
        consent_seconds: float = consent.ASK_SECONDS,
        open_timeout: float = 10.0,
        find_logged_in_user: Callable[[], str | None] = inventory.logged_in_user,
    ) -> None:
        self.state = state
        self.options = options or SessionOptions()
        self.ssl = tls_context(state.server, state.ca_file)
        self.open_timeout = open_timeout
        self.find_logged_in_user = find_logged_in_user
        self.consent = consent.ConsentSettings(
            self.options.consent_command, consent_seconds, self.options.x11vnc_display
        )
        self.vnc: screen.VncPort | screen.X11vnc | None = None
        if self.options.vnc_port:
            self.vnc = screen.VncPort(self.options.vnc_port)
        elif self.options.x11vnc_display:
            self.vnc = screen.X11vnc(self.options.x11vnc_display)
        self._tasks: set[asyncio.Future] = set()

    async def open(self, message: dict, send: SendMessage) -> None:
        self._start(self._serve(message, send))

    async def close(self) -> None:
        """End every session (shells hung up, sockets closed) and stop the agent's own x11vnc."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.vnc is not None:
            await self.vnc.stop()

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a session failed", exc_info=task.exception())

    async def _serve(self, message: dict, send: SendMessage) -> None:
        try:
            request = parse(message)
            log.info("session %s: %s requested by %s", request.session, request.kind, request.requested_by)
            await self._run(request)
        except Refused as refusal:
            await self._refuse(message.get("session"), refusal, send)

    async def _refuse(self, session: object, refusal: Refused, send: SendMessage) -> None:
        log.info("session %r refused: %s (%s)", session, refusal.reason, refusal.detail)
        if isinstance(session, bool) or not isinstance(session, (str, int)):
            log.warning("a session.open without a session id cannot be answered")
            return
        try:
            await send({"type": "session.refused", "session": session, "reason": refusal.reason,
                        "detail": refusal.detail})
        except ConnectionClosed:
            log.warning("session %r: the control connection closed before the refusal was sent", session)

    async def _run(self, request: SessionRequest) -> None:
        person = await self._person_at_device(request)
        served = self._what_to_serve(request, person)
        consent_said = await self._consent(request, person)
        # Started before the socket is dialled, so that a shell or VNC server that cannot be had is
        # a refusal on the control connection rather than a socket closed at once.
        await served.start()
        try:
            await self._relay(request, served, consent_said)
        finally:
            await served.end()

    async def _relay(self, request: SessionRequest, served: _CommandLine | _RemoteControl, consent_said: str) -> None:
        url = session_url(self.state.server, request.session_id)
        try:
            ws = await dial(url, self.state, self.ssl, self.open_timeout)
        except (OSError, asyncio.TimeoutError, WebSocketException) as exc:
            log.warning("session %s: cannot open its socket: %s", request.session, str(exc) or type(exc).__name__)
            return
        try:
            await ws.send(json.dumps({"type": "ready", "consent": consent_said}))
            ended = await served.relay(ws)
            log.info("session %s ended: %s", request.session, ended)
        except ConnectionClosed:
            log.info("session %s: its socket closed before it was ready", request.session)
        except asyncio.CancelledError:
            await ws.close(CloseCode.GOING_AWAY, "agent stopping")
            raise
        finally:
            await ws.close()

    async def _person_at_device(self, request: SessionRequest) -> str | None:
        """Whose command line user_cli opens, and who is asked or told: the agent's own finding,
        never a name from the message."""
        if self.options.session_user:
            return self.options.session_user
        if request.kind != "user_cli" and request.consent == "none":
            return None
        # loginctl and who are commands: a thread keeps them from stalling the other sessions.
        return await asyncio.to_thread(self.find_logged_in_user)

    def _what_to_serve(self, request: SessionRequest, person: str | None) -> _CommandLine | _RemoteControl:
        """What the session will run; Refused(unavailable) when this device cannot serve its kind."""
        if request.kind == "remote_control":
            if self.vnc is None:
                raise Refused(UNAVAILABLE, "no VNC server is configured on this device")
            return _RemoteControl(self.vnc, request.view_only)
        if terminal is None:
            raise Refused(UNAVAILABLE, "this device's agent has no command lines")
        if request.kind == "system_cli":
            return _CommandLine(terminal.system_shell())
        if person is None:
            raise Refused(UNAVAILABLE, "no one is logged in")
        return _CommandLine(terminal.user_shell(person))

    async def _consent(self, request: SessionRequest, person: str | None) -> str:
        if request.consent == "ask":
            await consent.ask(_prompt(request, person, asking=True), request.kind, self.consent, person)
        elif request.consent == "notify":
            self._start(consent.notify(_prompt(request, person, asking=False), request.kind, self.consent, person))
        return CONSENT_SAID[request.consent]


def _prompt(request: SessionRequest, person: str | None, asking: bool) -> str:
    if request.kind == "remote_control":
        what = "see your screen" if request.view_only else "see and control your screen"
    elif request.kind == "user_cli":
        what = f"open a command line on this computer as {person}"
    else:
        what = "open an administrator command line on this computer"
    if asking:
        return f"{request.requested_by}, through Portico, asks to {what}. Allow?"
    return f"{request.requested_by}, through Portico, is about to {what}."


class _CommandLine:
    def __init__(self, command: terminal.ShellCommand) -> None:
        self.command = command
        self.shell: terminal.Shell | None = None

    async def start(self) -> None:
        try:
            self.shell = await terminal.Shell.start(self.command)
        except OSError as exc:
            raise Refused(UNAVAILABLE, f"cannot start {self.command.argv[0]}: {exc.strerror or exc}") from None

    async def relay(self, ws: ClientConnection) -> str:
        assert self.shell is not None
        return await terminal.relay(ws, self.shell)

    async def end(self) -> None:
        if self.shell is not None:
            await self.shell.hang_up()


class _RemoteControl:
    def __init__(self, vnc: screen.VncPort | screen.X11vnc, view_only: bool) -> None:
        self.vnc, self.view_only = vnc, view_only
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def start(self) -> None:
        self.streams = await screen.connect(self.vnc)

    async def relay(self, ws: ClientConnection) -> str:
        assert self.streams is not None
        reader, writer = self.streams
        return await screen.relay(ws, reader, writer, self.view_only)

    async def end(self) -> None:
        if self.streams is not None:
            self.streams[1].close()

