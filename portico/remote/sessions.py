"""Remote sessions (RA-2, RA-3, RA-5; docs/agent-protocol.md "Sessions"): tokens, the checks at
request and at connect, the agent joining, and the end, audited.

The policy is asked when the session is requested, again when the browser connects, and every
second while it lasts (`why_it_must_end`): a disabled membership (ID-6), a removed role, grant or
assignment (PERM-5), a device moved out of reach, all end the session within two seconds,
whichever code path made the change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.catalog import CONNECTION_ACTIONS
from portico.access.policy import Action
from portico.audit.services import record
from portico.devices.models import Device
from portico.identity.models import Membership
from portico.remote.models import (
    AgentCredential,
    Consent,
    EndReason,
    RemoteAccessSettings,
    RemoteSession,
    SessionState,
    hash_secret,
)

TOKEN_PREFIX = "pts_"
TOKEN_SECONDS = 60
KINDS = frozenset(str(kind) for kind in CONNECTION_ACTIONS)
# Refusals the agent may give (docs/agent-protocol.md), each kept as the session's end detail.
AGENT_REFUSALS = ("not_allowed", "unavailable", "consent_denied", "consent_timeout")

# Close codes of the browser's socket.
CLOSE_MALFORMED = 4400
CLOSE_NOT_ALLOWED = 4403
CLOSE_BAD_TOKEN = 4404
CLOSE_AGENT_TIMEOUT = 4408
CLOSE_REFUSED = 4409
CLOSE_ACCESS_REMOVED = 4410
CLOSE_OFFLINE = 4503


def agent_wait_seconds(consent: str) -> float:
    """How long a browser waits for the agent: longer when the person at the device has 30 s to answer."""
    wait = getattr(settings, "REMOTE_AGENT_WAIT_SECONDS", 30)
    return wait + 15 if consent == Consent.ASK else wait


def recheck_seconds() -> float:
    return getattr(settings, "REMOTE_RECHECK_SECONDS", 1)


class DeviceOffline(Exception):
    """The device's agent is not connected: no session can reach it now."""


def socket_path(raw_token: str) -> str:
    return f"/remote/v1/sessions/{raw_token}"


def consent_of(organization_id: int) -> str:
    found = RemoteAccessSettings.objects.filter(organization_id=organization_id).values_list("consent", flat=True).first()
    return found or Consent.NOTIFY


def change_consent(actor: Membership, organization, consent: str) -> None:
    """Who changes an organization may choose whether its devices' users are told or asked."""
    if not policy.can(actor, Action.CHANGE, organization):
        raise PermissionDenied
    if consent not in Consent.values:
        raise ValidationError({"consent": [_("Choose one of the offered answers.")]})
    with transaction.atomic():
        before = consent_of(organization.pk)
        RemoteAccessSettings.objects.update_or_create(organization=organization, defaults={"consent": consent})
        record(
            "remote.settings_changed", actor=actor, obj=organization, partner_id=organization.partner_id,
            organization_id=organization.pk, before={"consent": before}, after={"consent": consent},
        )


# Requesting, from a page or the API.


def request_session(actor: Membership, device: Device, kind: str, *, view_only: bool = False) -> tuple[RemoteSession, str]:
    """A session token for `actor` to open `kind` on `device`, valid for a minute and once.

    A device out of reach is a 404; one in reach without this right a PermissionDenied."""
    if kind not in KINDS or not policy.can(actor, Action.VIEW, device):
        raise Http404
    if not policy.can(actor, kind, device):
        raise PermissionDenied(_("Your permissions do not allow this connection to this device."))
    if not device.online or not AgentCredential.objects.filter(device=device, revoked_at__isnull=True).exists():
        raise DeviceOffline
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session = RemoteSession.objects.create(
        partner_id=device.partner_id, organization_id=device.organization_id, device=device,
        device_name=device.name, membership=actor, requested_by=actor.person.email, kind=kind,
        view_only=view_only and kind == "remote_control", token_hash=hash_secret(raw),
        token_expires_at=timezone.now() + timedelta(seconds=TOKEN_SECONDS),
    )
    return session, raw


# The browser connects.


