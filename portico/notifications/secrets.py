"""Secrets at rest (DESIGN mechanism 6): mailbox and SMTP passwords, SSO secrets, OAuth tokens.

Fernet (AES-128-CBC with HMAC-SHA256) from `cryptography`. The key comes from
PORTICO_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first, so a key can be rotated), or
is derived from SECRET_KEY when that is unset, so a development install works without setup.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _box() -> MultiFernet:
    keys = [k.strip() for k in settings.PORTICO_ENCRYPTION_KEYS.split(",") if k.strip()]
    if not keys:
        digest = hashlib.sha256(b"portico-secrets:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    """The secret, or "" when it was sealed with a key this installation no longer has."""
    if not token:
        return ""
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""
