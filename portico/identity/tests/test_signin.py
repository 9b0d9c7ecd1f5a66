"""Later sign-ins: password then the second factor (ID-4), the MFA gate (ID-3), lock-out after
failures (ID-12) and "Forgot password" (ID-7)."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

from portico import seed
from portico.audit.models import AuditEvent
from tests.support import PASSWORD, text_body, totp_code

NEW_PASSWORD = "a-fresh-and-long-passphrase-9"
WRONG_PASSWORD = "not-the-right-password-1"


def password_step(client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def person_without_mfa(email: str):
    return seed.person(email, PASSWORD, totp_secret=None, first_name="Nomfa", last_name="Person")


@pytest.mark.django_db
def test_id4_password_then_totp_leads_to_the_portal(client, user_org):
    response = password_step(client, user_org.person.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    # Between the two steps the person is not signed in: the portal sends them back to sign in.
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(user_org.person)})
    assert response.status_code == 302
    assert client.get("/accounts/pick/")["Location"] == "/portal/"
    portal = client.get("/portal/")
    assert portal.status_code == 200
    assert "Contoso" in portal.content.decode()


@pytest.mark.django_db
def test_id4_wrong_password_is_refused_without_reaching_the_mfa_step(client, user_org):
    response = password_step(client, user_org.person.email, WRONG_PASSWORD)
    assert response.status_code == 200
    assert "/accounts/2fa/authenticate/" not in response.get("Location", "")
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_id4_wrong_totp_code_is_refused(client, user_org):
    password_step(client, user_org.person.email)
    right = totp_code(user_org.person)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post("/accounts/2fa/authenticate/", {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(action="mfa.failed", actor_email=user_org.person.email).exists()


@pytest.mark.django_db
def test_id3_recovery_code_works_once(client, user_org):
    person = user_org.person
    code = RecoveryCodes.activate(person).get_unused_codes()[0]
    password_step(client, person.email)
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert client.get("/accounts/pick/")["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    client.post("/accounts/logout/")

    password_step(client, person.email)
    again = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert again.status_code == 200
    assert "Incorrect code" in again.content.decode()
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")
    recovery = RecoveryCodes(Authenticator.objects.get(user=person, type=Authenticator.Type.RECOVERY_CODES))
    assert code not in recovery.get_unused_codes()


@pytest.mark.django_db
def test_id3_end_user_without_mfa_is_held_at_set_up_and_reaches_nothing_else(client, org_a):
    membership = seed.end_user(person_without_mfa("nomfa@contoso.test"), org_a)
    response = password_step(client, membership.person.email)
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == "/accounts/mfa-setup/"
    assert client.get("/accounts/mfa-setup/").status_code == 200
    for path in ("/portal/", "/console/", "/customer/", "/console/people/", "/accounts/tokens/", "/"):
        assert client.get(path)["Location"] == "/accounts/mfa-setup/", path
    # Picking the membership directly is held at the gate too.
    picked = client.post("/accounts/pick/", {"membership": membership.pk})
    assert picked["Location"] == "/accounts/mfa-setup/"
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert "multi-factor" in api.json()["detail"]
    assert client.get("/api/v1/tokens/").status_code == 403


@pytest.mark.django_db
def test_id3_staff_without_mfa_reaches_console_when_partner_does_not_require_it(client, partner):
    partner.require_staff_mfa = False
    partner.save()
    membership = seed.staff(person_without_mfa("relaxed@northwind.test"), partner, "support")
    response = password_step(client, membership.person.email)
    assert response.status_code == 302
    assert client.get("/accounts/pick/")["Location"] == "/console/"
    console = client.get("/console/")
    assert console.status_code == 200
    assert "Northwind IT" in console.content.decode()


@pytest.mark.django_db
def test_id3_staff_without_mfa_is_held_at_set_up_when_partner_requires_it(client, partner):
    assert partner.require_staff_mfa
    membership = seed.staff(person_without_mfa("strict@northwind.test"), partner, "support")
    password_step(client, membership.person.email)
    assert client.get("/accounts/pick/")["Location"] == "/accounts/mfa-setup/"
    assert client.get("/console/")["Location"] == "/accounts/mfa-setup/"
    assert client.get("/api/v1/me/").status_code == 403


@pytest.mark.django_db
def test_id12_five_failures_lock_the_address_even_for_the_right_password(client, user_org):
    email = user_org.person.email
    for _ in range(5):
        response = password_step(client, email, WRONG_PASSWORD)
        assert response.status_code == 200
        assert "Too many failed login attempts" not in response.content.decode()
    locked = password_step(client, email, PASSWORD)
    assert locked.status_code == 200
    assert "Too many failed login attempts" in locked.content.decode()
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_id12_lock_is_per_address(client, user_org, admin):
    for _ in range(5):
        password_step(client, user_org.person.email, WRONG_PASSWORD)
    response = password_step(client, admin.person.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"


@pytest.mark.django_db
def test_id12_failed_and_successful_sign_ins_are_audited(client, user_org):
    email = user_org.person.email
    password_step(client, email, WRONG_PASSWORD)
    password_step(client, "nobody@nowhere.test", WRONG_PASSWORD)
    failed = AuditEvent.objects.filter(action="sign_in.failed")
    assert set(failed.values_list("actor_email", flat=True)) == {email, "nobody@nowhere.test"}
    assert not AuditEvent.objects.filter(action="sign_in.succeeded").exists()

    password_step(client, email)
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(user_org.person)})
    succeeded = AuditEvent.objects.get(action="sign_in.succeeded")
    assert succeeded.actor_email == email
    assert succeeded.object_id == str(user_org.person.pk)


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", text_body(message))
    assert match, text_body(message)
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_id7_forgot_password_email_lets_the_person_choose_a_new_one(client, user_org, mailbox):
    person = user_org.person
    page = client.get("/accounts/password/reset/")
    assert page.status_code == 200
    response = client.post("/accounts/password/reset/", {"email": person.email})
    assert response.status_code == 302
    [message] = mailbox.wait_for(person.email)
    link = reset_link(message)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_password_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    assert "password1" in form_page.content.decode()
    done = client.post(set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302

    # The link is spent.
    assert "password1" not in client.get(link, follow=True).content.decode()

    old = password_step(client, person.email, PASSWORD)
    assert old.status_code == 200
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")
    new = password_step(client, person.email, NEW_PASSWORD)
    assert new.status_code == 302
    assert new["Location"] == "/accounts/2fa/authenticate/"
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(person)})
    assert client.get("/accounts/pick/")["Location"] == "/portal/"


@pytest.mark.django_db(transaction=True)
def test_id7_forgot_password_for_unknown_address_reveals_nothing(client, mailbox, user_org):
    known = client.post("/accounts/password/reset/", {"email": user_org.person.email})
    unknown = client.post("/accounts/password/reset/", {"email": "ghost@nowhere.test"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    mailbox.wait_for(user_org.person.email)
    assert not any("/reset/key/" in text_body(m) for m in mailbox.to("ghost@nowhere.test"))
