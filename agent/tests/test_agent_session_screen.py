"""Remote control: the RFB stream tunnelled to the agent's own VNC server on loopback (here a
small fake speaking RFB 3.8), the view-only filter on its own, and the agent's own x11vnc."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fake_vnc import (
    CUT_TEXT,
    HANDSHAKE,
    KEY_DOWN_A,
    POINTER_CLICK,
    SET_ENCODINGS,
    SET_PIXEL_FORMAT,
    UPDATE_REQUEST,
    VERSION,
    FakeVnc,
    Viewer,
)
from own_loop import run
from session_server import WAIT, ControlSide, eventually, open_message, ready, serving

from portico_agent.rfb import ViewOnlyFilter, ViewOnlyViolation
from portico_agent.sessions import SessionOptions


@asynccontextmanager
async def handshaken(vnc: FakeVnc, view_only: bool):
    """A remote control session to `vnc`, ready and past the RFB handshake: its socket."""
    server = await asyncio.start_server(vnc.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, serving(SessionOptions(vnc_port=port)) as (sessions, sockets):
        await sessions.open(open_message("remote_control", view_only=view_only), ControlSide().send)
        ws = await sockets.next()
        assert await ready(ws) == {"type": "ready", "consent": "not_asked"}
        await Viewer(ws).handshake()
        yield ws


def tunnel(view_only: bool, messages: list[bytes], expected: bytes) -> tuple[FakeVnc, bytes]:
    """Send `messages` through a remote control session once handshaken; what the VNC server got."""
    vnc = FakeVnc()

    async def scenario():
        async with handshaken(vnc, view_only) as ws:
            for message in messages:
                await ws.send(message)
            await eventually(lambda: len(vnc.received) >= len(expected))
            await asyncio.sleep(0.05)  # anything that should have been dropped would be here by now
            await ws.close()
        return vnc, bytes(vnc.received)

    return run(scenario())


def test_the_tunnel_carries_the_rfb_stream_both_ways():
    everything = [SET_PIXEL_FORMAT, SET_ENCODINGS, UPDATE_REQUEST, KEY_DOWN_A, POINTER_CLICK, CUT_TEXT]
    vnc, received = tunnel(False, everything, b"".join(everything))
    assert bytes(vnc.handshake) == HANDSHAKE
    assert received == b"".join(everything)


def test_view_only_drops_keys_pointer_and_clipboard():
    sent = [SET_PIXEL_FORMAT, KEY_DOWN_A, SET_ENCODINGS, POINTER_CLICK, CUT_TEXT, UPDATE_REQUEST, KEY_DOWN_A]
    vnc, received = tunnel(True, sent, SET_PIXEL_FORMAT + SET_ENCODINGS + UPDATE_REQUEST)
    assert bytes(vnc.handshake) == HANDSHAKE
    assert received == SET_PIXEL_FORMAT + SET_ENCODINGS + UPDATE_REQUEST


def test_view_only_ends_the_session_on_a_message_it_cannot_measure():
    vnc = FakeVnc()

    async def scenario():
        async with handshaken(vnc, view_only=True) as ws:
            await ws.send(UPDATE_REQUEST)
            await eventually(lambda: vnc.received)
            await ws.send(b"\x7f\x00\x00\x00")
            await asyncio.wait_for(ws.wait_closed(), WAIT)
            return ws.close_code, ws.close_reason

    code, reason = run(scenario())
    assert code == 1008 and "cannot measure client message type 127" in reason
    assert bytes(vnc.received) == UPDATE_REQUEST


def test_the_vnc_port_is_the_agents_own_whatever_the_message_names():
    own, other = FakeVnc(), FakeVnc()

    async def scenario():
        own_server = await asyncio.start_server(own.handle, "127.0.0.1", 0)
        other_server = await asyncio.start_server(other.handle, "127.0.0.1", 0)
        own_port = own_server.sockets[0].getsockname()[1]
        other_port = other_server.sockets[0].getsockname()[1]
        crafted = open_message("remote_control", port=other_port, vnc_port=other_port, host="127.0.0.1",
                               target=f"127.0.0.1:{other_port}")
        async with own_server, other_server, serving(SessionOptions(vnc_port=own_port)) as (sessions, sockets):
            await sessions.open(crafted, ControlSide().send)
            ws = await sockets.next()
            await ready(ws)
            await Viewer(ws).handshake()
            await ws.close()

    run(scenario())
    assert (own.connections, other.connections) == (1, 0)


def test_the_server_closing_ends_the_session():
    async def close_at_once(reader, writer):
        writer.write(VERSION)
        await writer.drain()
        writer.close()

    async def scenario():
        server = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, serving(SessionOptions(vnc_port=port)) as (sessions, sockets):
            await sessions.open(open_message("remote_control"), ControlSide().send)
            ws = await sockets.next()
            await ready(ws)
            assert await Viewer(ws).read(12) == VERSION
            await asyncio.wait_for(ws.wait_closed(), WAIT)
            return ws.close_code, ws.close_reason

    assert run(scenario()) == (1000, "VNC server closed the connection")


# The view-only filter on its own.

def feed_all(chunks: list[bytes]) -> bytes:
    view_only = ViewOnlyFilter()
    return b"".join(view_only.feed(chunk) for chunk in chunks)


def test_filter_passes_the_handshake_and_picture_requests_whole_and_drops_input():
    stream = HANDSHAKE + SET_PIXEL_FORMAT + KEY_DOWN_A + SET_ENCODINGS + POINTER_CLICK + CUT_TEXT + UPDATE_REQUEST
    expected = HANDSHAKE + SET_PIXEL_FORMAT + SET_ENCODINGS + UPDATE_REQUEST
    assert feed_all([stream]) == expected
    # Byte by byte, the same: messages are measured across frames, and passed only whole.
    view_only = ViewOnlyFilter()
    passed = [view_only.feed(stream[i:i + 1]) for i in range(len(stream))]
    assert b"".join(passed) == expected
    assert all(chunk in (b"", VERSION, b"\x01", SET_PIXEL_FORMAT, SET_ENCODINGS, UPDATE_REQUEST) for chunk in passed)


def test_filter_drops_a_long_clipboard_across_frames_without_keeping_it():
    view_only = ViewOnlyFilter()
    assert view_only.feed(HANDSHAKE) == HANDSHAKE
    assert view_only.feed(struct.pack(">BxxxI", 6, 3_000_000) + b"x" * 1000) == b""
    for _ in range(2999):
        assert view_only.feed(b"k" * 1000) == b""
    assert len(view_only._waiting) == 0
    assert view_only.feed(UPDATE_REQUEST) == UPDATE_REQUEST


def test_filter_drops_an_extended_clipboard_message():
    extended = struct.pack(">Bxxxi", 6, -8) + b"\x10\x00\x00\x01" + b"\x00\x00\x00\x00"
    assert feed_all([HANDSHAKE, extended, UPDATE_REQUEST]) == HANDSHAKE + UPDATE_REQUEST


def test_filter_passes_vnc_authentication_and_fences_and_drops_machine_controls():
    fence = struct.pack(">BxxxIB", 248, 0x80000000, 3) + b"abc"
    continuous = struct.pack(">BBHHHH", 150, 1, 0, 0, 640, 480)
    xvp_reboot = bytes([250, 0, 1, 3])
    desktop_size = struct.pack(">BxHHBx", 251, 800, 600, 1) + b"\x00" * 16
    qemu_key = struct.pack(">BBHII", 255, 0, 1, 0x61, 0x1E)
    stream = (VERSION + b"\x02" + b"r" * 16 + b"\x00" + fence + xvp_reboot + desktop_size + qemu_key + continuous)
    assert feed_all([stream]) == VERSION + b"\x02" + b"r" * 16 + b"\x00" + fence + continuous


@pytest.mark.parametrize(("stream", "complaint"), [
    (b"RFB 003.003\n", "RFB 3.7 or later"),
    (b"HTTP/1.1 200\n", "not an RFB protocol version"),
    (VERSION + bytes([19]), "security type 19"),
    (HANDSHAKE + b"\x09", "client message type 9"),
    (HANDSHAKE + b"\xff\x01", "client message type 255"),
])
def test_filter_refuses_what_it_cannot_follow(stream, complaint):
    with pytest.raises(ViewOnlyViolation, match=complaint):
        feed_all([stream])


# The agent's own x11vnc (a stand-in here: a script answering as x11vnc would).

FAKE_X11VNC = """\
#!{python}
import json, os, socket, sys
arguments = sys.argv[1:]
with open({record!r}, "a") as record:
    record.write(json.dumps({{"pid": os.getpid(), "arguments": arguments}}) + "\\n")
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(arguments[arguments.index("-rfbport") + 1])))
listener.listen()
while True:
    connection, _ = listener.accept()
    connection.sendall(b"RFB 003.008\\n")
    connection.close()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="x11vnc is an X11 program")
