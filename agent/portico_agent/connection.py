"""The control connection (docs/agent-protocol.md): one websocket the agent dials out and keeps
open, sending its inventory and heartbeats, and redialling with jittered exponential backoff."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.frames import CloseCode

from portico_agent import __version__, inventory
from portico_agent.endpoint import control_url, tls_context
from portico_agent.state import AgentState

log = logging.getLogger(__name__)

# websockets logs every handshake header at DEBUG, the Authorization header among them; its
# logger for our connections never goes below INFO, whatever level the agent runs at.
_websocket_log = logging.getLogger("portico_agent.websocket")
_websocket_log.setLevel(logging.INFO)

CLOSE_CREDENTIAL_REVOKED = 4401
DEFAULT_HEARTBEAT_SECONDS = 30.0


class CredentialRefused(Exception):
    """The server no longer accepts this device's credential; only a new enrolment helps."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"credential refused: enrol again ({detail})")


class Backoff:
    """Waits between dials: `initial` doubling up to `maximum`, each times a random factor in
    [0.5, 1.5]; a connection that stayed up `reset_after` seconds starts over at `initial`."""

    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 60.0,
        reset_after: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.initial, self.maximum, self.reset_after = initial, maximum, reset_after
        self._rng = rng or random.Random()
        self._failures = 0

    def next_delay(self) -> float:
        base = min(self.initial * 2 ** min(self._failures, 32), self.maximum)
        self._failures += 1
        return base * self._rng.uniform(0.5, 1.5)

    def connection_lasted(self, seconds: float) -> None:
        if seconds >= self.reset_after:
            self._failures = 0


InventoryProbe = Callable[[], "dict[str, Any]"]
# Sends one message (a JSON object) on the control connection the handled message came from.
SendMessage = Callable[[dict], Awaitable[None]]
# Handlers run inside the receiving loop: one that has slow work to do starts a task for it.
MessageHandler = Callable[[dict, SendMessage], Awaitable[None]]


async def dial(url: str, state: AgentState, ssl_context: ssl.SSLContext | None, open_timeout: float) -> ClientConnection:
    """A websocket to the server, authenticated with the device's credential: the control
    connection and every session's socket are dialled alike."""
    return await connect(
        url,
        additional_headers={"Authorization": f"Bearer {state.bearer}"},
        user_agent_header=f"portico-agent/{__version__}",
        ssl=ssl_context,
        open_timeout=open_timeout,
        # Control messages are tiny and session bytes are latency-bound keystrokes or already
        # compressed screen updates; compression would cost memory on the server and time here.
        compression=None,
        logger=_websocket_log,
    )


class ControlConnection:
    """Keeps the device's control connection to its server open until the credential is refused."""

    def __init__(
        self,
        state: AgentState,
        *,
        backoff: Backoff | None = None,
        probe: InventoryProbe = inventory.collect,
        open_timeout: float = 10.0,
    ) -> None:
        self.state = state
        self.url = control_url(state.server)
        self.ssl = tls_context(state.server, state.ca_file)
        self.backoff = backoff or Backoff()
        self.probe = probe
        self.open_timeout = open_timeout
        self.heartbeat_seconds = DEFAULT_HEARTBEAT_SECONDS
        self._last_inventory: dict[str, Any] | None = None
        # Message types the server may send once the connection is up (session.open, see cli).
        self.handlers: dict[str, MessageHandler] = {}

    async def run(self) -> None:
        """Dial, serve, and redial after every disconnect; returns only by raising CredentialRefused."""
        while True:
            opened_at: list[float] = []
            try:
                code = await self.connect_once(opened_at)
                log.warning("control connection closed (code %s)", code)
            except CredentialRefused:
                raise
            except ssl.SSLCertVerificationError as exc:
                log.error("TLS verification of %s failed: %s (is --ca-file right?)", self.url, exc.verify_message)
            except (OSError, asyncio.TimeoutError, WebSocketException) as exc:
                log.warning("control connection to %s failed: %s", self.url, str(exc) or type(exc).__name__)
            if opened_at:
                self.backoff.connection_lasted(time.monotonic() - opened_at[0])
            delay = self.backoff.next_delay()
            log.info("reconnecting in %.1f s", delay)
            await asyncio.sleep(delay)

    async def connect_once(self, opened_at: list[float] | None = None) -> int | None:
        """One connection, from dial to close; the close code the server sent, if any.
        `opened_at` receives the monotonic time the websocket opened, for the backoff's reset."""
        try:
            ws = await dial(self.url, self.state, self.ssl, self.open_timeout)
        except InvalidStatus as exc:
            if exc.response.status_code in (401, 403):
                raise CredentialRefused(f"HTTP {exc.response.status_code} at handshake") from None
            raise
        if opened_at is not None:
            opened_at.append(time.monotonic())
        log.info("connected to %s", self.url)
        try:
            await self._serve(ws)
        except ConnectionClosed:
            pass
        except asyncio.CancelledError:
            await ws.close(CloseCode.GOING_AWAY, "agent stopping")
            raise
        finally:
            await ws.close()
        code = ws.close_code
        if code == CLOSE_CREDENTIAL_REVOKED:
            raise CredentialRefused(f"closed with {code}")
        return code

    async def _serve(self, ws: ClientConnection) -> None:
        await asyncio.wait_for(self._await_welcome(ws), self.open_timeout)
        await self._send_inventory(ws, force=True)
        heartbeats = asyncio.ensure_future(self._heartbeats(ws))
        receiving = asyncio.ensure_future(self._receive(ws))
        done, pending = await asyncio.wait({heartbeats, receiving}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()

    async def _await_welcome(self, ws: ClientConnection) -> None:
        async for raw in ws:
            message = _parse(raw)
            if message is None:
                continue
            if message.get("type") == "welcome":
                self.heartbeat_seconds = _heartbeat_seconds(message.get("heartbeat_seconds"))
                log.info(
                    "welcome: device %s, heartbeat every %s s", message.get("device_id"), self.heartbeat_seconds
                )
                return
            log.info("ignoring %r before the welcome", message.get("type"))

    async def _heartbeats(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            await self._send_inventory(ws)
            await ws.send(json.dumps({"type": "heartbeat"}))

    async def _send_inventory(self, ws: ClientConnection, force: bool = False) -> None:
        # Probes run commands (loginctl, ip); a thread keeps them from stalling the connection.
        current = await asyncio.to_thread(self.probe)
        if force or current != self._last_inventory:
            await ws.send(json.dumps(current))
            self._last_inventory = current
            log.debug("inventory sent")

    async def _receive(self, ws: ClientConnection) -> None:
        async def send(message: dict) -> None:
            await ws.send(json.dumps(message))

        async for raw in ws:
            message = _parse(raw)
            if message is None:
                continue
            handler = self.handlers.get(message.get("type"))
            if handler is None:
                log.info("ignoring a message of unknown type %r", message.get("type"))
                continue
            await handler(message, send)


def _parse(raw: str | bytes) -> dict | None:
    try:
        message = json.loads(raw)
    except ValueError:
        log.warning("ignoring a message that is not JSON")
        return None
    if not isinstance(message, dict):
        log.warning("ignoring a message that is not a JSON object")
        return None
    return message


def _heartbeat_seconds(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    log.warning("welcome has no usable heartbeat_seconds (%r); using %s s", value, DEFAULT_HEARTBEAT_SECONDS)
    return DEFAULT_HEARTBEAT_SECONDS
