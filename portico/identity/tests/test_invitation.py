"""Invitation → password → MFA set-up → portal (ID-1, ID-2)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.identity import services
from portico.identity.models import Invitation, Membership
from tests.support import PASSWORD, text_body

NEW_PASSWORD = "a-long-and-new-passphrase-7"


def invite_end_user(actor, org, email="new.user@contoso.test", **extra):
    return services.invite(
        actor,
        services.InviteRequest(email=email, kind="end_user", first_name="Nia", last_name="New", organization=org, **extra),
    )


def link_from(message) -> str:
    match = re.search(r"(/invitations/[A-Za-z0-9_\-]+/)", text_body(message))
    assert match, text_body(message)
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_id1_invitation_email_has_single_use_link_stored_as_hash(admin, org_a, mailbox):
    membership = invite_end_user(admin, org_a)
    [message] = mailbox.wait_for("new.user@contoso.test")
    assert "Accept invitation" in text_body(message)
    path = link_from(message)
    token = path.split("/")[2]
    invitation = Invitation.objects.get(membership=membership)
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert invitation.expires_at - invitation.created_at == timedelta(hours=24)


@pytest.mark.django_db(transaction=True)
def test_id2_accept_sets_password_then_requires_mfa_before_anything_else(client, admin, org_a, mailbox):
    invite_end_user(admin, org_a)
    path = link_from(mailbox.wait_for("new.user@contoso.test")[0])
    weak = client.post(path, {"password1": "password", "password2": "password"})
    assert weak.status_code == 200 and "is-invalid" in weak.content.decode()
    response = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    # Anything but the MFA set-up is out of reach until a method exists.
    assert client.get("/portal/")["Location"] == "/accounts/mfa-setup/"
    assert client.get("/accounts/pick/")["Location"] == "/accounts/mfa-setup/"
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.content.decode()) or re.search(
        r'value="([A-Z2-7]{32})"', page.content.decode()
    )
    assert secret
    done = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret.group(1)).now()})
    assert done.status_code == 302
    # Recovery codes are shown next; continuing leads to the membership's portal.
    assert client.get(done["Location"]).status_code == 200
    assert client.get("/accounts/pick/")["Location"] == "/portal/"
    portal = client.get("/portal/")
    assert portal.status_code == 200
    assert "Contoso" in portal.content.decode()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"membership.created", "invitation.sent", "invitation.accepted", "mfa.added"} <= actions


@pytest.mark.django_db(transaction=True)
def test_id1_used_link_shows_clear_page_and_offers_nothing(client, admin, org_a, mailbox):
    invite_end_user(admin, org_a)
    path = link_from(mailbox.wait_for("new.user@contoso.test")[0])
    client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.logout()
    again = client.get(path)
    assert again.status_code == 410
    assert "no longer valid" in again.content.decode()
    assert "password1" not in again.content.decode()


@pytest.mark.django_db(transaction=True)
def test_id1_expired_and_forged_links_are_refused_alike(client, admin, org_a, mailbox):
    membership = invite_end_user(admin, org_a)
    path = link_from(mailbox.wait_for("new.user@contoso.test")[0])
    Invitation.objects.filter(membership=membership).update(expires_at=timezone.now() - timedelta(seconds=1))
    for url in (path, "/invitations/forged-token/", "/invitations/" + "x" * 500 + "/"):
        response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 410
    membership.person.refresh_from_db()
    assert not membership.person.has_usable_password()


@pytest.mark.django_db(transaction=True)
def test_id1_existing_person_gets_membership_without_new_password(client, admin, user_org, mailbox):
    person = user_org.person
    old_hash = person.password
    added = services.invite(admin, services.InviteRequest(email=person.email.upper(), kind="staff", staff_role="support"))
    assert added.person_id == person.pk
    path = link_from(mailbox.wait_for(person.email)[0])
    page = client.get(path)
    assert "password1" not in page.content.decode()
    client.post(path)
    person.refresh_from_db()
    assert person.password == old_hash
    assert Membership.objects.filter(person=person).count() == 2
    assert person.check_password(PASSWORD)
