"""API test helpers: personal tokens for the named people, sent as a Bearer header."""

from __future__ import annotations

import pytest

from portico.api.services import create_token


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def token_of():
    """`token_of(membership)` creates a personal token for it and returns the raw value."""
    return lambda membership, name="test": create_token(membership, name)[1]
