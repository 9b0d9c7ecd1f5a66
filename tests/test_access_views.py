"""Every model's page and API endpoint answers the same three questions the same way (issue 3,
DEV-2, EU-1, EU-2, PU-2, GRP-3): allowed → 200, without permission → 404, outside scope → 404."""

from __future__ import annotations

import pytest

from portico import seed
from tests.view_checks import ALLOWED, NOT_FOUND, ViewCase, statuses

pytestmark = pytest.mark.django_db

CASES = [
    ViewCase(
        "device", "/console/devices/{pk}/", "/api/v1/devices/{pk}/",
        make=lambda r: r.getfixturevalue("device_b"), allowed="admin", denied="finance", out_of_scope="admin_scoped",
    ),
    ViewCase(
        "end user", "/console/end-users/{pk}/", "/api/v1/end-users/{pk}/",
        make=lambda r: seed.end_user(seed.person("bo@fabrikam.test"), r.getfixturevalue("org_b")),
        allowed="support", denied="finance", out_of_scope="admin_scoped",
    ),
    ViewCase(
        "end-user role", "/console/end-user-roles/{pk}/", "/api/v1/end-user-roles/{pk}/",
        make=lambda r: seed.role(r.getfixturevalue("partner"), "Remote"),
        allowed="support", denied="finance", out_of_scope="outsider",
    ),
    ViewCase(
        "staff user", "/console/staff/{pk}/", "/api/v1/staff-users/{pk}/",
        make=lambda r: r.getfixturevalue("support"), allowed="finance", denied="user_org", out_of_scope="outsider",
    ),
    ViewCase(
        "group", "/console/groups/{pk}/", "/api/v1/groups/{pk}/",
        make=lambda r: seed.group(r.getfixturevalue("partner"), "Desk"), allowed="finance", denied="user_org", out_of_scope="outsider",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_with_permission_the_page_and_endpoint_answer(request, case):
    assert statuses(request, case, case.allowed) == ALLOWED


@pytest.mark.parametrize("case", CASES, ids=str)
def test_without_permission_they_answer_404(request, case):
    assert statuses(request, case, case.denied) == NOT_FOUND


@pytest.mark.parametrize("case", CASES, ids=str)
def test_outside_scope_they_answer_404(request, case):
    assert statuses(request, case, case.out_of_scope) == NOT_FOUND


@pytest.mark.parametrize(
    "path",
    ["/api/v1/devices/", "/api/v1/end-users/", "/api/v1/staff-users/", "/api/v1/groups/", "/api/v1/end-user-roles/"],
)
def test_null_characters_in_a_query_are_a_field_error(owner, path):
    from tests.support import api_client

    response = api_client(owner).get(path, {"search": "a\x00b", "os_family": "\x00"})
    assert response.status_code == 400 and "search" in response.json()


@pytest.mark.parametrize("path", ["/console/end-user-roles/", "/console/groups/", "/console/devices/", "/console/end-users/", "/console/staff/"])
def test_null_characters_in_a_console_search_are_harmless(owner, signed_in, path):
    assert signed_in(owner).get(path, {"q": "a\x00b"}).status_code == 200
