"""ID-6: disabling a membership ends its API tokens at once; enabling it again does not revive them."""

from __future__ import annotations

from portico.api.models import ApiToken
from portico.api.tests.conftest import bearer
from portico.identity import services


def test_id6_disabling_makes_the_token_fail_at_once(client, admin, user_org, token_of):
    raw = token_of(user_org)
    assert client.get("/api/v1/me/", **bearer(raw)).status_code == 200
    services.set_enabled(admin, user_org, False)
    assert client.get("/api/v1/me/", **bearer(raw)).status_code == 401
    assert client.get("/api/v1/tokens/", **bearer(raw)).status_code == 401
    assert (
        client.post("/api/v1/tokens/", {"name": "x"}, content_type="application/json", **bearer(raw)).status_code == 401
    )
    assert ApiToken.objects.filter(membership=user_org).count() == 1, "nothing is deleted"


def test_id6_re_enabling_does_not_revive_revoked_tokens(client, admin, user_org, token_of):
    raw = token_of(user_org)
    services.set_enabled(admin, user_org, False)
    services.set_enabled(admin, user_org, True)
    assert client.get("/api/v1/me/", **bearer(raw)).status_code == 401
    fresh = token_of(user_org)
    assert client.get("/api/v1/me/", **bearer(fresh)).status_code == 200


def test_id6_token_of_a_disabled_membership_fails_even_if_not_marked_revoked(client, user_org, token_of):
    # Belt and braces: the check at authentication time does not rely on the revocation.
    raw = token_of(user_org)
    type(user_org).objects.filter(pk=user_org.pk).update(enabled=False)
    assert client.get("/api/v1/me/", **bearer(raw)).status_code == 401


def test_id6_disabling_one_membership_leaves_the_persons_other_tokens_alone(client, owner, admin, org_a, token_of):
    from portico import seed

    end_user = seed.end_user(admin.person, org_a)
    staff_raw, end_user_raw = token_of(admin), token_of(end_user)
    services.set_enabled(owner, end_user, False)
    assert client.get("/api/v1/me/", **bearer(end_user_raw)).status_code == 401
    assert client.get("/api/v1/me/", **bearer(staff_raw)).status_code == 200


def test_id6_disabled_membership_session_gets_401_from_the_api(signed_in, admin, user_org):
    client = signed_in(user_org)
    assert client.get("/api/v1/me/").status_code == 200
    services.set_enabled(admin, user_org, False)
    assert client.get("/api/v1/me/").status_code == 401
