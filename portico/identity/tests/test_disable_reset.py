"""Disabling a membership (ID-6), "Reset password" by an admin (ID-7), who may do either to whom
(PU-2), and the staff email that never changes (ID-10)."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from portico import seed
from portico.access.roles import StaffRole
from portico.api import services as api_services
from portico.audit import context
from portico.audit.models import AuditEvent
from portico.identity import services
from portico.identity.models import Invitation, InvitationPurpose, Membership, Person
from tests.support import PASSWORD, sign_in, text_body, totp_code

NEW_PASSWORD = "another-long-passphrase-31"


def disable(client, target, enabled: bool = False):
    return client.post(f"/console/people/{target.pk}/enabled/", {"enabled": "1" if enabled else "0"})


def reset(client, target):
    return client.post(f"/console/people/{target.pk}/reset-password/")


def link_from(message) -> str:
    match = re.search(r"(/invitations/[A-Za-z0-9_\-]+/)", text_body(message))
    assert match, text_body(message)
    return match.group(1)


def forget_used_totp_codes() -> None:
    # allauth refuses a TOTP code twice; these tests sign the same person in again within 30 s.
    cache.clear()


def acting_as(membership):
    """Services called outside a request: the audit context names the actor, as a request would."""
    return context.set_context(context.RequestContext(actor=membership))


def password_and_code(client, person, password: str = PASSWORD):
    response = client.post("/accounts/login/", {"login": person.email, "password": password})
    if response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/":
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(person)})
    return response


@pytest.fixture
def second_admin(partner):
    return seed.staff(seed.person("admin2@northwind.test", PASSWORD), partner, StaffRole.ADMIN)


# ID-6


@pytest.mark.django_db
def test_id6_disabling_ends_the_open_session_on_its_next_request(signed_in, admin, user_org):
    theirs = sign_in(Client(), user_org)
    assert theirs.get("/portal/").status_code == 200
    token, raw = api_services.create_token(user_org, "laptop")
    assert theirs.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    mine = signed_in(admin)
    response = disable(mine, user_org)
    assert response.status_code == 302
    assert "disabled and signed out" in mine.get(response["Location"]).content.decode()

    kicked = theirs.get("/portal/")
    assert kicked.status_code == 302
    assert kicked["Location"].startswith("/accounts/login/")
    assert "Your access was disabled" in theirs.get(kicked["Location"]).content.decode()
    assert theirs.get("/portal/")["Location"].startswith("/accounts/login/")
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401

    # Nothing is deleted.
    user_org.refresh_from_db()
    assert user_org.enabled is False
    assert Person.objects.filter(pk=user_org.person_id).exists()
    assert Authenticator.objects.filter(user=user_org.person).exists()
    event = AuditEvent.objects.get(action="membership.disabled")
    assert event.actor_id == admin.pk and event.object_id == str(user_org.pk)
    assert event.before["enabled"] is True and event.after["enabled"] is False


@pytest.mark.django_db
def test_id6_disabled_membership_cannot_sign_in_until_enabled_again(signed_in, admin, user_org):
    mine = signed_in(admin)
    disable(mine, user_org)
    theirs = Client()
    password_and_code(theirs, user_org.person)
    refused = theirs.get("/accounts/pick/")
    assert refused.status_code == 403
    assert "None of your accounts is enabled" in refused.content.decode()
    assert theirs.get("/portal/")["Location"].startswith("/accounts/login/")

    assert disable(mine, user_org, enabled=True).status_code == 302
    user_org.refresh_from_db()
    assert user_org.enabled
    forget_used_totp_codes()
    again = Client()
    password_and_code(again, user_org.person)
    assert again.get("/accounts/pick/")["Location"] == "/portal/"
    assert again.get("/portal/").status_code == 200
    assert AuditEvent.objects.filter(action="membership.enabled", object_id=str(user_org.pk)).exists()


@pytest.mark.django_db
def test_id6_disabling_one_membership_leaves_the_persons_other_sessions(signed_in, admin, org_a, partner):
    person = seed.person("dual@contoso.test", PASSWORD)
    as_end_user = seed.end_user(person, org_a)
    as_support = seed.staff(person, partner, StaffRole.SUPPORT)
    end_user_session = sign_in(Client(), as_end_user)
    forget_used_totp_codes()
    support_session = sign_in(Client(), as_support)

    disable(signed_in(admin), as_support)
    assert support_session.get("/console/")["Location"].startswith("/accounts/login/")
    assert end_user_session.get("/portal/").status_code == 200


@pytest.mark.django_db
def test_id6_disabled_staff_api_session_gets_401(signed_in, admin, support):
    theirs = sign_in(Client(), support)
    assert theirs.get("/api/v1/me/").status_code == 200
    disable(signed_in(admin), support)
    response = theirs.get("/api/v1/me/")
    assert response.status_code == 401
    assert "disabled" in response.json()["detail"]


@pytest.mark.django_db
def test_id6_admin_cannot_disable_themselves(signed_in, admin, owner):
    mine = signed_in(admin)
    assert disable(mine, admin).status_code == 403
    assert reset(mine, admin).status_code == 403
    with pytest.raises(PermissionDenied):
        services.set_enabled(admin, admin, False)
    with pytest.raises(PermissionDenied):
        services.set_enabled(owner, owner, False)
    admin.refresh_from_db()
    assert admin.enabled
    assert mine.get("/console/").status_code == 200


# PU-2: only strictly beneath one's own rank; out of reach is a 404, visible but not allowed a 403.


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor_name", "target_name", "expected"),
    [
        ("admin", "super_admin", 403),
        ("admin", "second_admin", 403),
        ("admin", "owner", 403),
        ("admin", "support", 302),
        ("admin", "finance", 302),
        ("admin", "user_org", 302),
        ("admin", "outsider", 404),
        ("support", "admin", 403),
        ("support", "finance", 403),
        ("support", "user_org", 302),
        ("finance", "support", 403),
        ("finance", "user_org", 404),
        ("super_admin", "owner", 403),
        ("super_admin", "admin", 302),
        ("owner", "super_admin", 302),
        ("owner", "outsider", 404),
    ],
)
def test_pu2_id6_disable_only_beneath_own_rank(request, client, actor_name, target_name, expected):
    actor = request.getfixturevalue(actor_name)
    target = request.getfixturevalue(target_name)
    sign_in(client, actor)
    assert disable(client, target).status_code == expected
    target.refresh_from_db()
    assert target.enabled is (expected != 302)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("actor_name", "target_name", "expected"),
    [
        ("admin", "super_admin", 403),
        ("admin", "second_admin", 403),
        ("admin", "support", 302),
        ("admin", "outsider", 404),
        ("support", "admin", 403),
        ("support", "user_org", 302),
        ("finance", "user_org", 404),
        ("owner", "super_admin", 302),
    ],
)
def test_pu2_id7_reset_password_only_beneath_own_rank(request, client, mailbox, actor_name, target_name, expected):
    actor = request.getfixturevalue(actor_name)
    target = request.getfixturevalue(target_name)
    sign_in(client, actor)
    assert reset(client, target).status_code == expected
    sent = Invitation.objects.filter(membership=target, purpose=InvitationPurpose.RESET).exists()
    assert sent is (expected == 302)
    if expected == 302:
        mailbox.wait_for(target.person.email)
    else:
        assert not mailbox.to(target.person.email)


@pytest.mark.django_db
def test_pu2_end_user_reaches_no_people_page(signed_in, user_org, admin):
    mine = signed_in(user_org)
    assert mine.get("/console/people/").status_code == 404
    assert disable(mine, admin).status_code == 404
    assert reset(mine, admin).status_code == 404


# ID-7


@pytest.mark.django_db(transaction=True)
def test_id7_reset_password_resends_invitation_and_the_new_password_replaces_the_old(
    signed_in, admin, user_org, mailbox
):
    person = user_org.person
    mine = signed_in(admin)
    assert reset(mine, user_org).status_code == 302
    [first] = mailbox.wait_for(person.email)
    first_link = link_from(first)
    assert reset(mine, user_org).status_code == 302
    second = mailbox.wait_for(person.email, count=2)[1]
    assert "Choose a new Portico password" in str(second["Subject"])
    second_link = link_from(second)
    assert first_link != second_link

    theirs = Client()
    # The earlier, unused link stopped working when the new one was sent.
    assert theirs.get(first_link).status_code == 410
    page = theirs.get(second_link)
    assert page.status_code == 200
    assert "Choose a new password" in page.content.decode() and 'name="password1"' in page.content.decode()
    done = theirs.post(second_link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert theirs.get(second_link).status_code == 410

    person.refresh_from_db()
    assert not person.check_password(PASSWORD) and person.check_password(NEW_PASSWORD)
    old = Client()
    assert old.post("/accounts/login/", {"login": person.email, "password": PASSWORD}).status_code == 200
    assert old.get("/portal/")["Location"].startswith("/accounts/login/")
    new = Client()
    password_and_code(new, person, NEW_PASSWORD)
    assert new.get("/accounts/pick/")["Location"] == "/portal/"
    assert new.get("/portal/").status_code == 200
    actions = list(AuditEvent.objects.filter(object_id=str(user_org.pk)).values_list("action", flat=True))
    assert actions.count("password.reset_sent") == 2 and "password.reset_completed" in actions


@pytest.mark.django_db(transaction=True)
def test_id7_staff_created_without_password_gets_in_through_the_invitation(signed_in, admin, mailbox):
    membership = services.invite(
        admin,
        services.InviteRequest(email="nopass@northwind.test", kind="staff", staff_role=StaffRole.SUPPORT),
    )
    person = membership.person
    assert not person.has_usable_password()
    assert Client().post("/accounts/login/", {"login": person.email, "password": ""}).status_code == 200
    link = link_from(mailbox.wait_for(person.email)[0])
    theirs = Client()
    assert theirs.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)


# ID-10


@pytest.mark.django_db
def test_id10_staff_email_cannot_be_changed(admin, support):
    with pytest.raises(ValidationError) as caught:
        services.change_email(admin, support, "someone.else@northwind.test")
    assert "email" in caught.value.message_dict
    support.person.refresh_from_db()
    assert support.person.email == "support@northwind.test"
    assert not AuditEvent.objects.filter(action="person.email_changed").exists()


@pytest.mark.django_db
def test_id10_end_user_who_is_also_staff_somewhere_keeps_their_email(admin, org_a, other_partner):
    person = seed.person("both@contoso.test", PASSWORD)
    as_end_user = seed.end_user(person, org_a)
    seed.staff(person, other_partner, StaffRole.SUPPORT)
    with pytest.raises(ValidationError) as caught:
        services.change_email(admin, as_end_user, "new.both@contoso.test")
    assert "email" in caught.value.message_dict
    person.refresh_from_db()
    assert person.email == "both@contoso.test"


@pytest.mark.django_db
def test_id10_end_user_email_changes_with_an_audit_event(client, admin, user_org):
    token = acting_as(admin)
    try:
        changed = services.change_email(admin, user_org, "  Emma.New@Contoso.test ")
    finally:
        context.reset_context(token)
    assert changed.email == "emma.new@contoso.test"
    event = AuditEvent.objects.get(action="person.email_changed")
    assert event.actor_id == admin.pk
    assert event.object_id == str(user_org.pk)
    assert event.before == {"email": "emma@contoso.test"} and event.after == {"email": "emma.new@contoso.test"}
    # The new address signs in; the old one no longer does.
    assert client.post("/accounts/login/", {"login": "emma@contoso.test", "password": PASSWORD}).status_code == 200
    response = client.post("/accounts/login/", {"login": "emma.new@contoso.test", "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"


@pytest.mark.django_db
def test_id10_email_change_is_refused_when_taken_or_not_allowed(admin, finance, user_org, support):
    with pytest.raises(ValidationError) as caught:
        services.change_email(admin, user_org, support.person.email)
    assert "email" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        services.change_email(finance, user_org, "emma.other@contoso.test")
    user_org.person.refresh_from_db()
    assert user_org.person.email == "emma@contoso.test"
    assert Membership.objects.filter(pk=user_org.pk).exists()
