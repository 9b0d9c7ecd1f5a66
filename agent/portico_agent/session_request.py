"""What a `session.open` may ask for, and the agent's own check of it (docs/agent-protocol.md,
Sessions). The message chooses a kind and a consent mode, nothing else: which shell, which user
and which VNC port are the agent's own, so nothing else in it is even read."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("remote_control", "user_cli", "system_cli")
CONSENT_MODES = ("none", "notify", "ask")

# Refusal reasons, as the protocol names them.
NOT_ALLOWED = "not_allowed"
UNAVAILABLE = "unavailable"
CONSENT_DENIED = "consent_denied"
CONSENT_TIMEOUT = "consent_timeout"

# The id becomes a path segment of the session's URL: nothing that could leave it.
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_REQUESTED_BY_LENGTH = 100


class Refused(Exception):
    """The agent will not serve this session; `reason` is one of the protocol's."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class SessionRequest:
    session: str | int  # as the server sent it, so that a refusal names it the same way
    kind: str
    view_only: bool
    consent: str
    requested_by: str

    @property
    def session_id(self) -> str:
        return str(self.session)


def session_of(message: dict) -> str | int | None:
    """The message's session id if it is one the agent can name in a reply or a URL."""
    session = message.get("session")
    if isinstance(session, bool):
        return None
    if isinstance(session, int) and session >= 0:
        return session
    if isinstance(session, str) and _SESSION_ID.fullmatch(session):
        return session
    return None


def parse(message: dict) -> SessionRequest:
    """The request a `session.open` makes, or Refused(not_allowed) when it is malformed or asks
    for a kind its rights do not hold. Keys the protocol does not name are ignored."""
    session = session_of(message)
    if session is None:
        raise Refused(NOT_ALLOWED, "malformed session.open: no usable session id")
    kind = message.get("kind")
    if kind not in KINDS:
        raise Refused(NOT_ALLOWED, f"unknown kind {kind!r}")
    rights = message.get("rights")
    if not isinstance(rights, list) or not all(isinstance(right, str) for right in rights):
        raise Refused(NOT_ALLOWED, "malformed session.open: rights must be a list of kinds")
    if kind not in rights:
        raise Refused(NOT_ALLOWED, f"{kind} is not among this session's rights")
    view_only = message.get("view_only")
    if not isinstance(view_only, bool):
        raise Refused(NOT_ALLOWED, "malformed session.open: view_only must be true or false")
    consent = message.get("consent")
    if consent not in CONSENT_MODES:
        raise Refused(NOT_ALLOWED, f"malformed session.open: unknown consent {consent!r}")
    return SessionRequest(
        session=session, kind=kind, view_only=view_only, consent=consent,
        requested_by=_printable(message.get("requested_by")) or "a technician",
    )


def _printable(value: object) -> str:
    """The name shown to the person at the device: printable characters only, and not a page of them."""
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if ch.isprintable()).strip()[:_REQUESTED_BY_LENGTH]
