"""The control loop against a real websockets server on loopback, playing the Portico side."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from own_loop import run
from websockets.asyncio.server import ServerConnection

from portico_agent.connection import Backoff, ControlConnection, CredentialRefused
from portico_agent.state import AgentState

CREDENTIAL = "s3cret-credential-value"
INVENTORY = {"type": "inventory", "hostname": "ws-01", "os_family": "linux", "os_version": "Debian 12",
             "logged_in_user": "alice", "ip_addresses": ["192.0.2.10"], "agent_version": "0.1.0"}
WAIT = 5  # seconds; a bound on a hung test, never a pause


class UnitJitter:
    """A random source whose every factor is 1, so waits are exactly the backoff's base."""

    def uniform(self, low: float, high: float) -> float:
        return 1.0


def agent(server_url: str, probe=lambda: dict(INVENTORY), backoff: Backoff | None = None, **kwargs) -> ControlConnection:
    state = AgentState(server=server_url, device_id=42, credential=CREDENTIAL, **kwargs)
    return ControlConnection(state, probe=probe, backoff=backoff or Backoff(0.01, 0.05, 60), open_timeout=WAIT)


async def welcome(ws: ServerConnection, heartbeat_seconds: float = 0.05) -> None:
    await ws.send(json.dumps({"type": "welcome", "device_id": 42, "heartbeat_seconds": heartbeat_seconds}))


async def receive(ws: ServerConnection) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


def test_welcome_inventory_then_a_heartbeat_every_interval(control_server):
    received, headers = [], []

    async def handler(ws):
        headers.append(ws.request.headers.get("Authorization"))
        await welcome(ws)
        for _ in range(4):
            message = await receive(ws)
            received.append((time.monotonic(), message))
        await ws.close(1000)

    async def scenario():
        async with control_server(handler) as url:
            return await asyncio.wait_for(agent(url).connect_once(), WAIT)

    assert run(scenario()) == 1000
    assert headers == [f"Bearer 42.{CREDENTIAL}"]
    messages = [message for _, message in received]
    assert messages == [INVENTORY, {"type": "heartbeat"}, {"type": "heartbeat"}, {"type": "heartbeat"}]
    # Three heartbeats 0.05 s apart after the inventory: paced by the welcome's interval, not sent in a burst.
    assert received[-1][0] - received[0][0] >= 3 * 0.05 * 0.9


def test_inventory_sent_again_only_when_it_changes(control_server):
    current = dict(INVENTORY)
    after_change = []

    async def handler(ws):
        await welcome(ws)
        assert await receive(ws) == INVENTORY
        # Unchanged: the heartbeats come alone.
        for _ in range(3):
            assert await receive(ws) == {"type": "heartbeat"}
        current["logged_in_user"] = "bob"
        while not after_change or after_change[-1]["type"] != "inventory":
            after_change.append(await receive(ws))
        after_change.append(await receive(ws))
        await ws.close(1000)

    async def scenario():
        async with control_server(handler) as url:
            return await asyncio.wait_for(agent(url, probe=lambda: dict(current)).connect_once(), WAIT)

    assert run(scenario()) == 1000
    assert after_change[-2] == {**INVENTORY, "logged_in_user": "bob"}
    assert after_change[-1] == {"type": "heartbeat"}
    assert len(after_change) <= 4  # the change was noticed at the next heartbeat or so


def test_close_4401_stops_the_loop(control_server):
    connections = []

    async def handler(ws):
        connections.append(ws)
        await welcome(ws)
        await receive(ws)
        await ws.close(4401, "credential revoked")

    async def scenario():
        async with control_server(handler) as url:
            with pytest.raises(CredentialRefused, match="credential refused: enrol again"):
                await asyncio.wait_for(agent(url).run(), WAIT)
            await asyncio.sleep(0.05)  # ten times the first backoff: a redial would have shown up

    run(scenario())
    assert len(connections) == 1


def test_http_403_at_handshake_stops_the_loop(control_server):
    attempts = []

    def refuse(connection, request):
        attempts.append(request.headers.get("Authorization"))
        return connection.respond(403, "Forbidden\n")

    async def scenario():
        async with control_server(lambda ws: ws.close(), process_request=refuse) as url:
            with pytest.raises(CredentialRefused, match="HTTP 403"):
                await asyncio.wait_for(agent(url).run(), WAIT)

    run(scenario())
    assert attempts == [f"Bearer 42.{CREDENTIAL}"]


