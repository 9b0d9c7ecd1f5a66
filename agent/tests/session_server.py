"""The Portico side of sessions, for the agent's tests: a loopback websockets server whose
/agent/v1/sessions/<id> endpoint hands each socket the agent opens to the test, and helpers to
send session.open and read what comes back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable

from websockets.asyncio.server import ServerConnection, serve

from portico_agent.sessions import SessionOptions, Sessions
from portico_agent.state import AgentState

CREDENTIAL = "s3cret-credential-value"
WAIT = 10  # seconds; a bound on a hung test, never a pause


def open_message(kind: str = "system_cli", session: str = "s1", **fields: object) -> dict:
    """A well-formed session.open, as the server sends it; `fields` add or replace keys."""
    message = {"type": "session.open", "session": session, "kind": kind, "rights": [kind],
               "view_only": False, "consent": "none", "requested_by": "Tess Tech"}
    message.update(fields)
    return message


class ControlSide:
    """Stands in for the control connection: collects what the agent sends on it."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send(self, message: dict) -> None:
        self.sent.append(message)


class SessionSockets:
    """The server's session endpoint: each socket the agent opens, with its path and headers."""

    def __init__(self) -> None:
        self.opened: list[ServerConnection] = []
        self._queue: asyncio.Queue[ServerConnection] = asyncio.Queue()

    async def handler(self, ws: ServerConnection) -> None:
        self.opened.append(ws)
        await self._queue.put(ws)
        await ws.wait_closed()

    async def next(self) -> ServerConnection:
        return await asyncio.wait_for(self._queue.get(), WAIT)


@contextlib.asynccontextmanager
async def serving(options: SessionOptions | None = None, **kwargs) -> AsyncIterator[tuple[Sessions, SessionSockets]]:
    """The agent's Sessions, dialling a loopback server's session endpoint; all closed afterwards."""
    sockets = SessionSockets()
    async with serve(sockets.handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        state = AgentState(server=f"http://127.0.0.1:{port}", device_id=42, credential=CREDENTIAL)
        sessions = Sessions(state, options, **kwargs)
        try:
            yield sessions, sockets
        finally:
            await sessions.close()


async def eventually(predicate: Callable[[], object], timeout: float = WAIT) -> None:
    """Wait until `predicate()` holds; fail the test if it does not within `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"still false after {timeout} s: {predicate}")
        await asyncio.sleep(0.01)


async def ready(ws: ServerConnection) -> dict:
    """The agent's first frame on a session socket: the ready frame, as JSON."""
    frame = await asyncio.wait_for(ws.recv(), WAIT)
    assert isinstance(frame, str), f"expected the ready text frame first, got {frame!r}"
    return json.loads(frame)


async def read_until(ws: ServerConnection, needle: bytes, timeout: float = WAIT) -> bytes:
    """Binary frames from the agent until `needle` shows up in them; everything read, joined."""
    seen = bytearray()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while needle not in seen:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} never came; got {bytes(seen)!r}")
        frame = await asyncio.wait_for(ws.recv(), remaining)
        assert isinstance(frame, bytes), f"unexpected text frame {frame!r}"
        seen += frame
    return bytes(seen)


async def read_match(ws: ServerConnection, pattern: bytes, timeout: float = WAIT) -> re.Match:
    """Binary frames from the agent until `pattern` (a regular expression) matches them."""
    seen = bytearray()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (found := re.search(pattern, seen)):
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"{pattern!r} never matched; got {bytes(seen)!r}")
        frame = await asyncio.wait_for(ws.recv(), remaining)
        assert isinstance(frame, bytes), f"unexpected text frame {frame!r}"
        seen += frame
    return found
