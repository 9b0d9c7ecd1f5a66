"""The agents' control connections (RA-4; docs/agent-protocol.md), served by Channels.

An agent authenticates with its device credential in the handshake's Authorization header; a
refused one gets no websocket (403). The connection joins its device's group, so a revocation
made on any node reaches it through the channel layer.

Heartbeats write nothing themselves: the devices heard from are noted, and the node records them
all in one UPDATE every few seconds (`services.seen_flush_seconds`), so a node's agents cost the
database one statement per interval, not one per message.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from portico.backups import services as backups
from portico.remote import services, sessions
from portico.remote.models import AgentCredential, EndReason

MAX_MESSAGE_BYTES = 64 * 1024
OUTBOX_SECONDS = 2.0
# What agents report about backups and restores (docs/agent-protocol.md), and who records it.
RUN_REPORTS = {
    "backup.progress": backups.progress,
    "backup.done": backups.backup_done,
    "backup.failed": backups.backup_failed,
    "restore.progress": backups.progress,
    "restore.done": backups.restore_done,
    "restore.failed": backups.restore_failed,
}
KNOWN_TYPES = ("heartbeat", "inventory", "session.refused", *RUN_REPORTS)
INVENTORY_FIELDS = ("hostname", "os_family", "os_version", "logged_in_user", "ip_addresses", "agent_version")


class _HeardFrom:
    """The devices of this node whose agents spoke since the last flush."""

    def __init__(self) -> None:
        self.pending: set[int] = set()
        self.task: asyncio.Task | None = None

    def note(self, device_id: int) -> None:
        self.pending.add(device_id)
        if self.task is None or self.task.done() or self.task.get_loop() is not asyncio.get_running_loop():
            self.task = asyncio.get_running_loop().create_task(self._flush_every_interval())

    def forget(self, device_id: int) -> None:
        self.pending.discard(device_id)

    async def _flush_every_interval(self) -> None:
        while self.pending:
            await asyncio.sleep(services.seen_flush_seconds())
            heard, self.pending = self.pending, set()
            if heard:
                await database_sync_to_async(services.heard_from)(heard)


HEARD_FROM = _HeardFrom()


class _Outbox:
    """The backups and restores waiting for the agents connected to this node. A run is offered
    at once through the channel layer; whatever did not reach its agent that way (a run started
    by a worker process without a shared channel layer, a lost message) is found here every
    OUTBOX_SECONDS by one query for the whole node."""

    def __init__(self) -> None:
        self.connected: dict[int, str] = {}
        self.task: asyncio.Task | None = None

    def add(self, device_id: int, channel_name: str) -> None:
        self.connected[device_id] = channel_name
        if self.task is None or self.task.done() or self.task.get_loop() is not asyncio.get_running_loop():
            self.task = asyncio.get_running_loop().create_task(self._offer_every_interval())

    def remove(self, device_id: int, channel_name: str) -> None:
        if self.connected.get(device_id) == channel_name:
            del self.connected[device_id]

    async def _offer_every_interval(self) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        while self.connected:
            await asyncio.sleep(OUTBOX_SECONDS)
            waiting = await database_sync_to_async(backups.undelivered)(set(self.connected))
            for run, device_id in waiting:
                if device_id in self.connected:
                    await layer.send(self.connected[device_id], {"type": "agent.command", "run": run})


OUTBOX = _Outbox()


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class AgentControlConsumer(AsyncWebsocketConsumer):
    credential: AgentCredential | None = None
    since: datetime | None = None

    async def connect(self) -> None:
        authorization = _header(self.scope, b"authorization")
        self.credential = await database_sync_to_async(services.authenticate)(authorization)
        if self.credential is None:
            await self.close()  # before accepting: the handshake is refused with 403
            return
        self.group = services.device_group(self.credential.device_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.since = await database_sync_to_async(services.connected)(self.credential)
        await self._send({
            "type": "welcome", "device_id": self.credential.device_id,
            "heartbeat_seconds": services.heartbeat_seconds(),
        })
        OUTBOX.add(self.credential.device_id, self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.credential is None:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        OUTBOX.remove(self.credential.device_id, self.channel_name)
        HEARD_FROM.forget(self.credential.device_id)  # a late flush must not bring it back online
        await database_sync_to_async(services.disconnected)(self.credential, self.since)
        await database_sync_to_async(backups.agent_disconnected)(self.credential.device_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = self._parsed(text_data, bytes_data)
        if message is None:
            await self.close(code=services.CLOSE_BAD_MESSAGE)
            return
        if message["type"] == "heartbeat":
            HEARD_FROM.note(self.credential.device_id)
        elif message["type"] == "session.refused":
            await self._session_refused(message)
        elif message["type"] in RUN_REPORTS:
            HEARD_FROM.note(self.credential.device_id)
            await database_sync_to_async(RUN_REPORTS[message["type"]])(self.credential, message)
        elif message["type"] == "inventory":
            inventory = services.Inventory(**{
                name: message[name] for name in INVENTORY_FIELDS if name in message
            })
            await database_sync_to_async(services.record_inventory)(self.credential, inventory)

    @staticmethod
    def _parsed(text_data: str | None, bytes_data: bytes | None) -> dict | None:
        """The message if it is one the protocol knows, well formed; None otherwise."""
        if text_data is None or len(text_data.encode()) > MAX_MESSAGE_BYTES:
            return None
        try:
            message = json.loads(text_data)
        except ValueError:
            return None
        if not isinstance(message, dict) or message.get("type") not in KNOWN_TYPES:
            return None
        if message["type"] in RUN_REPORTS and not _valid_job(message.get("job")):
            return None
        if message["type"] == "inventory" and not _valid_inventory(message):
            return None
        if message["type"] == "session.refused" and not _valid_refusal(message):
            return None
        return message

    async def _session_refused(self, message: dict) -> None:
        """The device refused a session: its browser hears why, and the end is recorded."""
        session = await database_sync_to_async(sessions.agent_refused)(
            int(message["session"]), self.credential, message["reason"], message.get("detail", "")
        )
        if session is not None and session.browser_channel:
            refusal = message["reason"] if message["reason"] in sessions.AGENT_REFUSALS else "not_allowed"
            await self.channel_layer.send(
                session.browser_channel, {"type": "relay.closed", "reason": EndReason.REFUSED, "refusal": refusal}
            )

    async def session_open(self, event: dict) -> None:
        """A browser asked for a session on this device: the agent hears what it may be."""
        await self._send(event)

    async def agent_command(self, event: dict) -> None:
        """A backup or restore waits for this device (portico.backups.services): the agent gets
        it, once, however many times it was offered."""
        instruction = await database_sync_to_async(backups.instruction_for)(int(event["run"]), self.credential.device_id)
        if instruction is not None:
            await self._send(instruction)

    async def credential_revoked(self, event: dict) -> None:
        await self.close(code=services.CLOSE_REVOKED)

    async def _send(self, message: dict) -> None:
        await self.send(text_data=json.dumps(message))


def _valid_job(job: object) -> bool:
    return isinstance(job, str) and job.isdigit() and len(job) <= 18


def _valid_refusal(message: dict) -> bool:
    session, reason, detail = message.get("session"), message.get("reason"), message.get("detail", "")
    return isinstance(session, str) and session.isdigit() and len(session) <= 18 and isinstance(reason, str) and isinstance(detail, str)


def _valid_inventory(message: dict) -> bool:
    for name in ("hostname", "os_family", "os_version", "agent_version"):
        if not isinstance(message.get(name, ""), str):
            return False
    user = message.get("logged_in_user")
    addresses = message.get("ip_addresses", [])
    return (user is None or isinstance(user, str)) and isinstance(addresses, list) and all(
        isinstance(address, str) for address in addresses
    )
