"""The state file: private, atomic, and read back as it was written."""

from __future__ import annotations

import os
import stat

import pytest

from portico_agent import state
from portico_agent.state import AgentState, StateError

ENROLLED = AgentState(server="https://portico.example.com", device_id=42, credential="c-r-e-d", ca_file="/etc/ca.pem")


def test_round_trip(tmp_path):
    path = tmp_path / "state.json"
    state.save(ENROLLED, path)
    assert state.load(path) == ENROLLED


def test_written_with_mode_0600_even_over_a_readable_file(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    state.save(ENROLLED, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["state.json"]  # no temporary file left behind


def test_creates_a_private_directory(tmp_path):
    path = tmp_path / "portico-agent" / "state.json"
    state.save(ENROLLED, path)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_failed_write_keeps_the_old_state(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    state.save(ENROLLED, path)

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(state.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        state.save(AgentState(server="https://other.example.com", device_id=1, credential="x"), path)
    monkeypatch.undo()
    assert state.load(path) == ENROLLED
    assert os.listdir(tmp_path) == ["state.json"]


def test_repr_never_shows_the_credential():
    assert "c-r-e-d" not in repr(ENROLLED)
    assert ENROLLED.bearer == "42.c-r-e-d"


def test_missing_or_broken_state_asks_for_enrolment(tmp_path):
    with pytest.raises(StateError, match="enrol this device first"):
        state.load(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(StateError, match="cannot read"):
        state.load(tmp_path / "broken.json")
    (tmp_path / "partial.json").write_text('{"server": "https://p.example.com"}')
    with pytest.raises(StateError, match="enrol this device again"):
        state.load(tmp_path / "partial.json")


def test_default_path_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTICO_AGENT_STATE", str(tmp_path / "s.json"))
    assert state.default_path() == tmp_path / "s.json"
    monkeypatch.delenv("PORTICO_AGENT_STATE")
    assert str(state.default_path()) == "/var/lib/portico-agent/state.json"
