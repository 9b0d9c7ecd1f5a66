"""Shared view checks, NetBox-style: every model's page and API endpoint gets the same three
tests — without permission → 404, with permission → 200, outside the scope → 404 (DESIGN
mechanism 2: out of reach is a 404, never a 403).

A test module describes each model once with a `ViewCase` and asserts `statuses(...)` for the
three people it names: `ALLOWED`, `NOT_FOUND`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.support import api_client


@dataclass(frozen=True)
class ViewCase:
    name: str
    page: str  # e.g. "/console/devices/{pk}/"
    endpoint: str  # e.g. "/api/v1/devices/{pk}/"
    make: Callable  # (request) -> the object, built from fixtures
    allowed: str  # fixture name of a membership that may view it
    denied: str  # fixture name of one that may not (no permission)
    out_of_scope: str  # fixture name of one whose scope excludes it

    def __str__(self) -> str:
        return self.name


ALLOWED = (200, 200)
NOT_FOUND = (404, 404)


def statuses(request, case: ViewCase, who: str) -> tuple[int, int]:
    """(page status, API status) of `case`'s object for the membership fixture named `who`."""
    obj = case.make(request)
    member = request.getfixturevalue(who)
    client = request.getfixturevalue("client")
    client.logout()
    page = request.getfixturevalue("signed_in")(member).get(case.page.format(pk=obj.pk)).status_code
    endpoint = api_client(member).get(case.endpoint.format(pk=obj.pk)).status_code
    return page, endpoint