def test_x11vnc_starts_once_for_the_sessions_that_need_it_and_stops_with_the_agent(tmp_path, monkeypatch):
    record = tmp_path / "x11vnc-runs"
    program = tmp_path / "bin" / "x11vnc"
    program.parent.mkdir()
    program.write_text(FAKE_X11VNC.format(python=sys.executable, record=str(record)))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{program.parent}{os.pathsep}{os.environ['PATH']}")

    async def scenario():
        async with serving(SessionOptions(x11vnc_display=":5")) as (sessions, sockets):
            for number in (1, 2):
                await sessions.open(open_message("remote_control", session=f"screen-{number}"), ControlSide().send)
                ws = await sockets.next()
                await ready(ws)
                assert await Viewer(ws).read(12) == VERSION
                await asyncio.wait_for(ws.wait_closed(), WAIT)
            runs = [json.loads(line) for line in record.read_text().splitlines()]
        return runs

    runs = run(scenario())
    assert len(runs) == 1
    arguments = runs[0]["arguments"]
    port = arguments[arguments.index("-rfbport") + 1]
    assert arguments == ["-display", ":5", "-rfbport", port, "-localhost", "-nopw", "-forever", "-shared",
                         "-noipv6", "-quiet"]
    if sys.platform.startswith("linux"):
        assert not Path(f"/proc/{runs[0]['pid']}").exists()  # stopped when the agent's sessions closed