@dataclass
class Opening:
    """What the browser's connection gets: a session and the agent's instruction, or a refusal."""

    session: RemoteSession | None = None
    instruction: dict | None = None
    close_code: int = 0
    reason: str = ""


def open_session(raw_token: str, session_membership_id: int | None, user_id: int | None, browser_channel: str) -> Opening:
    """Spend the token if the browser's signed-in membership is its own and the policy still
    allows the session; then the session waits for its agent."""
    now = timezone.now()
    with transaction.atomic():
        session = (
            RemoteSession.objects.select_for_update(of=("self",)).select_related("device", "membership__person")
            .filter(token_hash=hash_secret(raw_token)).first()
        )
        if (
            session is None or session.state != SessionState.REQUESTED or session.token_expires_at <= now
            or session.membership_id is None or session.membership_id != session_membership_id
            or session.membership.person_id != user_id
        ):
            _record_refusal(session_membership_id, session, "bad_token")
            return Opening(close_code=CLOSE_BAD_TOKEN, reason="bad_token")
        actor = Membership.objects.select_related("person").get(pk=session.membership_id)
        device = session.device
        if device is None or not _allowed(actor, session):
            _end_unstarted(session, EndReason.ACCESS_REMOVED)
            _record_refusal(session_membership_id, session, EndReason.ACCESS_REMOVED)
            return Opening(close_code=CLOSE_NOT_ALLOWED, reason=EndReason.ACCESS_REMOVED)
        if not device.online:
            _end_unstarted(session, EndReason.AGENT_TIMEOUT, "offline")
            _record_refusal(session_membership_id, session, "offline")
            return Opening(close_code=CLOSE_OFFLINE, reason="offline")
        consent = consent_of(device.organization_id)
        RemoteSession.objects.filter(pk=session.pk).update(
            state=SessionState.WAITING, started_at=now, browser_channel=browser_channel,
        )
        session.state, session.started_at, session.browser_channel = SessionState.WAITING, now, browser_channel
        record(
            "remote.session_started", actor=actor, obj=device, partner_id=device.partner_id,
            organization_id=device.organization_id,
            after={"session": session.pk, "kind": session.kind, "view_only": session.view_only, "consent": consent},
        )
    instruction = {
        "type": "session.open", "session": str(session.pk), "kind": session.kind, "rights": [session.kind],
        "view_only": session.view_only, "consent": consent, "requested_by": _display_name(actor),
    }
    return Opening(session=session, instruction=instruction)


def _record_refusal(membership_id: int | None, session: RemoteSession | None, reason: str) -> None:
    """A browser refused at connect: who tried (if signed in), with which session, and why."""
    actor = Membership.objects.select_related("person").filter(pk=membership_id).first() if membership_id else None
    if actor is None and session is None:
        return  # nobody signed in and no session: nothing to attribute it to
    partner_id = session.partner_id if session is not None else actor.partner_id
    record(
        "remote.session_refused", actor=actor, obj=session, partner_id=partner_id,
        organization_id=session.organization_id if session is not None else None,
        after={"reason": reason, "session": session.pk if session is not None else None,
               "kind": session.kind if session is not None else None},
    )


def _display_name(actor: Membership) -> str:
    return actor.person.get_full_name() or actor.person.email


def _allowed(actor: Membership, session: RemoteSession) -> bool:
    return session.device is not None and policy.can(actor, session.kind, session.device)


def why_it_must_end(session_id: int) -> str:
    """Nothing (an empty reason) while the requester still holds this session's right (enabled,
    assigned, permitted); otherwise why it ends: its recorded end, or access removed."""
    session = RemoteSession.objects.select_related("device", "membership").filter(pk=session_id).first()
    if session is not None and session.state == SessionState.ENDED:
        return session.end_reason
    if session is None or session.membership is None:
        return EndReason.ACCESS_REMOVED
    actor = session.membership
    if session.started_at and actor.sessions_valid_after > session.started_at:
        return EndReason.ACCESS_REMOVED  # the membership was disabled and enabled again since
    return "" if _allowed(actor, session) else EndReason.ACCESS_REMOVED


# The agent joins, or refuses.


