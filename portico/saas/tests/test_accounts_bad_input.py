"""Hostile input to the accounts page (ACC-1) and its details (ACC-3): odd search text, unknown
filter values, forged cursors and ids. Never a 500, always a clear answer, and never another
partner's accounts."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest
from hypothesis import given

from portico import seed
from tests.bad_input import FUZZ, assert_handled, form

pytestmark = pytest.mark.django_db

URL = "/console/accounts/"
FILTERS = ["organization", "product_type", "status", "q", "added_from", "added_to", "cursor"]


@pytest.fixture
def accounts(org_a, foreign_org):
    made = {
        address: seed.account(org_a, address, external_id=f"id-{address}")
        for address in ("100%off@contoso.test", "under_score@contoso.test", "plain@contoso.test",
                        "o'brien@contoso.test", "back\\slash@contoso.test", "émile😀@contoso.test")
    }
    made["foreign"] = seed.account(foreign_org, "percent%_x@litware.test")
    return made


@pytest.fixture
def owner_client(signed_in, owner):
    # Signed in once per test, not per example: sign-ins are rate limited (ID-12).
    return signed_in(owner)


def shown(response) -> set[str]:
    return {account.address for account in response.context["page"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%", {"100%off@contoso.test"}),  # a literal percent sign, not a wildcard
        ("_", {"under_score@contoso.test"}),  # a literal underscore
        ("'", {"o'brien@contoso.test"}),
        ('"', set()),
        ("\\", {"back\\slash@contoso.test"}),
        ("😀", {"émile😀@contoso.test"}),
        ("émile", {"émile😀@contoso.test"}),
        ("%_", set()),  # the other partner's "percent%_x" stays out of reach
        ("' OR '1'='1' --", set()),
    ],
)
def test_acc1_search_takes_special_characters_literally(owner_client, accounts, text, expected):
    response = owner_client.get(URL, {"q": text})
    assert response.status_code == 200
    assert shown(response) == expected


def test_acc1_search_of_10000_characters_is_refused_with_a_reason(owner_client, accounts):
    response = owner_client.get(URL, {"q": "a" * 10_000})
    assert response.status_code == 200
    assert "at most 200 characters" in response.content.decode()
    assert "percent%_x@litware.test" not in shown(response)


def test_acc1_search_with_a_nul_character_is_refused_with_a_reason(owner_client, accounts):
    response = owner_client.get(URL, {"q": "plain\x00"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


@pytest.mark.parametrize("field", ["product_type", "status", "organization"])
def test_acc1_unknown_filter_values_are_field_errors(owner_client, accounts, field):
    response = owner_client.get(URL, {field: "nonsense"})
    assert response.status_code == 200
    assert field in response.context["filters"].errors
    assert "is-invalid" in response.content.decode()
    assert "percent%_x@litware.test" not in shown(response)


def test_acc1_another_partners_organization_is_no_choice(owner_client, foreign_org, accounts):
    response = owner_client.get(URL, {"organization": foreign_org.pk})
    assert "organization" in response.context["filters"].errors
    assert "percent%_x@litware.test" not in shown(response)


@pytest.mark.parametrize("value", [str(2**63), "99999999999999999999999", "-1", "0", "١٢"])
def test_acc1_typed_organization_numbers_out_of_range(owner_client, accounts, monkeypatch, value):
    monkeypatch.setattr("portico.tenancy.forms.ORGANIZATION_MENU_LIMIT", 0)
    response = owner_client.get(URL, {"organization": value})
    assert response.status_code == 200
    assert shown(response) == set()


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", "%%%", "\x00", _cursor({"d": "next", "v": [2**70]}), _cursor({"d": "prev", "v": ["1"]}),
     _cursor({"d": "sideways", "v": [1]}), _cursor({"d": "next", "v": [1, 2]}), _cursor([1]), "A" * 10_000],
)
def test_acc2_forged_cursor_is_the_first_page(owner_client, accounts, cursor):
    response = owner_client.get(URL, {"cursor": cursor})
    assert response.status_code == 200
    assert len(shown(response)) == 6


def test_acc2_cursor_beyond_the_last_account_is_an_empty_page(owner_client, accounts):
    response = owner_client.get(URL, {"cursor": _cursor({"d": "next", "v": [1]})})
    assert response.status_code == 200
    assert shown(response) == set()
    assert "No account matches these filters." in response.content.decode()


@pytest.mark.parametrize("value", ["yesterday", "9999-12-31", "0001-01-01", "2026-02-30"])
def test_acc1_odd_added_dates_never_fail(owner_client, accounts, value):
    assert_handled(owner_client.get(URL, {"added_from": value, "added_to": value}), {200})


@pytest.mark.parametrize("pk", ["99999999999999999999999", str(2**63), "0"])
def test_acc3_unknown_account_ids_are_404(owner_client, accounts, pk):
    assert owner_client.get(f"{URL}{pk}/").status_code == 404


@FUZZ
@given(data=form(FILTERS))
def test_acc1_filters_survive_any_query(owner_client, accounts, data):
    response = owner_client.get(f"{URL}?{urlencode(data, doseq=True)}")
    assert_handled(response, {200})
    assert "percent%_x@litware.test" not in shown(response)
