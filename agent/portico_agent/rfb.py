"""Just enough of the RFB (VNC) protocol's client-to-server stream to make a session view-only:
the handshake and the messages that ask for pictures pass, keys, pointer and clipboard are
dropped, and anything the filter cannot measure ends the session rather than slip through
(RFC 6143, sections 7.1 to 7.5)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Optional

# A stage looks at the bytes waiting and answers (length, keep) for the next whole message, or
# None while it cannot tell yet. A dropped message may be longer than what has arrived so far.
Step = Optional[tuple[int, bool]]

SECURITY_NONE = 1
SECURITY_VNC_AUTH = 2
VNC_AUTH_RESPONSE_LENGTH = 16

# Messages a viewer needs, by type: their fixed length, or how to measure them.
SET_PIXEL_FORMAT, SET_ENCODINGS, FRAMEBUFFER_UPDATE_REQUEST = 0, 2, 3
KEY_EVENT, POINTER_EVENT, CLIENT_CUT_TEXT = 4, 5, 6
ENABLE_CONTINUOUS_UPDATES, CLIENT_FENCE = 150, 248
XVP, SET_DESKTOP_SIZE, QEMU = 250, 251, 255
QEMU_EXTENDED_KEY_EVENT = 0


class ViewOnlyViolation(Exception):
    """The viewer sent something the filter cannot pass safely; the session must end."""


class ViewOnlyFilter:
    """Feed it the viewer's bytes as they come; it returns the bytes the VNC server may see."""

    def __init__(self) -> None:
        self._waiting = bytearray()
        self._dropping = 0  # bytes of a dropped message still to come
        self._stage: Callable[[bytearray], Step] = self._protocol_version

    def feed(self, data: bytes) -> bytes:
        self._waiting += data
        passed = bytearray()
        while True:
            if self._dropping:
                count = min(self._dropping, len(self._waiting))
                del self._waiting[:count]
                self._dropping -= count
                if self._dropping:
                    break
            if not self._waiting:
                break
            step = self._stage(self._waiting)
            if step is None:
                break
            length, keep = step
            if keep:
                passed += self._waiting[:length]
            elif length > len(self._waiting):
                self._dropping = length - len(self._waiting)
            del self._waiting[:length]
        return bytes(passed)

    def _protocol_version(self, waiting: bytearray) -> Step:
        if len(waiting) < 12:
            return None
        version = bytes(waiting[:12])
        if not (version.startswith(b"RFB 003.") and version.endswith(b"\n") and version[8:11].isdigit()):
            raise ViewOnlyViolation(f"not an RFB protocol version: {version!r}")
        if int(version[8:11]) < 7:
            # In 3.3 the server alone picks the security type, so the filter could not tell an
            # authentication answer from the messages after it.
            raise ViewOnlyViolation("view-only needs RFB 3.7 or later")
        self._stage = self._security_type
        return 12, True

    def _security_type(self, waiting: bytearray) -> Step:
        if waiting[0] == SECURITY_NONE:
            self._stage = self._client_init
        elif waiting[0] == SECURITY_VNC_AUTH:
            self._stage = self._vnc_auth_response
        else:
            raise ViewOnlyViolation(f"view-only cannot follow security type {waiting[0]}")
        return 1, True

    def _vnc_auth_response(self, waiting: bytearray) -> Step:
        self._stage = self._client_init
        return VNC_AUTH_RESPONSE_LENGTH, True

    def _client_init(self, waiting: bytearray) -> Step:
        self._stage = self._message
        return 1, True

    def _message(self, waiting: bytearray) -> Step:
        kind = waiting[0]
        if kind == SET_PIXEL_FORMAT:
            return _whole(waiting, 20)
        if kind == SET_ENCODINGS:
            return _whole(waiting, 4 + 4 * _u16(waiting, 2)) if len(waiting) >= 4 else None
        if kind == FRAMEBUFFER_UPDATE_REQUEST:
            return _whole(waiting, 10)
        if kind == ENABLE_CONTINUOUS_UPDATES:
            return _whole(waiting, 10)
        if kind == CLIENT_FENCE:
            return _whole(waiting, 9 + waiting[8]) if len(waiting) >= 9 else None
        if kind == KEY_EVENT:
            return 8, False
        if kind == POINTER_EVENT:
            return 6, False
        if kind == CLIENT_CUT_TEXT:
            if len(waiting) < 8:
                return None
            # Negative lengths are the extended clipboard's; either way this many bytes follow.
            (length,) = struct.unpack_from(">i", waiting, 4)
            return 8 + abs(length), False
        if kind == XVP:  # shut down, reboot or reset the machine
            return 4, False
        if kind == SET_DESKTOP_SIZE:
            return (8 + 16 * waiting[6], False) if len(waiting) >= 8 else None
        if kind == QEMU:
            if len(waiting) < 2:
                return None
            if waiting[1] == QEMU_EXTENDED_KEY_EVENT:
                return 12, False
        raise ViewOnlyViolation(f"view-only cannot measure client message type {kind}")


def _whole(waiting: bytearray, length: int) -> Step:
    """A message to pass is passed whole, once all of it has arrived."""
    return (length, True) if len(waiting) >= length else None


def _u16(data: bytearray, offset: int) -> int:
    return struct.unpack_from(">H", data, offset)[0]
