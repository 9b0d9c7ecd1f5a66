"""Reconnection backoff and the rules on which server URLs the agent accepts."""

from __future__ import annotations

import random

import pytest

from portico_agent.connection import Backoff, ControlConnection
from portico_agent.endpoint import InsecureServerError, check_server_url, control_url, enrol_url
from portico_agent.state import AgentState


def test_backoff_doubles_from_1_to_60_seconds_within_the_jitter():
    backoff = Backoff(rng=random.Random(1))
    for attempt in range(12):
        base = min(2**attempt, 60)
        assert 0.5 * base <= backoff.next_delay() <= 1.5 * base


def test_backoff_jitter_spreads_the_waits():
    waits = [Backoff(rng=random.Random(seed)).next_delay() for seed in range(200)]
    assert min(waits) < 0.6 and max(waits) > 1.4
    assert all(0.5 <= wait <= 1.5 for wait in waits)


def test_backoff_resets_only_after_a_connection_that_lasted():
    backoff = Backoff(initial=1, maximum=60, reset_after=60, rng=random.Random(2))
    for _ in range(8):
        backoff.next_delay()
    backoff.connection_lasted(59.9)
    assert backoff.next_delay() >= 0.5 * 60
    backoff.connection_lasted(60)
    assert backoff.next_delay() <= 1.5


def test_backoff_numbers_are_parameters():
    backoff = Backoff(initial=0.01, maximum=0.04, rng=random.Random(3))
    assert all(0.005 <= backoff.next_delay() <= 0.06 for _ in range(100))


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://127.3.2.1", "http://[::1]:8000/", "http://localhost:8000", "http://LOCALHOST"]
)
def test_plain_http_is_accepted_for_a_loopback_server(url):
    assert check_server_url(url).startswith("http://")


@pytest.mark.parametrize(
    "url", ["http://portico.example.com", "http://192.0.2.10:8000", "http://[2001:db8::1]", "http://localhost.example.com"]
)
def test_plain_http_is_refused_for_any_other_server(url):
    with pytest.raises(InsecureServerError, match="refusing plain http://"):
        check_server_url(url)
    with pytest.raises(InsecureServerError):
        ControlConnection(AgentState(server=url, device_id=1, credential="c"))


@pytest.mark.parametrize("url", ["ftp://portico.example.com", "portico.example.com", "wss://portico.example.com"])
def test_a_server_url_must_be_http_or_https(url):
    with pytest.raises(InsecureServerError, match="server URL must look like"):
        check_server_url(url)


def test_endpoints_keep_a_path_prefix_and_map_https_to_wss():
    assert enrol_url("https://p.example.com/portico/") == "https://p.example.com/portico/agent/v1/enrol"
    assert control_url("https://p.example.com/portico/") == "wss://p.example.com/portico/agent/v1/control"
    assert control_url("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/agent/v1/control"
