"""The relay of remote sessions (docs/agent-protocol.md "Sessions"): the browser's socket and the
agent's socket of one session, joined through the channel layer, so the two may be held by
different web nodes.

Flow control: each socket's consumer handles one message at a time. When the other side's queue
is full, the sender waits (and so stops reading its own socket, which pushes back on whoever
writes to it) for up to `REMOTE_FULL_QUEUE_SECONDS` (10 s); a browser that never reads ends its session
as `not_reading` rather than filling the server's memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from portico.api.authentication import usable_token
from portico.identity.middleware import SESSION_MEMBERSHIP
from portico.remote import services, sessions
from portico.remote.consumers import MAX_MESSAGE_BYTES, _header
from portico.remote.models import EndReason

log = logging.getLogger(__name__)

MAX_DIMENSION = 1000


class _Relay(AsyncWebsocketConsumer):
    """What both ends share: a session, the other end's channel, bytes counted, one end."""

    session_id: int | None = None
    peer: str = ""
    ended = False
    bytes_to_device = 0
    bytes_from_device = 0

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except OSError:
            pass  # the socket is gone; its disconnect ends the session

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        try:
            await super().close(code=code, reason=reason)
        except OSError:
            pass

    async def _pass(self, message: dict) -> bool:
        """Hand `message` to the other end, waiting while its queue is full; False if it never drained."""
        deadline = time.monotonic() + getattr(settings, "REMOTE_FULL_QUEUE_SECONDS", 10)
        delay = 0.001
        while True:
            try:
                await self.channel_layer.send(self.peer, message)
                return True
            except ChannelFull:
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.1)

    async def _end(self, reason: str, *, code: int = 1000, detail: str = "", tell_peer: bool = True) -> None:
        """End the session once: record it, tell the other end, close this socket."""
        if self.ended:
            return
        await self._record_end(reason, detail)
        if tell_peer and self.peer:
            try:
                await self.channel_layer.send(self.peer, {"type": "relay.closed", "reason": reason})
            except ChannelFull:
                pass  # the other end stopped reading: its own checks end it
        await self._closing(reason)
        await self.close(code=code)

    async def _record_end(self, reason: str, detail: str = "") -> None:
        """This end is done: the session's end is recorded (once, by whichever end comes first) with
        the bytes this end counted."""
        self.ended = True
        if self.session_id is not None:
            await database_sync_to_async(sessions.end_session)(
                self.session_id, reason, bytes_to_device=self.bytes_to_device,
                bytes_from_device=self.bytes_from_device, detail=detail,
            )

    async def _closing(self, reason: str) -> None:
        """Last words to this end before its socket closes."""


class BrowserSessionConsumer(_Relay):
    """The browser's end: `/remote/v1/sessions/<token>`, signed in with its session cookie."""

    watchdog: asyncio.Task | None = None
    ready = False

    async def connect(self) -> None:
        await self.accept()  # accepted first, so a refusal reaches the page with its close code
        token = self.scope["url_route"]["kwargs"]["token"]
        membership_id, user_id = await database_sync_to_async(_signed_in)(self.scope)
        opening = await database_sync_to_async(sessions.open_session)(token, membership_id, user_id, self.channel_name)
        if opening.session is None:
            self.ended = True
            await self._send_json({"type": "ended", "reason": opening.reason})
            await self.close(code=opening.close_code)
            return
        self.session_id = opening.session.pk
        self.device_id = opening.session.device_id
        self.consent = opening.instruction["consent"]
        await self._send_json({"type": "status", "state": "waiting"})
        await self.channel_layer.group_send(services.device_group(self.device_id), opening.instruction)
        self.watchdog = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        """Until the session ends: no agent in time, or the right gone, ends it."""
        started = time.monotonic()
        while not self.ended:
            await asyncio.sleep(sessions.recheck_seconds())
            if not self.ready and time.monotonic() - started > sessions.agent_wait_seconds(self.consent):
                await self._end(EndReason.AGENT_TIMEOUT, code=sessions.CLOSE_AGENT_TIMEOUT)
                return
            try:
                ending = await database_sync_to_async(sessions.why_it_must_end)(self.session_id)
            except Exception:  # the database did not answer: ask again in a second
                log.exception("checking remote session %s", self.session_id)
                continue
            if ending == EndReason.ACCESS_REMOVED:
                await self._end(ending, code=sessions.CLOSE_ACCESS_REMOVED)
                return
            if ending:  # ended by the other end, whose word did not reach this one
                await self._end(ending, tell_peer=False)
                return

    async def disconnect(self, code: int) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.session_id is not None and not self.ended:
            await self._end(EndReason.CLOSED_BY_USER)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.ended:
            return
        if bytes_data is not None:
            if len(bytes_data) > MAX_MESSAGE_BYTES:
                await self._end(EndReason.MALFORMED, code=sessions.CLOSE_MALFORMED, detail="frame too large")
                return
            if not self.ready:
                return  # nothing reaches the device before it is ready
            self.bytes_to_device += len(bytes_data)
            if not await self._pass({"type": "relay.data", "bytes": bytes_data}):
                await self._end(EndReason.AGENT_DISCONNECTED, detail="the device stopped reading")
            return
        resize = _resize(text_data)
        if resize is None:
            await self._end(EndReason.MALFORMED, code=sessions.CLOSE_MALFORMED, detail="not a resize")
            return
        if self.ready:
            await self._pass({"type": "relay.text", "text": resize})

    async def relay_ready(self, event: dict) -> None:
        self.peer, self.ready = event["channel"], True
        await self._send_json({"type": "status", "state": "ready", "consent": event.get("consent", "")})

    async def relay_data(self, event: dict) -> None:
        self.bytes_from_device += len(event["bytes"])
        await self.send(bytes_data=event["bytes"])

    async def relay_closed(self, event: dict) -> None:
        await self._record_end(event["reason"])  # the other end recorded it: this adds our bytes
        ended = {"type": "ended", "reason": event["reason"]}
        if event.get("refusal"):
            ended["refusal"] = event["refusal"]
        await self._send_json(ended)
        code = sessions.CLOSE_REFUSED if event["reason"] == EndReason.REFUSED else 1000
        await self.close(code=code)

    async def _closing(self, reason: str) -> None:
        await self._send_json({"type": "ended", "reason": reason})

    async def _send_json(self, message: dict) -> None:
        await self.send(text_data=json.dumps(message))


