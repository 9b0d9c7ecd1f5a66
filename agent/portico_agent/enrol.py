"""Enrolment: trade a one-time enrolment token for this device's id and credential."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

from portico_agent import __version__, inventory, state
from portico_agent.endpoint import check_server_url, enrol_url, tls_context

log = logging.getLogger(__name__)


class EnrolmentRefused(Exception):
    """The server answered 400: the token is wrong, expired, revoked or used up, or a field is bad."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("enrolment refused")
        self.errors = errors


class EnrolmentFailed(Exception):
    """The server could not be reached, or answered something other than 201 or 400."""


def enrol(server: str, token: str, state_path: Path, ca_file: str | None = None, timeout: float = 30) -> state.AgentState:
    """Enrol this device with `server` and save its state at `state_path`."""
    server = check_server_url(server)
    if ca_file:
        # The service runs from another directory than the one enrolment ran in.
        ca_file = str(Path(ca_file).resolve())
    try:
        context = tls_context(server, ca_file)
    except (OSError, ValueError) as exc:
        raise EnrolmentFailed(f"cannot use the CA file {ca_file}: {exc}") from None
    body = {
        "token": token,
        "hostname": inventory.hostname(),
        "os_family": inventory.os_family(),
        "os_version": inventory.os_version(),
        "agent_version": __version__,
    }
    request = urllib.request.Request(
        enrol_url(server),
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json",
                 "User-Agent": f"portico-agent/{__version__}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnrolmentFailed(f"cannot reach {server}: {reason}") from None
    answer = _json(payload)
    if status == 400:
        raise EnrolmentRefused(_field_errors(answer))
    if status != 201 or not isinstance(answer, dict):
        raise EnrolmentFailed(f"{server} answered HTTP {status} to the enrolment")
    try:
        enrolled = state.AgentState(
            server=server, device_id=int(answer["device_id"]), credential=str(answer["credential"]), ca_file=ca_file
        )
    except (KeyError, TypeError, ValueError):
        raise EnrolmentFailed(f"{server} answered the enrolment without a device id and credential") from None
    state.save(enrolled, state_path)
    log.info("enrolled as device %s of %s", enrolled.device_id, server)
    return enrolled


def _json(payload: bytes) -> object:
    try:
        return json.loads(payload or b"null")
    except ValueError:
        return None


def _field_errors(answer: object) -> dict[str, list[str]]:
    if not isinstance(answer, dict) or not answer:
        return {"non_field_errors": ["the server refused the enrolment without saying why"]}
    return {str(field): [str(m) for m in (messages if isinstance(messages, list) else [messages])]
            for field, messages in answer.items()}
