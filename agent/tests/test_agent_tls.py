"""TLS: the agent verifies the server's certificate, against the pinned CA when the state has one."""

from __future__ import annotations

import asyncio
import json
import ssl

import pytest
from own_loop import run

from portico_agent.connection import Backoff, ControlConnection
from portico_agent.state import AgentState

WAIT = 5


async def greet_and_close(ws):
    await ws.send(json.dumps({"type": "welcome", "device_id": 42, "heartbeat_seconds": 10}))
    assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "inventory"
    await ws.close(1000)


def connect(server_url: str, ca_file: str | None) -> ControlConnection:
    state = AgentState(server=server_url, device_id=42, credential="c", ca_file=ca_file)
    return ControlConnection(state, probe=lambda: {"type": "inventory"}, backoff=Backoff(0.01), open_timeout=WAIT)


def test_wss_with_the_pinned_ca_connects(control_server, tls_files):
    async def scenario():
        async with control_server(greet_and_close, ssl_context=tls_files.server_context()) as url:
            assert url.startswith("https://")
            return await asyncio.wait_for(connect(url, str(tls_files.ca_file)).connect_once(), WAIT)

    assert run(scenario()) == 1000


def test_wss_without_the_pinned_ca_fails_verification(control_server, tls_files):
    async def scenario():
        async with control_server(greet_and_close, ssl_context=tls_files.server_context()) as url:
            with pytest.raises(ssl.SSLCertVerificationError):
                await asyncio.wait_for(connect(url, None).connect_once(), WAIT)

    run(scenario())


def test_wss_pinned_to_another_ca_fails_verification(control_server, tls_files, other_tls_files):
    other_ca = other_tls_files.ca_file

    async def scenario():
        async with control_server(greet_and_close, ssl_context=tls_files.server_context()) as url:
            with pytest.raises(ssl.SSLCertVerificationError):
                await asyncio.wait_for(connect(url, str(other_ca)).connect_once(), WAIT)

    run(scenario())