def _signed_in(scope: dict) -> tuple[int | None, int | None]:
    """The membership and person of the browser's signed-in session, or of an API client's
    `Authorization: Bearer <API token>`; (None, None) for anyone else."""
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return scope["session"].get(SESSION_MEMBERSHIP), user.pk
    scheme, _space, key = _header(scope, b"authorization").partition(" ")
    if scheme != "Bearer" or not key:
        return None, None
    token = usable_token(key.strip())
    return (token.membership_id, token.membership.person_id) if token is not None else (None, None)


def _small_object(text: str | None) -> dict:
    """The JSON object of a short text frame; empty for anything else."""
    if text is None or len(text) > 200:
        return {}
    try:
        message = json.loads(text)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _resize(text: str | None) -> str | None:
    """The browser's one text frame, `{"type": "resize", "cols": C, "rows": R}`, re-encoded; None otherwise."""
    message = _small_object(text)
    if set(message) != {"type", "cols", "rows"} or message["type"] != "resize":
        return None
    cols, rows = message["cols"], message["rows"]
    for value in (cols, rows):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DIMENSION:
            return None
    return json.dumps({"type": "resize", "cols": cols, "rows": rows})


class AgentSessionConsumer(_Relay):
    """The agent's end: `/agent/v1/sessions/<id>`, with the device's credential."""

    ready = False

    async def connect(self) -> None:
        credential = await database_sync_to_async(services.authenticate)(_header(self.scope, b"authorization"))
        if credential is None:
            await self.close()  # 403
            return
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        session = await database_sync_to_async(sessions.agent_joins)(session_id, credential, self.channel_name)
        if session is None:
            await self.close()  # 403: not this device's session, or not waiting for it
            return
        self.session_id, self.peer = session.pk, session.browser_channel
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.session_id is not None and not self.ended:
            reason = EndReason.CLOSED_BY_DEVICE if code == 1000 else EndReason.AGENT_DISCONNECTED
            await self._end(reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.ended:
            return
        if bytes_data is not None and self.ready:
            self.bytes_from_device += len(bytes_data)
            if not await self._pass({"type": "relay.data", "bytes": bytes_data}):
                await self._end(EndReason.NOT_READING)
            return
        consent = _ready(text_data) if not self.ready else None
        if consent is None:
            await self._end(EndReason.AGENT_DISCONNECTED, code=services.CLOSE_BAD_MESSAGE, detail="unexpected frame")
            return
        if await database_sync_to_async(sessions.agent_ready)(self.session_id, consent) is None:
            await self._end(EndReason.AGENT_DISCONNECTED, detail="session no longer waiting")
            return
        self.ready = True
        await self._pass({"type": "relay.ready", "channel": self.channel_name, "consent": consent})

    async def relay_data(self, event: dict) -> None:
        self.bytes_to_device += len(event["bytes"])
        await self.send(bytes_data=event["bytes"])

    async def relay_text(self, event: dict) -> None:
        await self.send(text_data=event["text"])

    async def relay_closed(self, event: dict) -> None:
        await self._record_end(event["reason"])
        await self.close(code=1000)


def _ready(text: str | None) -> str | None:
    """The consent named by the agent's `{"type": "ready", "consent": ...}` frame; None for anything else."""
    message = _small_object(text)
    if message.get("type") != "ready":
        return None
    consent = message.get("consent")
    return consent if consent in ("not_asked", "notified", "granted") else "not_asked"
