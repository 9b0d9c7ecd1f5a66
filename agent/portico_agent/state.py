"""The agent's state file: which server it belongs to, its device id and credential, and the CA it
pins. Readable by the agent's own user only (mode 0600), replaced atomically."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_PATH = "/var/lib/portico-agent/state.json"


class StateError(Exception):
    """The state file is missing or unreadable: the device has to be enrolled (again)."""


@dataclass(frozen=True)
class AgentState:
    server: str
    device_id: int
    # Kept out of repr so that logging a state, or an exception carrying one, never shows it.
    credential: str = field(repr=False)
    ca_file: str | None = None

    @property
    def bearer(self) -> str:
        return f"{self.device_id}.{self.credential}"


def default_path() -> Path:
    return Path(os.environ.get("PORTICO_AGENT_STATE") or DEFAULT_PATH)


def save(state: AgentState, path: Path) -> None:
    """Write to a private temporary file beside `path`, then rename it over `path`: a reader sees
    the old state or the new one, never half of one, and the credential is never world-readable."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp already creates the file 0600; chmod states it rather than relying on it.
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(state), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory is synced; Windows cannot open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path: Path) -> AgentState:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StateError(f"no state file at {path}: enrol this device first (portico-agent enrol)") from None
    except (OSError, ValueError) as exc:
        raise StateError(f"cannot read the state file {path}: {exc}") from None
    try:
        return AgentState(
            server=str(data["server"]),
            device_id=int(data["device_id"]),
            credential=str(data["credential"]),
            ca_file=data.get("ca_file") or None,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise StateError(f"the state file {path} is incomplete: enrol this device again") from None
