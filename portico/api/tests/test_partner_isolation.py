"""A token of one partner's staff reaches nothing of another partner (DESIGN mechanism 2)."""

from __future__ import annotations

from portico.api.models import ApiToken
from portico.api.tests.conftest import bearer


def test_outsider_token_sees_only_its_own_membership(client, outsider, token_of):
    response = client.get("/api/v1/me/", **bearer(token_of(outsider)))
    assert response.json()["membership"]["partner"] == "Bluewave MSP"
    assert "Northwind" not in response.content.decode()


def test_outsider_token_cannot_list_or_revoke_another_partners_tokens(client, outsider, admin, user_org, token_of):
    admin_raw, user_raw = token_of(admin, "northwind-admin"), token_of(user_org, "contoso-user")
    auth = bearer(token_of(outsider, "bluewave"))
    listed = client.get("/api/v1/tokens/", **auth)
    assert [t["name"] for t in listed.json()["results"]] == ["bluewave"]
    for token in ApiToken.objects.filter(membership__partner=admin.partner):
        assert client.delete(f"/api/v1/tokens/{token.pk}/", **auth).status_code == 404
    assert client.get("/api/v1/me/", **bearer(admin_raw)).status_code == 200
    assert client.get("/api/v1/me/", **bearer(user_raw)).status_code == 200


def test_tokens_of_colleagues_in_the_same_partner_are_not_reachable_either(client, owner, admin, token_of):
    admin_raw = token_of(admin, "admin")
    auth = bearer(token_of(owner, "owner"))
    assert [t["name"] for t in client.get("/api/v1/tokens/", **auth).json()["results"]] == ["owner"]
    admin_token = ApiToken.objects.get(membership=admin)
    assert client.delete(f"/api/v1/tokens/{admin_token.pk}/", **auth).status_code == 404
    assert client.get("/api/v1/me/", **bearer(admin_raw)).status_code == 200


def test_outsider_token_cannot_use_another_partners_pages(client, outsider, user_org, token_of):
    # A Bearer token authenticates the API only; the people pages of Northwind stay out of reach.
    auth = bearer(token_of(outsider))
    response = client.post(f"/console/people/{user_org.pk}/enabled/", {"enabled": "0"}, **auth)
    assert response.status_code in (302, 403, 404)
    user_org.refresh_from_db()
    assert user_org.enabled


def test_outsider_session_cannot_disable_another_partners_people(signed_in, outsider, user_org):
    response = signed_in(outsider).post(f"/console/people/{user_org.pk}/enabled/", {"enabled": "0"})
    assert response.status_code == 404
    user_org.refresh_from_db()
    assert user_org.enabled
