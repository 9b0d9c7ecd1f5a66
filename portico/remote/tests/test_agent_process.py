"""A real agent process (the `portico-agent` package, run as its console command runs it) against
Portico served by uvicorn: enrol, come online with its inventory, heartbeat, and stop for good
when its credential is revoked (RA-4; docs/agent-protocol.md)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from portico.devices.models import Device
from portico.remote import services
from portico.remote.models import AgentCredential

pytestmark = pytest.mark.django_db(transaction=True)


def _agent(*args: str, state, **popen) -> list[str]:
    return [sys.executable, "-m", "portico_agent", *args, "--state", str(state)]


def _until(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def test_ra4_a_real_agent_enrols_comes_online_heartbeats_and_stops_when_revoked(
    asgi_server, admin, org_a, settings, tmp_path
):
    settings.AGENT_HEARTBEAT_SECONDS = 0.2
    settings.AGENT_SEEN_FLUSH_SECONDS = 0.1
    _token, raw = services.create_enrolment_token(admin, org_a)
    state = tmp_path / "state.json"
    enrolled = subprocess.run(
        _agent("enrol", "--server", asgi_server.url, "--token", raw, state=state),
        capture_output=True, text=True, timeout=30,
    )
    assert enrolled.returncode == 0, enrolled.stderr
    saved = json.loads(state.read_text())
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    device = Device.objects.get(pk=saved["device_id"])
    assert (device.organization, device.name) == (org_a, socket.gethostname())
    assert saved["credential"] not in enrolled.stdout + enrolled.stderr

    agent = subprocess.Popen(
        _agent("run", state=state), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        online = _until(lambda: Device.objects.filter(pk=device.pk, online=True).exclude(os_version="").first())
        assert online.os_family == "linux"
        credential = AgentCredential.objects.get(device=device)
        _until(lambda: AgentCredential.objects.get(pk=credential.pk).agent_version)
        first_seen = Device.objects.get(pk=device.pk).last_seen_at
        _until(lambda: Device.objects.get(pk=device.pk).last_seen_at > first_seen)  # heartbeats arrive

        services.revoke_credential(admin, device)
        assert agent.wait(timeout=15) == 3  # only a new enrolment helps: it stops redialling
        output = agent.stdout.read()
        assert "enrol" in output.lower()
        assert saved["credential"] not in output
    except AssertionError:
        agent.kill()
        raise AssertionError(f"the agent said: {agent.stdout.read()}") from None
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    assert not Device.objects.get(pk=device.pk).online


def test_ra4_an_agent_refused_a_bad_token_says_so_and_keeps_nothing(asgi_server, tmp_path):
    state = tmp_path / "state.json"
    refused = subprocess.run(
        _agent("enrol", "--server", asgi_server.url, "--token", "pte_not-a-token", state=state),
        capture_output=True, text=True, timeout=30,
    )
    assert refused.returncode == 2
    assert "not valid" in refused.stdout + refused.stderr
    assert not state.exists()
    assert not Device.objects.exists()
