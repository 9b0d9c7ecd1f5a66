"""Malformed, oversized and wrong-type input to the partner settings form (PS-1 … PS-3): never a 500."""

from __future__ import annotations

import pytest
from hypothesis import given

from portico.tenancy.models import Partner
from tests.bad_input import FUZZ, NON_UTF8_BODIES, ONE_MB, assert_handled, encodings, form, has_field_error, post


@pytest.fixture
def owner_client(signed_in, owner):
    return signed_in(owner)


@FUZZ
@given(data=form(["name", "country", "default_language", "require_staff_mfa"]), encoding=encodings)
def test_partner_settings_survive_any_input(owner_client, partner, data, encoding):
    assert_handled(post(owner_client, "/console/settings/", data, encoding), {200, 302, 400})
    partner.refresh_from_db()
    assert len(partner.name) <= 200 and len(partner.country) <= 2
    assert partner.default_language in {"en", "pt-br", "ja", "de", "fr"}


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", ONE_MB),
        ("name", ""),
        ("name", "\x00"),
        ("country", "USA"),
        ("country", "1"),
        ("default_language", "xx"),
    ],
)
def test_ps3_bad_settings_answer_with_field_error_and_change_nothing(owner_client, partner, field, value):
    data = {"name": "Northwind IT", "country": "US", "default_language": "en", "require_staff_mfa": "on", field: value}
    response = owner_client.post("/console/settings/", data)
    assert response.status_code == 200 and has_field_error(response)
    assert Partner.objects.get(pk=partner.pk).name == "Northwind IT"


@pytest.mark.parametrize("body", NON_UTF8_BODIES)
def test_partner_settings_unreadable_body(owner_client, body):
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json"):
        assert_handled(owner_client.generic("POST", "/console/settings/", body, content_type=content_type))
