"""Remote control: the session's socket tunnelled to the device's own VNC server on loopback, at
the port the agent was configured with (or that its own x11vnc listens on), never one a message
names. View-only sessions pass the viewer's bytes through rfb.ViewOnlyFilter."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from portico_agent.rfb import ViewOnlyFilter, ViewOnlyViolation
from portico_agent.session_request import UNAVAILABLE, Refused

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MAX_FRAME = 64 * 1024
CONNECT_TIMEOUT = 5.0
CLOSE_POLICY_VIOLATION = 1008


class VncPort:
    """A VNC server already running on this device (`--vnc-port`)."""

    def __init__(self, port: int) -> None:
        self._port = port

    async def port(self) -> int:
        return self._port

    async def stop(self) -> None:
        """Not the agent's to stop."""


class X11vnc:
    """x11vnc serving an X display (`--x11vnc-display`): started on loopback at the first session
    that needs it, kept for the next ones (-forever -shared), stopped with the agent."""

    def __init__(self, display: str, start_timeout: float = 10.0) -> None:
        self.display = display
        self.start_timeout = start_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._port = 0
        self._lock: asyncio.Lock | None = None

    def _one_at_a_time(self) -> asyncio.Lock:
        # Made on first use: before Python 3.10 a lock belongs to the event loop current when it is made.
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def port(self) -> int:
        async with self._one_at_a_time():
            if self._process is None or self._process.returncode is not None:
                self._process, self._port = await self._start()
            return self._port

    async def _start(self) -> tuple[asyncio.subprocess.Process, int]:
        program = shutil.which("x11vnc")
        if program is None:
            raise Refused(UNAVAILABLE, "x11vnc is not installed")
        port = _free_port()
        process = await asyncio.create_subprocess_exec(
            program, "-display", self.display, "-rfbport", str(port),
            "-localhost", "-nopw", "-forever", "-shared", "-noipv6", "-quiet",
            # Its own messages go to the agent's log (the journal); nothing reads its output.
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.info("started x11vnc for display %s on %s:%s (pid %s)", self.display, LOOPBACK, port, process.pid)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        while loop.time() < deadline:
            if process.returncode is not None:
                raise Refused(UNAVAILABLE, f"x11vnc exited ({process.returncode}) without serving {self.display}")
            if await _accepts(port):
                return process, port
            await asyncio.sleep(0.1)
        await _stop(process)
        raise Refused(UNAVAILABLE, f"x11vnc did not listen within {self.start_timeout:g} s")

    async def stop(self) -> None:
        async with self._one_at_a_time():
            if self._process is not None:
                await _stop(self._process)
                log.info("stopped x11vnc for display %s", self.display)
                self._process = None


def _free_port() -> int:
    # Another program could take the port before x11vnc binds it: x11vnc then exits, this session
    # is refused as unavailable, and the next one starts x11vnc again on another port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(LOOPBACK, port), CONNECT_TIMEOUT)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 2)
        except asyncio.TimeoutError:
            process.kill()
    await process.wait()


async def connect(server: VncPort | X11vnc) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = await server.port()
    try:
        return await asyncio.wait_for(asyncio.open_connection(LOOPBACK, port), CONNECT_TIMEOUT)
    except (OSError, asyncio.TimeoutError):
        raise Refused(UNAVAILABLE, f"no VNC server answers on {LOOPBACK}:{port}") from None


async def relay(
    ws: ClientConnection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, view_only: bool
) -> str:
    """Carry the RFB stream both ways until either end closes; then both are closed, and this
    returns why it ended."""
    screen = asyncio.ensure_future(_vnc_to_socket(reader, ws))
    viewer = asyncio.ensure_future(_socket_to_vnc(ws, writer, ViewOnlyFilter() if view_only else None))
    try:
        done, _ = await asyncio.wait({screen, viewer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (screen, viewer):
            task.cancel()
        await asyncio.gather(screen, viewer, return_exceptions=True)
        writer.close()
    finished = done.pop()
    if finished.exception() is None:
        ended = finished.result()
        await ws.close(1000, ended)
        return ended
    if isinstance(finished.exception(), ViewOnlyViolation):
        ended = f"view-only: {finished.exception()}"
        await ws.close(CLOSE_POLICY_VIOLATION, ended[:120])
        return ended
    log.warning("remote control relay failed: %r", finished.exception())
    await ws.close(1011, "relay failed")
    return "relay failed"


async def _vnc_to_socket(reader: asyncio.StreamReader, ws: ClientConnection) -> str:
    while True:
        try:
            chunk = await reader.read(MAX_FRAME)
        except OSError:
            chunk = b""
        if not chunk:
            return "VNC server closed the connection"
        try:
            await ws.send(chunk)
        except ConnectionClosed:
            return "socket closed"


async def _socket_to_vnc(ws: ClientConnection, writer: asyncio.StreamWriter, view_only: ViewOnlyFilter | None) -> str:
    try:
        async for frame in ws:
            if not isinstance(frame, bytes):
                log.info("ignoring a text frame in a remote control session")
                continue
            data = view_only.feed(frame) if view_only else frame
            if data:
                writer.write(data)
                await writer.drain()
    except ConnectionClosed:
        pass
    except OSError:
        return "VNC server closed the connection"
    return "socket closed"