def test_x11vnc_missing_makes_remote_control_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    control = ControlSide()

    async def scenario():
        async with serving(SessionOptions(x11vnc_display=":5")) as (sessions, sockets):
            await sessions.open(open_message("remote_control"), control.send)
            await eventually(lambda: control.sent)
            return len(sockets.opened)

    assert run(scenario()) == 0
    assert [(m["reason"], m["detail"]) for m in control.sent] == [("unavailable", "x11vnc is not installed")]


# The real thing, where the machine has it: x11vnc serving an Xvfb display.

@pytest.fixture
def xvfb_display():
    if not (shutil.which("x11vnc") and shutil.which("Xvfb")):
        pytest.skip("x11vnc and Xvfb are not installed (apt-get install x11vnc xvfb)")
    number = next(n for n in range(77, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WAIT
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Xvfb :{number} did not start")
            time.sleep(0.05)
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=WAIT)


def test_a_real_x11vnc_serves_the_display(xvfb_display):
    async def scenario():
        async with serving(SessionOptions(x11vnc_display=xvfb_display)) as (sessions, sockets):
            await sessions.open(open_message("remote_control", view_only=True), ControlSide().send)
            ws = await sockets.next()
            await ready(ws)
            viewer = Viewer(ws)
            assert await viewer.read(12) == VERSION
            await ws.send(VERSION)
            count = (await viewer.read(1))[0]
            assert 1 in await viewer.read(count)  # x11vnc -nopw offers "None"
            await ws.send(b"\x01")
            assert await viewer.read(4) == b"\x00\x00\x00\x00"
            await ws.send(b"\x01")
            width, height = struct.unpack(">HH", await viewer.read(4))
            await viewer.read(16)
            await viewer.read(struct.unpack(">I", await viewer.read(4))[0])
            # A key (dropped, view-only), then a request for the whole screen: its update comes.
            await ws.send(KEY_DOWN_A + struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
            assert (await viewer.read(1))[0] == 0  # FramebufferUpdate
            await ws.close()
            return width, height

    assert run(scenario()) == (800, 600)
