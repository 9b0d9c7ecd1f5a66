"""The agents' control connection (RA-4; docs/agent-protocol.md): Portico's ASGI application
served by uvicorn, and a websocket client speaking the protocol as the agent does."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from portico.devices.models import Device
from portico.remote import services
from portico.remote.tests.support import run

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/agent/v1/control"
SERVER: list[str] = []  # the running server's ws:// address, for `agent`


@pytest.fixture(autouse=True)
def server(asgi_server):
    SERVER[:] = [asgi_server.ws_url]
    yield asgi_server


@pytest.fixture
def enrolled(admin, org_a):
    """A device enrolled with a token of org_a, and its agent's Authorization header."""
    _token, raw = services.create_enrolment_token(admin, org_a)
    device, secret = services.enrol(services.Enrolment(raw, "pc-0417", "linux"))
    return device, f"Bearer {device.pk}.{secret}"


def agent(header: str):
    return connect(SERVER[0] + PATH, additional_headers={"Authorization": header} if header else {})


async def welcomed(header: str) -> ClientConnection:
    connection = await agent(header)
    assert json.loads(await connection.recv())["type"] == "welcome"
    return connection


async def closing_code(connection: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(connection.recv(), timeout=2)
    return closed.value.rcvd.code


async def eventually(check, timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time"
        await asyncio.sleep(0.02)


async def _device(pk: int) -> Device:
    return await database_sync_to_async(Device.objects.get)(pk=pk)


async def _offline(pk: int) -> bool:
    return not (await _device(pk)).online


def test_ra4_the_agent_is_welcomed_and_its_device_comes_online(enrolled):
    device, header = enrolled

    async def scenario():
        connection = await agent(header)
        welcome = json.loads(await connection.recv())
        assert welcome == {"type": "welcome", "device_id": device.pk, "heartbeat_seconds": 30}
        assert (await _device(device.pk)).online
        await connection.close()

        await eventually(lambda: _offline(device.pk))

    run(scenario)


def test_ra4_inventory_and_heartbeats_update_the_device(enrolled):
    device, header = enrolled

    async def scenario():
        connection = await welcomed(header)
        await connection.send(json.dumps({
            "type": "inventory", "hostname": "pc-0417", "os_family": "linux", "os_version": "Debian 12.8",
            "logged_in_user": "alice", "ip_addresses": ["192.0.2.10", "fe80::1%eth0", "not an address"],
            "agent_version": "0.1.0",
        }))
        await connection.send(json.dumps({"type": "heartbeat"}))

        async def recorded():
            return (await _device(device.pk)).last_user == "alice"

        await eventually(recorded)
        seen = await _device(device.pk)
        assert (seen.os_version, seen.last_user, seen.ip_address) == ("Debian 12.8", "alice", "192.0.2.10")
        assert seen.name == "pc-0417" and seen.online and seen.last_seen_at is not None
        credential = await database_sync_to_async(lambda: type(seen).objects.get(pk=seen.pk).agent_credential)()
        assert credential.ip_addresses == ["192.0.2.10", "fe80::1"] and credential.agent_version == "0.1.0"
        await connection.close()

    run(scenario)


def test_ra4_heartbeats_are_recorded_together_and_never_revive_a_closed_connection(enrolled, settings):
    settings.AGENT_SEEN_FLUSH_SECONDS = 0.2
    device, header = enrolled

    async def scenario():
        connection = await welcomed(header)
        connected_at = (await _device(device.pk)).last_seen_at
        await asyncio.sleep(0.05)
        await connection.send(json.dumps({"type": "heartbeat"}))

        async def seen_again():
            return (await _device(device.pk)).last_seen_at > connected_at

        await eventually(seen_again)
        await connection.send(json.dumps({"type": "heartbeat"}))
        await connection.close()  # before the next flush
        await eventually(lambda: _offline(device.pk))
        await asyncio.sleep(0.5)  # past the flush
        assert await _offline(device.pk)

    run(scenario)


@pytest.mark.parametrize("header", ["", "Bearer 1.nope", "Basic abc"])
def test_ra4_a_refused_credential_gets_no_connection(enrolled, header):
    device, _good = enrolled

    async def scenario():
        with pytest.raises(InvalidStatus) as refused:
            await agent(header)
        assert refused.value.response.status_code == 403
        assert not (await _device(device.pk)).online

    run(scenario)


@pytest.mark.parametrize(
    "message",
    [json.dumps({"type": "shell", "command": "id"}), "not json", json.dumps(["heartbeat"]),
     json.dumps({"type": "heartbeat", "pad": "x" * 70_000}),
     json.dumps({"type": "inventory", "ip_addresses": "192.0.2.1"}),
     json.dumps({"type": "inventory", "hostname": 5}), b"\x00binary"],
)
def test_ra4_an_unknown_malformed_or_oversized_message_closes_the_connection(enrolled, message):
    _device_row, header = enrolled

    async def scenario():
        connection = await welcomed(header)
        await connection.send(message)
        assert await closing_code(connection) == services.CLOSE_BAD_MESSAGE

    run(scenario)


def test_ra4_revoking_the_credential_closes_the_live_connection(enrolled, admin):
    device, header = enrolled

    async def scenario():
        connection = await welcomed(header)
        await database_sync_to_async(services.revoke_credential)(admin, device)
        assert await closing_code(connection) == services.CLOSE_REVOKED
        with pytest.raises(InvalidStatus):
            await agent(header)

    run(scenario)


def test_ra4_deleting_the_device_closes_its_agents_connection(enrolled, admin):
    from portico.devices.services import delete_device

    device, header = enrolled

    async def scenario():
        connection = await welcomed(header)
        await database_sync_to_async(delete_device)(admin, device)
        assert await closing_code(connection) == services.CLOSE_REVOKED
        with pytest.raises(InvalidStatus):
            await agent(header)

    run(scenario)


def test_ra4_an_old_connection_closing_late_leaves_the_new_one_online(enrolled):
    device, header = enrolled

    async def scenario():
        old = await welcomed(header)
        await asyncio.sleep(0.01)
        new = await welcomed(header)
        await old.close()
        await asyncio.sleep(0.3)
        assert (await _device(device.pk)).online
        await new.close()

        await eventually(lambda: _offline(device.pk))

    run(scenario)


def test_a_device_whose_agent_went_quiet_goes_offline(enrolled):
    from datetime import timedelta

    from django.utils import timezone

    device, _header = enrolled
    Device.objects.filter(pk=device.pk).update(online=True, last_seen_at=timezone.now() - timedelta(seconds=91))
    fresh = Device.objects.create(
        partner_id=device.partner_id, organization_id=device.organization_id, name="fresh", os_family="linux",
        online=True, last_seen_at=timezone.now(),
    )
    assert services.mark_silent_devices_offline() == 1
    assert not Device.objects.get(pk=device.pk).online and Device.objects.get(pk=fresh.pk).online
