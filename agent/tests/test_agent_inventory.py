"""The inventory's probes, with the commands they read replaced by their recorded outputs."""

from __future__ import annotations

import json

import pytest

from portico_agent import __version__, inventory

IP_JSON = json.dumps([
    {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1"}, {"family": "inet6", "local": "::1"}]},
    {"ifname": "eth0", "addr_info": [
        {"family": "inet", "local": "192.0.2.10"},
        {"family": "inet6", "local": "2001:db8::10"},
        {"family": "inet6", "local": "fe80::1"},
    ]},
    {"ifname": "wg0", "addr_info": [{"family": "inet", "local": "10.8.0.2"}, {"family": "inet", "local": "192.0.2.10"}]},
])

SESSIONS = {
    "3": "Name=alice\nActive=yes\nRemote=yes\nClass=user\nType=tty\n",  # ssh
    "5": "Name=gdm\nActive=yes\nRemote=no\nClass=greeter\nType=wayland\n",
    "7": "Name=carol\nActive=no\nRemote=no\nClass=user\nType=x11\n",  # switched away
    "8": "Name=dave\nActive=yes\nRemote=no\nClass=user\nType=tty\n",
    "9": "Name=bob\nActive=yes\nRemote=no\nClass=user\nType=wayland\n",
}


@pytest.fixture
def linux(monkeypatch):
    monkeypatch.setattr(inventory.platform, "system", lambda: "Linux")


def commands(monkeypatch, outputs):
    """Let `_run` answer from `outputs` (keyed by the command's first words); anything else is missing."""

    def fake_run(*command):
        for prefix, output in outputs.items():
            if command[: len(prefix)] == prefix:
                return output
        return None

    monkeypatch.setattr(inventory, "_run", fake_run)


def loginctl(session_ids):
    outputs = {("loginctl", "list-sessions"): "".join(f"{s} 1000 user seat0\n" for s in session_ids)}
    for session_id in session_ids:
        outputs[("loginctl", "show-session", session_id)] = SESSIONS[session_id]
    return outputs


def test_the_active_local_graphical_session_wins(linux, monkeypatch):
    commands(monkeypatch, {**loginctl(["3", "5", "7", "8", "9"]), ("who",): "zed pts/0\n"})
    assert inventory.logged_in_user() == "bob"


def test_a_text_console_counts_when_no_graphical_session_is_active(linux, monkeypatch):
    commands(monkeypatch, loginctl(["3", "7", "8"]))
    assert inventory.logged_in_user() == "dave"


def test_with_logind_only_remote_sessions_mean_nobody_is_at_the_machine(linux, monkeypatch):
    commands(monkeypatch, {**loginctl(["3", "5"]), ("who",): "alice pts/0 2024-05-01 09:00 (192.0.2.1)\n"})
    assert inventory.logged_in_user() is None


def test_without_loginctl_the_first_user_of_who(linux, monkeypatch):
    commands(monkeypatch, {("who",): "erin tty1 2024-05-01 08:58\nfrank pts/0 2024-05-01 09:00\n"})
    assert inventory.logged_in_user() == "erin"


def test_without_loginctl_or_who_nobody(linux, monkeypatch):
    commands(monkeypatch, {})
    assert inventory.logged_in_user() is None


def test_addresses_from_ip_json_without_loopback_link_local_or_duplicates(linux, monkeypatch):
    commands(monkeypatch, {("ip", "-j", "addr"): IP_JSON})
    assert inventory.ip_addresses() == ["192.0.2.10", "2001:db8::10", "10.8.0.2"]


@pytest.mark.parametrize("ip_output", [None, "not json", '{"unexpected": "shape"}'])
def test_without_a_usable_ip_command_the_routed_addresses(linux, monkeypatch, ip_output):
    commands(monkeypatch, {("ip", "-j", "addr"): ip_output})
    monkeypatch.setattr(inventory, "_routed_addresses", lambda: ["198.51.100.4", "127.0.0.1"])
    assert inventory.ip_addresses() == ["198.51.100.4"]


def test_the_routed_addresses_fallback_never_raises():
    assert isinstance(inventory._routed_addresses(), list)


def test_collect_never_raises_and_names_the_protocol_fields(monkeypatch):
    def broken():
        raise RuntimeError("odd system")

    monkeypatch.setattr(inventory, "logged_in_user", broken)
    monkeypatch.setattr(inventory, "ip_addresses", broken)
    collected = inventory.collect()
    assert collected["type"] == "inventory"
    assert collected["logged_in_user"] is None and collected["ip_addresses"] == []
    assert collected["agent_version"] == __version__
    assert set(collected) == {
        "type", "hostname", "os_family", "os_version", "logged_in_user", "ip_addresses", "agent_version"
    }


@pytest.mark.parametrize("system, family", [("Linux", "linux"), ("Windows", "windows"), ("Darwin", "mac")])
def test_os_family(monkeypatch, system, family):
    monkeypatch.setattr(inventory.platform, "system", lambda: system)
    assert inventory.os_family() == family


def test_this_machine_answers_for_real():
    collected = inventory.collect()
    assert collected["hostname"] and collected["os_family"] and collected["os_version"]
    assert all(isinstance(address, str) for address in collected["ip_addresses"])
