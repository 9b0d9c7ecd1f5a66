"""Malformed, oversized and wrong-type input to every API endpoint: 400/401/404, never a 500.

Hand-picked shapes, Hypothesis over JSON bodies and headers, and Schemathesis over the whole
OpenAPI schema (positive and negative cases) with a valid Bearer token.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from portico.api.models import ApiToken
from portico.api.tests.conftest import bearer
from tests.bad_input import FUZZ, NON_UTF8_BODIES, ONE_MB, assert_handled, text_value

API_ANSWERS = {200, 201, 204, 400, 401, 403, 404, 405, 406, 413, 415}

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text_value
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
token_bodies = st.one_of(json_values, st.fixed_dictionaries({"name": json_values}))
# What a WSGI server hands over: header bytes decoded as latin-1, so any byte may appear.
header_values = st.one_of(
    text_value.map(lambda s: s.encode("utf-8").decode("latin-1")),
    st.binary(max_size=80).map(lambda b: "Bearer " + b.decode("latin-1")),
)


@pytest.fixture
def raw_token(user_org, token_of):
    return token_of(user_org, "fuzzer")


@pytest.fixture
def ticket_a(user_org, support, settings, tmp_path):
    """A ticket of `user_org` (given organization-wide ticketing) with a reply and an internal note, each with a file."""
    from portico import seed
    from portico.access.catalog import TICKETS_ORGANIZATION
    from portico.tickets import services
    from portico.tickets.attachments import from_bytes

    settings.MEDIA_ROOT = tmp_path
    seed.grant(user_org, TICKETS_ORGANIZATION)
    ticket = services.open_ticket(user_org, services.TicketDraft(subject="Printer jams", description="Paper stuck"))
    services.comment_on(support, ticket, "Restart it", [from_bytes("steps.txt", b"1. off")])
    services.comment_on(support, ticket, "Toner is fine", [from_bytes("log.txt", b"ok")], internal=True)
    return ticket


# Tokens: create


@pytest.mark.parametrize(
    "body",
    [
        [],
        ["name"],
        42,
        None,
        "name",
        {"name": None},
        {"name": True},
        {"name": ["a", "b"]},
        {"name": {"a": 1}},
        {"name": ""},
        {"name": "x" * 101},
        {"name": ONE_MB},
        {"name": "abc\x00def"},
        {},
    ],
)
def test_bad_token_bodies_answer_400_with_field_errors(client, raw_token, body):
    response = client.post("/api/v1/tokens/", json.dumps(body), content_type="application/json", **bearer(raw_token))
    assert response.status_code == 400, response.content[:300]
    assert isinstance(response.json(), dict)
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b"{", "application/json"),
        (b'{"name": "a",}', "application/json"),
        (b'{"name": NaN}', "application/json"),
        (b'{"name": ' + b"9" * 5000 + b"}", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        *[(body, "application/json") for body in NON_UTF8_BODIES],
        *[(body, "application/json; charset=utf-16") for body in NON_UTF8_BODIES],
        *[(body, "application/x-www-form-urlencoded") for body in NON_UTF8_BODIES],
        *[(body, "multipart/form-data; boundary=xyz") for body in NON_UTF8_BODIES],
        (b"name=ok", "multipart/form-data"),
        (b"<xml/>", "application/xml"),
        (b"name: ok", "text/yaml"),
    ],
)
def test_unreadable_token_bodies_answer_4xx(client, raw_token, raw, content_type):
    response = client.generic("POST", "/api/v1/tokens/", raw, content_type=content_type, **bearer(raw_token))
    # Form bodies that are not UTF-8 are read as Latin-1 by Django, so a token may well be made.
    assert_handled(response, {201, 400, 415} if content_type.startswith("application/x-www") else {400, 415})


def test_oversized_token_body_answers_400(client, raw_token):
    # A valid name: the refusal comes from the body size limit, not from the field.
    body = json.dumps({"name": "ok", "padding": "x" * 3_000_000})
    response = client.post("/api/v1/tokens/", body, content_type="application/json", **bearer(raw_token))
    assert response.status_code == 400
    assert ApiToken.objects.count() == 1


@FUZZ
@given(body=token_bodies)
def test_token_create_survives_any_json(client, raw_token, body):
    response = client.post("/api/v1/tokens/", json.dumps(body), content_type="application/json", **bearer(raw_token))
    assert_handled(response, {201, 400})
    if response.status_code == 201:
        assert 1 <= len(response.json()["name"]) <= 100


# Tokens: list and revoke


@FUZZ
@given(cursor=text_value)
def test_token_list_survives_any_cursor(client, raw_token, cursor):
    assert_handled(client.get("/api/v1/tokens/", {"cursor": cursor}, **bearer(raw_token)), {200, 404})


@pytest.mark.parametrize("token_id", ["0", "9" * 30, "-1", "abc", "1.5", "%00", "1%2F2"])
def test_revoking_odd_ids_answers_404(client, raw_token, token_id):
    response = client.delete(f"/api/v1/tokens/{token_id}/", **bearer(raw_token))
    assert response.status_code == 404
    assert client.get("/api/v1/me/", **bearer(raw_token)).status_code == 200


@pytest.mark.parametrize("method", ["put", "patch", "get"])
def test_methods_the_token_resource_does_not_offer_answer_405(client, raw_token, method):
    token = ApiToken.objects.get()
    response = client.generic(
        method.upper(), f"/api/v1/tokens/{token.pk}/", "{}", content_type="application/json", **bearer(raw_token)
    )
    assert response.status_code == 405


# Authentication header


@FUZZ
@given(header=header_values)
def test_me_survives_any_authorization_header(client, raw_token, header):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert_handled(response, {401, 403})


@pytest.mark.parametrize(
    "header",
    [
        "Bearer " + "x" * 1_000_000,
        "Bearer \x00",
        "Bearer ptc_\xff\xfe",
        "bearer ptc_x",
        "Bearer  ",
        "\x00",
        "Bearer a\tb",
    ],
)
def test_me_refuses_odd_authorization_headers_with_401(client, raw_token, header):
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=header).status_code == 401


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["format", "cursor", "page", "x"]), text_value, max_size=3))
def test_me_survives_any_query(client, raw_token, query):
    assert_handled(client.get("/api/v1/me/", query, **bearer(raw_token)), API_ANSWERS)


# The whole schema, by Schemathesis


@contextmanager
def wsgi_inside_test_transaction():
    """Let a raw WSGI call share the test's transaction, as Django's test client does.

    Django closes "old" connections at the start and end of every request; inside the test's
    atomic block that would poison the transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("who", ["user_org", "admin"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error(request, token_of, who, mode, org_a, device_a, ticket_a):
    """As an end user and as an Admin who can change things, nothing the schema allows or forbids is a 500."""
    raw_token = token_of(request.getfixturevalue(who), "fuzzer")
    token = ApiToken.objects.get()
    with wsgi_inside_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
        paths = {op.ok().path for op in schema.get_all_operations()}
        # Every resource of the API is in the fuzzed schema.
        assert {"/me/", "/tokens/", "/devices/", "/end-users/", "/end-user-roles/", "/staff-users/", "/groups/", "/tickets/"} <= {
            "/" + p.removeprefix("/api/v1/").split("/")[0] + "/" for p in paths
        }, paths

        @settings(FUZZ, max_examples=300)
        @given(case=schema.as_strategy(generation_mode=mode))
        def call(case):
            # A generated DELETE may revoke the fuzzer's own token; keep it alive so every call gets past auth.
            ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
            case.call_and_validate(
                headers={"Authorization": f"Bearer {raw_token}"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        call()
