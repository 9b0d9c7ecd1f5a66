"""A small VNC server speaking RFB 3.8 without authentication, and the browser's end of a remote
control session, for the agent's tests (RFC 6143)."""

from __future__ import annotations

import asyncio
import struct

from session_server import WAIT

VERSION = b"RFB 003.008\n"
SERVER_INIT = struct.pack(">HH16sI", 640, 480, b"\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00", 4) + b"demo"
# Client messages, whole (RFC 6143, 7.5).
SET_PIXEL_FORMAT = b"\x00\x00\x00\x00" + b"\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00"
SET_ENCODINGS = struct.pack(">BxHii", 2, 2, 0, -223)
UPDATE_REQUEST = struct.pack(">BBHHHH", 3, 1, 0, 0, 640, 480)
KEY_DOWN_A = struct.pack(">BBxxI", 4, 1, 0x61)
POINTER_CLICK = struct.pack(">BBHH", 5, 1, 100, 200)
CUT_TEXT = struct.pack(">BxxxI", 6, 5) + b"hello"
HANDSHAKE = VERSION + b"\x01" + b"\x01"  # version, security type None, ClientInit (shared)


class FakeVnc:
    """A VNC server with no authentication that records what a viewer sends after the handshake."""

    def __init__(self) -> None:
        self.connections = 0
        self.handshake = bytearray()
        self.received = bytearray()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(VERSION)
        self.handshake += await reader.readexactly(12)
        writer.write(b"\x01\x01")  # one security type: None
        self.handshake += await reader.readexactly(1)
        writer.write(struct.pack(">I", 0))  # SecurityResult: OK
        self.handshake += await reader.readexactly(1)
        writer.write(SERVER_INIT)
        await writer.drain()
        while data := await reader.read(65536):
            self.received += data
        writer.close()


class Viewer:
    """The browser's end of a remote control session, reading the RFB stream byte-exact."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self._buffer = bytearray()

    async def read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            frame = await asyncio.wait_for(self.ws.recv(), WAIT)
            assert isinstance(frame, bytes)
            self._buffer += frame
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    async def handshake(self) -> None:
        assert await self.read(12) == VERSION
        await self.ws.send(VERSION)
        assert await self.read(2) == b"\x01\x01"
        await self.ws.send(b"\x01")
        assert await self.read(4) == b"\x00\x00\x00\x00"
        await self.ws.send(b"\x01")
        assert await self.read(len(SERVER_INIT)) == SERVER_INIT
