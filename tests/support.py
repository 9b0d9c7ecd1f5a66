"""Helpers the tests share: the loopback inbox, TOTP codes, signing in through the real pages."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage

import pyotp

from portico import seed

PASSWORD = "correct-horse-battery-42"


class Inbox:
    """What the loopback SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self._lock.notify_all()
        return "250 OK"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.to(address)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no email to {address} arrived within {timeout}s")
                self._lock.wait(remaining)
            return self.to(address)


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


TOTP_PERIOD = 30


def fresh_totp_code(secret: str) -> str:
    """The current code, from a time step with a few seconds left.

    allauth accepts only the current step (MFA_TOTP_TOLERANCE 0), so a code computed just before the
    step ends would be refused by the time it arrives, most often on a busy machine.
    """
    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < 3:
        time.sleep(left + 0.1)
    return pyotp.TOTP(secret).now()


def totp_code(person) -> str:
    return fresh_totp_code(seed.totp_secret(person))


def sign_in(client, membership, *, password: str = PASSWORD):
    """Sign in through the real pages (password, then TOTP) and pick `membership`."""
    person = membership.person
    response = client.post("/accounts/login/", {"login": person.email, "password": password})
    assert response.status_code == 302, response.content[:500]
    if response["Location"].startswith("/accounts/2fa/authenticate"):
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(person)})
        assert response.status_code == 302, response.content[:500]
    response = client.post("/accounts/pick/", {"membership": membership.pk})
    assert response.status_code == 302
    return client


def api_client(membership):
    """A DRF test client that calls the API as `membership` with a fresh personal token."""
    from rest_framework.test import APIClient

    from portico.api.services import create_token

    _token, raw = create_token(membership, "tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
