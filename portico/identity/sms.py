"""SMS codes as a second factor (ID-3), sent through a pluggable HTTP gateway.

The gateway speaks a small JSON protocol: POST {"to": "+15551234567", "message": "..."} with
`Authorization: Bearer <token>`; any 2xx is accepted. Without a configured URL, codes are
written to the server log, which suits a demo and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Protocol

import requests
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)
SESSION_KEY = "sms_challenge"
MAX_ATTEMPTS = 5
# Each code allows a few tries; limiting new codes per phone keeps guessing bounded overall.
MAX_SENDS = 5
SEND_WINDOW_SECONDS = 15 * 60


class SmsGatewayError(Exception):
    pass


class TooManyCodes(SmsGatewayError):
    pass


class SmsGateway(Protocol):
    def send(self, to: str, message: str) -> None: ...


class HttpSmsGateway:
    def __init__(self, url: str, token: str, timeout: float = 10.0):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, to: str, message: str) -> None:
        try:
            response = requests.post(
                self.url,
                json={"to": to, "message": message},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise SmsGatewayError(str(exc)) from exc
        if not 200 <= response.status_code < 300:
            raise SmsGatewayError(f"gateway answered {response.status_code}")


class LogSmsGateway:
    def send(self, to: str, message: str) -> None:
        log.warning("SMS to %s: %s", to, message)


def gateway() -> SmsGateway:
    if settings.SMS_GATEWAY_URL:
        return HttpSmsGateway(settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_TOKEN)
    return LogSmsGateway()


def _digest(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def send_code(request: HttpRequest, phone: str, message_template: str) -> None:
    """Send a fresh six-digit code to `phone`; only its keyed hash stays in the session."""
    counter = f"sms-sends:{_digest(phone)}"
    cache.add(counter, 0, SEND_WINDOW_SECONDS)
    if cache.incr(counter) > MAX_SENDS:
        raise TooManyCodes(phone)
    code = f"{secrets.randbelow(1_000_000):06d}"
    gateway().send(phone, message_template % {"code": code})
    request.session[SESSION_KEY] = {
        "phone": phone,
        "digest": _digest(code),
        "expires": time.time() + settings.SMS_CODE_TTL_SECONDS,
        "attempts": 0,
    }


def check_code(request: HttpRequest, code: str) -> str | None:
    """The phone the code was sent to if `code` is right; each challenge allows a few tries."""
    challenge = request.session.get(SESSION_KEY)
    if not challenge or challenge["expires"] < time.time() or challenge["attempts"] >= MAX_ATTEMPTS:
        return None
    challenge["attempts"] += 1
    request.session[SESSION_KEY] = challenge
    if hmac.compare_digest(challenge["digest"], _digest(code.strip())):
        del request.session[SESSION_KEY]
        return challenge["phone"]
    return None