def test_close_1011_is_redialled_after_a_backoff(control_server):
    events = []

    async def handler(ws):
        events.append(("open", time.monotonic()))
        await welcome(ws)
        await receive(ws)
        if len(events) == 1:
            events.append(("closed", time.monotonic()))
            await ws.close(1011, "server error")
        else:
            await ws.close(4401)

    async def scenario():
        async with control_server(handler) as url:
            with pytest.raises(CredentialRefused):
                await asyncio.wait_for(agent(url, backoff=Backoff(0.2, 1, 60, rng=UnitJitter())).run(), WAIT)

    run(scenario())
    assert [kind for kind, _ in events] == ["open", "closed", "open"]
    assert events[2][1] - events[1][1] >= 0.2 * 0.95


class RecordedBackoff(Backoff):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.waits: list[float] = []

    def next_delay(self) -> float:
        self.waits.append(super().next_delay())
        return self.waits[-1]


def test_a_connection_that_lasted_resets_the_backoff(control_server):
    backoff = RecordedBackoff(0.01, 1, reset_after=0.2, rng=UnitJitter())
    hold = {1: 0, 2: 0, 3: 0.25}  # the third connection outlasts reset_after

    async def handler(ws):
        number = len(backoff.waits) + 1
        await welcome(ws, heartbeat_seconds=10)
        await receive(ws)
        if number in hold:
            await asyncio.sleep(hold[number])
            await ws.close(1011)
        else:
            await ws.close(4401)

    async def scenario():
        async with control_server(handler) as url:
            with pytest.raises(CredentialRefused):
                await asyncio.wait_for(agent(url, backoff=backoff).run(), WAIT)

    run(scenario())
    assert backoff.waits == [0.01, 0.02, 0.01]


def test_unknown_messages_and_bad_json_are_ignored(control_server, caplog):
    caplog.set_level(logging.INFO, logger="portico_agent")
    after = []

    async def handler(ws):
        await welcome(ws)
        await receive(ws)
        await ws.send(json.dumps({"type": "session.open", "session_id": 7}))
        await ws.send("not json {")
        await ws.send(json.dumps(["not", "an", "object"]))
        after.append(await receive(ws))
        await ws.close(1000)

    async def scenario():
        async with control_server(handler) as url:
            return await asyncio.wait_for(agent(url).connect_once(), WAIT)

    assert run(scenario()) == 1000
    assert after == [{"type": "heartbeat"}]
    assert "unknown type 'session.open'" in caplog.text
    assert "not JSON" in caplog.text


def test_a_registered_handler_receives_its_message_type_and_can_answer(control_server):
    seen, answers = [], []

    async def handler(ws):
        await welcome(ws, heartbeat_seconds=10)
        await receive(ws)
        await ws.send(json.dumps({"type": "session.open", "session_id": 7}))
        answers.append(await receive(ws))
        await ws.close(1000)

    async def on_session_open(message, send):
        seen.append(message)
        await send({"type": "session.refused", "session": 7})

    async def scenario():
        async with control_server(handler) as url:
            connection = agent(url)
            connection.handlers["session.open"] = on_session_open
            return await asyncio.wait_for(connection.connect_once(), WAIT)

    assert run(scenario()) == 1000
    assert seen == [{"type": "session.open", "session_id": 7}]
    assert answers == [{"type": "session.refused", "session": 7}]


def test_the_credential_never_reaches_the_log(control_server, caplog):
    caplog.set_level(logging.DEBUG)

    async def handler(ws):
        await welcome(ws)
        await receive(ws)
        await ws.close(4401)

    async def scenario():
        async with control_server(handler) as url:
            with pytest.raises(CredentialRefused):
                await asyncio.wait_for(agent(url).run(), WAIT)

    run(scenario())
    # The test's own server logs what it received; only what the agent logs counts.
    agent_log = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server"))
    assert "connected to" in agent_log
    assert CREDENTIAL not in agent_log


def test_no_server_listening_is_retried_not_fatal():
    async def scenario():
        connection = agent("http://127.0.0.1:9", backoff=Backoff(0.01, 0.01, 60))
        task = asyncio.ensure_future(connection.run())
        await asyncio.sleep(0.1)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario())