def agent_joins(session_id: int, credential: AgentCredential, agent_channel: str) -> RemoteSession | None:
    """The session waiting for this device's agent, now bound to its socket; None for any other."""
    with transaction.atomic():
        session = (
            RemoteSession.objects.select_for_update()
            .filter(pk=session_id, device_id=credential.device_id, state=SessionState.WAITING, agent_channel="")
            .first()
        )
        if session is None:
            return None
        session.agent_channel = agent_channel
        session.save(update_fields=["agent_channel"])
    return session


def agent_ready(session_id: int, consent: str) -> RemoteSession | None:
    """The agent's shell or screen is up: the session is open (and the consent on record)."""
    consent = consent if consent in ("not_asked", "notified", "granted") else "not_asked"
    with transaction.atomic():
        session = RemoteSession.objects.select_for_update().filter(pk=session_id, state=SessionState.WAITING).first()
        if session is None:
            return None
        session.state, session.consent = SessionState.OPEN, consent
        session.save(update_fields=["state", "consent"])
    return session


def agent_refused(session_id: int, credential: AgentCredential, reason: str, detail: str) -> RemoteSession | None:
    """The device refused the session (its rights, what it can serve, or its user's answer)."""
    session = RemoteSession.objects.filter(pk=session_id, device_id=credential.device_id).first()
    if session is None or session.state == SessionState.ENDED:
        return None
    reason = reason if reason in AGENT_REFUSALS else "not_allowed"
    if reason.startswith("consent_"):
        RemoteSession.objects.filter(pk=session.pk).update(consent=reason.removeprefix("consent_"))
    return end_session(session.pk, EndReason.REFUSED, detail=f"{reason}: {detail}"[:300])


# The end.


def end_session(
    session_id: int, reason: str, *, bytes_to_device: int = 0, bytes_from_device: int = 0, detail: str = ""
) -> RemoteSession | None:
    """Record the session's end once, whoever notices first; later calls only add the byte
    counts the caller holds. Returns the session if this call ended it."""
    now = timezone.now()
    with transaction.atomic():
        session = RemoteSession.objects.select_for_update(of=("self",)).select_related("membership__person").filter(pk=session_id).first()
        if session is None:
            return None
        session.bytes_to_device = max(session.bytes_to_device, bytes_to_device)
        session.bytes_from_device = max(session.bytes_from_device, bytes_from_device)
        if session.state == SessionState.ENDED:
            session.save(update_fields=["bytes_to_device", "bytes_from_device"])
            return None
        session.state, session.ended_at, session.end_reason = SessionState.ENDED, now, reason
        session.end_detail = detail[:300]
        session.save()
        record(
            "remote.session_ended", actor=session.membership, actor_email=session.requested_by,
            obj=session.device or session, partner_id=session.partner_id, organization_id=session.organization_id,
            after={
                "session": session.pk, "kind": session.kind, "device": session.device_name,
                "started_at": session.started_at.isoformat() if session.started_at else None,
                "ended_at": now.isoformat(), "reason": reason, "detail": session.end_detail,
                "consent": session.consent, "bytes_to_device": session.bytes_to_device,
                "bytes_from_device": session.bytes_from_device,
            },
        )
    return session


def _end_unstarted(session: RemoteSession, reason: str, detail: str = "") -> None:
    RemoteSession.objects.filter(pk=session.pk).update(
        state=SessionState.ENDED, ended_at=timezone.now(), end_reason=reason, end_detail=detail,
    )


def recent_of(device: Device, count: int = 10) -> list[RemoteSession]:
    """The device's latest sessions that reached it (tokens never used are not sessions)."""
    return list(
        RemoteSession.objects.filter(device=device, started_at__isnull=False).order_by("-started_at")[:count]
    )


def expire_unused_tokens() -> int:
    """Tokens nobody used in their minute: their sessions end as never used (no audit: nothing ran)."""
    return RemoteSession.objects.filter(
        state=SessionState.REQUESTED, token_expires_at__lt=timezone.now()
    ).update(state=SessionState.ENDED, ended_at=timezone.now(), end_reason=EndReason.NEVER_USED)
