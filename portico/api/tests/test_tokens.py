"""Personal API tokens: shown once, stored only as a hash, listed and revoked per membership."""

from __future__ import annotations

import hashlib
import io
import re

from django.core.management import call_command

from portico.api.models import ApiToken
from portico.api.tests.conftest import bearer
from portico.audit.models import AuditEvent

RAW_TOKEN = re.compile(r"ptc_[A-Za-z0-9_\-]{43}")


def whole_database() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def test_token_created_on_web_page_is_shown_once_and_stored_as_hash(signed_in, admin):
    client = signed_in(admin)
    assert client.get("/accounts/tokens/").status_code == 200
    response = client.post("/accounts/tokens/", {"name": "Build server"})
    assert response.status_code == 200
    [raw] = RAW_TOKEN.findall(response.content.decode())
    token = ApiToken.objects.get(membership=admin)
    assert token.name == "Build server"
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix)
    assert raw not in whole_database()
    # Shown once: the list shows only the prefix from now on.
    again = client.get("/accounts/tokens/").content.decode()
    assert raw not in again and f"{token.prefix}…" in again
    # And it works right away.
    assert client.get("/api/v1/me/", **bearer(raw)).json()["membership"]["id"] == admin.pk


def test_token_revoked_on_web_page_stops_working(signed_in, admin, token_of):
    raw = token_of(admin, "laptop")
    client = signed_in(admin)
    token = ApiToken.objects.get(membership=admin)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    client.logout()
    assert client.get("/api/v1/me/", **bearer(raw)).status_code == 401


def test_token_page_refuses_an_empty_name(signed_in, admin):
    response = signed_in(admin).post("/accounts/tokens/", {"name": "   "})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_api_creates_lists_and_revokes_tokens(client, user_org, token_of):
    auth = bearer(token_of(user_org, "first"))
    created = client.post("/api/v1/tokens/", {"name": "second"}, content_type="application/json", **auth)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "token"}
    raw = body["token"]
    assert RAW_TOKEN.fullmatch(raw) and raw.startswith(body["prefix"])
    assert raw not in whole_database()

    listed = client.get("/api/v1/tokens/", **auth)
    assert listed.status_code == 200
    assert sorted(t["name"] for t in listed.json()["results"]) == ["first", "second"]
    assert "token" not in listed.json()["results"][0]
    assert raw not in listed.content.decode()

    assert client.delete(f"/api/v1/tokens/{body['id']}/", **auth).status_code == 204
    assert client.get("/api/v1/me/", **bearer(raw)).status_code == 401
    assert [t["name"] for t in client.get("/api/v1/tokens/", **auth).json()["results"]] == ["first"]
    # Revoking again finds nothing to revoke.
    assert client.delete(f"/api/v1/tokens/{body['id']}/", **auth).status_code == 404
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None
    assert list(
        AuditEvent.objects.filter(object_id=str(body["id"])).order_by("seq").values_list("action", flat=True)
    ) == ["api_token.created", "api_token.revoked"]


def test_a_token_can_revoke_itself(client, user_org, token_of):
    raw = token_of(user_org)
    token = ApiToken.objects.get(membership=user_org)
    assert client.delete(f"/api/v1/tokens/{token.pk}/", **bearer(raw)).status_code == 204
    assert client.get("/api/v1/me/", **bearer(raw)).status_code == 401


def test_using_a_token_records_when_it_was_last_used(client, user_org, token_of):
    raw = token_of(user_org)
    assert ApiToken.objects.get(membership=user_org).last_used_at is None
    client.get("/api/v1/me/", **bearer(raw))
    assert ApiToken.objects.get(membership=user_org).last_used_at is not None


def test_token_list_pages_newest_first_without_repeats(client, user_org, token_of):
    raw = token_of(user_org, "token-00")
    for n in range(1, 55):
        token_of(user_org, f"token-{n:02d}")
    first = client.get("/api/v1/tokens/", **bearer(raw)).json()
    assert len(first["results"]) == 50 and first["next"]
    second = client.get(first["next"], **bearer(raw)).json()
    names = [t["name"] for t in first["results"] + second["results"]]
    assert len(names) == len(set(names)) == 55
    assert names[-1] == "token-00"
