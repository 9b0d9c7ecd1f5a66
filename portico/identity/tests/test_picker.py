"""The account picker (ID-5): one email, several memberships, chosen after sign-in and switched
without signing in again; SSO-only memberships are mentioned but never named."""

from __future__ import annotations

import pytest

from portico import seed
from portico.audit.models import AuditEvent
from portico.identity.models import SecurityType
from tests.support import PASSWORD, sign_in, totp_code

EMAIL = "dana@northwind.test"


def sign_in_without_picking(client, person):
    response = client.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(person)})
    assert response.status_code == 302
    return response


@pytest.fixture
def dana():
    return seed.person(EMAIL, PASSWORD, first_name="Dana", last_name="Dual")


@pytest.fixture
def dana_staff(dana, partner):
    """Dana is Support staff of Northwind IT ..."""
    return seed.staff(dana, partner, "support")


@pytest.fixture
def dana_end_user(dana, foreign_org):
    """... and an end user of Litware, a customer of another partner."""
    return seed.end_user(dana, foreign_org)


@pytest.fixture
def dana_sso(dana):
    """... and a customer-portal user of Tailspin Toys (Skyline MSP), signing in with SSO only."""
    skyline = seed.partner("Skyline MSP")
    return seed.customer_user(dana, seed.organization(skyline, "Tailspin Toys"), security_type=SecurityType.SSO)


def me(client) -> int:
    return client.get("/api/v1/me/").json()["membership"]["id"]


@pytest.mark.django_db
def test_id5_person_with_two_memberships_picks_one_and_switches_without_signing_in_again(
    client, dana_staff, dana_end_user
):
    response = sign_in_without_picking(client, dana_staff.person)
    assert response["Location"] == "/accounts/pick/"
    page = client.get("/accounts/pick/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Northwind IT · Support" in html and "Litware · End user" in html
    assert "single sign-on" not in html
    # Nothing is reachable until one is chosen.
    assert client.get("/console/")["Location"].startswith("/accounts/pick/")
    assert client.get("/api/v1/me/").status_code in (401, 403)

    chosen = client.post("/accounts/pick/", {"membership": dana_staff.pk})
    assert chosen["Location"] == "/console/"
    console = client.get("/console/")
    assert console.status_code == 200 and "Northwind IT" in console.content.decode()
    assert client.get("/portal/").status_code == 404
    assert me(client) == dana_staff.pk

    # "Switch account": the picker again, no password, no second factor.
    switch = client.get("/accounts/pick/")
    assert switch.status_code == 200 and "Litware · End user" in switch.content.decode()
    switched = client.post("/accounts/pick/", {"membership": dana_end_user.pk})
    assert switched["Location"] == "/portal/"
    portal = client.get("/portal/")
    assert portal.status_code == 200 and "Litware" in portal.content.decode()
    assert client.get("/console/").status_code == 404
    assert client.get("/console/people/").status_code == 404
    assert me(client) == dana_end_user.pk

    assert AuditEvent.objects.filter(action="sign_in.succeeded", actor_email=EMAIL).count() == 1
    assert list(
        AuditEvent.objects.filter(action="membership.selected").order_by("id").values_list("actor_id", flat=True)
    ) == [dana_staff.pk, dana_end_user.pk]


@pytest.mark.django_db
def test_id5_picker_follows_a_local_next_and_ignores_a_foreign_one(client, dana_staff, dana_end_user):
    sign_in_without_picking(client, dana_staff.person)
    local = client.post("/accounts/pick/?next=/console/people/", {"membership": dana_staff.pk})
    assert local["Location"] == "/console/people/"
    foreign = client.post("/accounts/pick/", {"membership": dana_end_user.pk, "next": "https://evil.test/"})
    assert foreign["Location"] == "/portal/"


@pytest.mark.django_db
def test_id5_sso_membership_is_mentioned_without_being_named(client, dana_staff, dana_end_user, dana_sso):
    sign_in_without_picking(client, dana_staff.person)
    page = client.get("/accounts/pick/")
    html = page.content.decode()
    assert "One more account of yours signs in with single sign-on" in html
    for name in ("Tailspin", "Skyline", "Customer portal user"):
        assert name not in html, name
    assert f'value="{dana_sso.pk}"' not in html
    # Posting its id does not choose it: password sign-in is refused for it (ID-8).
    refused = client.post("/accounts/pick/", {"membership": dana_sso.pk})
    assert refused.status_code == 200
    assert "Choose one of the listed accounts" in refused.content.decode()
    assert client.get("/customer/")["Location"].startswith("/accounts/pick/")


@pytest.mark.django_db
def test_id5_id8_person_whose_only_membership_is_sso_cannot_get_in_with_a_password(client, dana_sso):
    sign_in_without_picking(client, dana_sso.person)
    page = client.get("/accounts/pick/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "single sign-on" in html
    assert "Tailspin" not in html and "Skyline" not in html
    # The session is over: nothing of the SSO membership is reachable.
    assert client.get("/customer/")["Location"].startswith("/accounts/login/")
    assert client.post("/accounts/pick/", {"membership": dana_sso.pk})["Location"].startswith("/accounts/login/")
    assert client.get("/api/v1/me/").status_code in (401, 403)


@pytest.mark.django_db
def test_id5_id6_disabled_membership_is_not_offered(client, dana_staff, dana_end_user):
    dana_end_user.enabled = False
    dana_end_user.save()
    response = sign_in_without_picking(client, dana_staff.person)
    # One reachable membership left: it is chosen without a picker.
    assert client.get(response["Location"])["Location"] == "/console/"
    page = client.get("/accounts/pick/")
    html = page.content.decode()
    assert "Litware" not in html and f'value="{dana_end_user.pk}"' not in html
    refused = client.post("/accounts/pick/", {"membership": dana_end_user.pk})
    assert refused.status_code == 200
    assert "Choose one of the listed accounts" in refused.content.decode()
    assert me(client) == dana_staff.pk
    assert client.get("/portal/").status_code == 404


@pytest.mark.django_db
def test_id5_only_disabled_memberships_means_no_access(client, user_org):
    user_org.enabled = False
    user_org.save()
    sign_in_without_picking(client, user_org.person)
    page = client.get("/accounts/pick/")
    assert page.status_code == 403
    assert "None of your accounts is enabled" in page.content.decode()
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_id5_posting_another_persons_membership_is_refused(client, user_org, admin, outsider):
    sign_in(client, user_org)
    for other in (admin, outsider):
        refused = client.post("/accounts/pick/", {"membership": other.pk})
        assert refused.status_code == 200
        assert "Choose one of the listed accounts" in refused.content.decode()
        assert me(client) == user_org.pk
    assert client.get("/console/").status_code == 404
    assert client.get("/portal/").status_code == 200
    assert not AuditEvent.objects.filter(action="membership.selected", actor_id__in=[admin.pk, outsider.pk]).exists()
