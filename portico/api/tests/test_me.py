"""`GET /api/v1/me/`: who the call runs as, by personal token or browser session."""

from __future__ import annotations

import pytest

from portico.api.tests.conftest import bearer


def test_me_with_bearer_token_returns_person_and_membership(client, user_org, token_of):
    response = client.get("/api/v1/me/", **bearer(token_of(user_org)))
    assert response.status_code == 200
    assert response.json() == {
        "person": {"email": "emma@contoso.test", "first_name": "Emma", "last_name": "End", "language": "en"},
        "membership": {
            "id": user_org.pk,
            "kind": "end_user",
            "partner": "Northwind IT",
            "organization": "Contoso",
            "all_organizations": False,
            "staff_role": "",
            "security_type": "native",
            "enabled": True,
        },
    }


def test_me_runs_as_the_tokens_membership_not_another_of_the_person(client, admin, partner, org_a, token_of):
    from portico import seed

    end_user = seed.end_user(admin.person, org_a)
    assert client.get("/api/v1/me/", **bearer(token_of(end_user))).json()["membership"]["id"] == end_user.pk
    assert client.get("/api/v1/me/", **bearer(token_of(admin))).json()["membership"]["staff_role"] == "admin"


def test_me_with_signed_in_session(signed_in, admin):
    response = signed_in(admin).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["membership"]["id"] == admin.pk


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ptc_not-a-real-token", "Token abc", "Basic YWRtaW46cGFzcw==", "Bearer a b"],
)
def test_me_without_valid_auth_is_refused(client, db, user_org, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/api/v1/me/", **extra)
    assert response.status_code in (401, 403)
    assert "emma@contoso.test" not in response.content.decode()


def test_me_with_unknown_token_is_401_with_bearer_challenge(client, db):
    response = client.get("/api/v1/me/", **bearer("ptc_not-a-real-token"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_signed_in_person_who_has_not_picked_a_membership_gets_nothing(client, user_org):
    from tests.support import PASSWORD, totp_code

    client.post("/accounts/login/", {"login": user_org.person.email, "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(user_org.person)})
    session = client.session
    session.pop("membership_id", None)
    session.save()
    assert client.get("/api/v1/me/").status_code in (401, 403)
