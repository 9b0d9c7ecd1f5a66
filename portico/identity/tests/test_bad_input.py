"""Malformed, oversized and wrong-type input to every sign-in and people page: never a 500.

Each form answers 200 with field errors (or 400 for a request it cannot read); the property
tests throw random and hostile values at every field, the plain tests pin down a few shapes.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import given

from portico import seed
from portico.api.models import ApiToken
from portico.identity.models import Invitation, InvitationPurpose, Membership, PhoneAuthenticator
from tests.bad_input import (
    FUZZ,
    NON_UTF8_BODIES,
    ONE_MB,
    assert_handled,
    encodings,
    form,
    has_field_error,
    post,
    text_value,
)
from tests.support import PASSWORD

FORM_ANSWERS = {200, 302, 400, 403, 404, 410, 429}
BIG_ID = "9" * 30


@pytest.fixture
def person_without_mfa(org_a):
    someone = seed.person("nomfa@contoso.test", PASSWORD, totp_secret=None, first_name="No", last_name="Mfa")
    return seed.end_user(someone, org_a)


@pytest.fixture
def at_mfa_setup(client, person_without_mfa):
    """Signed in with a password, made to set up a second factor before anything else."""
    response = client.post("/accounts/login/", {"login": "nomfa@contoso.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/portal/")["Location"] == "/accounts/mfa-setup/"
    return client


@pytest.fixture
def at_sms_verify(client, org_a):
    someone = seed.person("sms@contoso.test", PASSWORD, totp_secret=None)
    seed.end_user(someone, org_a)
    PhoneAuthenticator.objects.create(person=someone, phone="+4915112345678")
    client.post("/accounts/login/", {"login": "sms@contoso.test", "password": PASSWORD})
    assert client.get("/portal/")["Location"] == "/accounts/sms/verify/"
    return client


@pytest.fixture
def admin_client(signed_in, admin):
    # Signed in once per test, not per example: sign-ins are rate limited (ID-12).
    return signed_in(admin)


@pytest.fixture
def user_client(signed_in, user_org):
    return signed_in(user_org)


@pytest.fixture
def at_second_factor(client, user_org):
    response = client.post("/accounts/login/", {"login": user_org.person.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    return client


@pytest.fixture
def invitation_token(org_a):
    invited = seed.end_user(seed.person("invited@contoso.test", None, totp_secret=None), org_a)
    _invitation, token = Invitation.issue(invited, sent_by=None, purpose=InvitationPurpose.INVITE)
    return token


# Sign-in (ID-4, ID-12)


@FUZZ
@given(data=form(["login", "password", "remember", "next"]), encoding=encodings)
def test_login_form_survives_any_input(client, user_org, data, encoding):
    assert_handled(post(client, "/accounts/login/", data, encoding), FORM_ANSWERS)


@pytest.mark.parametrize(
    "data",
    [
        {"login": ONE_MB, "password": PASSWORD},
        {"login": "emma@contoso.test", "password": ONE_MB},
        {"login": ["emma@contoso.test", "x"], "password": [PASSWORD, PASSWORD]},
        {"login": "emma\x00@contoso.test", "password": PASSWORD},
        {"login": "", "password": ""},
        {},
    ],
    ids=["1mb-login", "1mb-password", "lists", "nul", "empty", "nothing"],
)
def test_login_bad_shapes_answer_with_field_errors(client, user_org, data):
    response = client.post("/accounts/login/", data)
    assert response.status_code == 200
    assert has_field_error(response)
    assert "_auth_user_id" not in client.session


@FUZZ
@given(data=form(["code"]), encoding=encodings)
def test_second_factor_code_survives_any_input(at_second_factor, data, encoding):
    assert_handled(post(at_second_factor, "/accounts/2fa/authenticate/", data, encoding), FORM_ANSWERS)


@FUZZ
@given(data=form(["email"]), encoding=encodings)
def test_forgot_password_survives_any_input(client, user_org, data, encoding):
    assert_handled(post(client, "/accounts/password/reset/", data, encoding), FORM_ANSWERS)


# Invitation (ID-1, ID-2)


@FUZZ
@given(data=form(["password1", "password2"]), encoding=encodings)
def test_invitation_with_valid_token_survives_any_input(client, invitation_token, data, encoding):
    assert_handled(post(client, f"/invitations/{invitation_token}/", data, encoding), FORM_ANSWERS)


@pytest.mark.parametrize(
    "data",
    [
        {"password1": ONE_MB, "password2": ONE_MB},
        {"password1": ["a-long-and-new-passphrase-7", "x"], "password2": "a-long-and-new-passphrase-7"},
        {"password1": "a-long-and-new\x00-passphrase-7", "password2": "a-long-and-new\x00-passphrase-7"},
        {"password1": "", "password2": ""},
    ],
    ids=["1mb", "list", "nul", "empty"],
)
def test_invitation_bad_passwords_answer_with_field_errors_and_leave_the_link_usable(client, invitation_token, data):
    response = client.post(f"/invitations/{invitation_token}/", data)
    assert response.status_code == 200
    assert has_field_error(response)
    assert Invitation.find_usable(invitation_token) is not None


@FUZZ
@given(token=text_value, data=form(["password1", "password2"]))
def test_invitation_with_invalid_token_survives_any_input(client, db, token, data):
    path = f"/invitations/{quote(token, safe='')}/"
    response = client.post(path, data)
    assert_handled(response, {404, 410})
    assert b"password1" not in response.content


# Second factor set-up (ID-2, ID-3)


def test_mfa_setup_page_ignores_posted_garbage(at_mfa_setup):
    for body in NON_UTF8_BODIES:
        response = at_mfa_setup.post("/accounts/mfa-setup/", body, content_type="application/x-www-form-urlencoded")
        assert_handled(response, {200, 405})


@FUZZ
@given(data=form(["code"]), encoding=encodings)
def test_authenticator_app_activation_survives_any_input(at_mfa_setup, data, encoding):
    assert_handled(post(at_mfa_setup, "/accounts/2fa/totp/activate/", data, encoding), FORM_ANSWERS)


@FUZZ
@given(data=form(["phone", "code"]), encoding=encodings)
def test_sms_setup_survives_any_input(at_mfa_setup, data, encoding):
    assert_handled(post(at_mfa_setup, "/accounts/sms/setup/", data, encoding), FORM_ANSWERS)


@pytest.mark.parametrize("phone", [ONE_MB, "\x00", ["+4915112345678", "12"], "+49 151 1234", "0049151", ""])
def test_sms_setup_bad_phone_answers_with_field_error(at_mfa_setup, phone):
    # Of a repeated field the form reads the last value.
    response = at_mfa_setup.post("/accounts/sms/setup/", {"phone": phone})
    assert response.status_code == 200 and has_field_error(response)
    assert not PhoneAuthenticator.objects.exists()


def test_sms_setup_bad_code_answers_with_field_error(at_mfa_setup):
    at_mfa_setup.post("/accounts/sms/setup/", {"phone": "+4915112345678"})
    for code in (ONE_MB, "\x00", "12345a", ["1", "2"], ""):
        response = at_mfa_setup.post("/accounts/sms/setup/", {"code": code})
        assert response.status_code == 200 and has_field_error(response), code
    assert not PhoneAuthenticator.objects.exists()


@FUZZ
@given(data=form(["code", "send"]), encoding=encodings)
def test_sms_verify_survives_any_input(at_sms_verify, data, encoding):
    assert_handled(post(at_sms_verify, "/accounts/sms/verify/", data, encoding), FORM_ANSWERS)


# Account picker and language (ID-5, ID-11)


@FUZZ
@given(data=form(["membership", "next"]), encoding=encodings, next_=text_value)
def test_account_picker_survives_any_input(admin_client, data, encoding, next_):
    assert_handled(post(admin_client, f"/accounts/pick/?next={quote(next_, safe='')}", data, encoding), FORM_ANSWERS)


@FUZZ
@given(data=form(["language", "next"]), encoding=encodings)
def test_language_switch_survives_any_input_signed_out(db, data, encoding):
    assert_handled(post(Client(), "/i18n/language/", data, encoding), FORM_ANSWERS)


@FUZZ
@given(data=form(["language", "next"]), encoding=encodings)
def test_language_switch_survives_any_input_signed_in(user_client, user_org, data, encoding):
    assert_handled(post(user_client, "/i18n/language/", data, encoding), FORM_ANSWERS)
    user_org.person.refresh_from_db()
    assert user_org.person.language in {"en", "pt-br", "ja", "de", "fr"}


# People pages (ID-1, ID-6, ID-7)


@FUZZ
@given(q=text_value, kind=text_value, page=text_value)
def test_people_list_survives_any_query(admin_client, q, kind, page):
    assert_handled(admin_client.get("/console/people/", {"q": q, "kind": kind, "page": page}), {200, 400})


INVITE_FIELDS = [
    "kind",
    "first_name",
    "last_name",
    "email",
    "phone",
    "organization",
    "all_organizations",
    "staff_role",
    "language",
    "security_type",
]


@FUZZ
@given(data=form(INVITE_FIELDS), encoding=encodings)
def test_invite_form_survives_any_input(admin_client, org_a, foreign_org, data, encoding):
    assert_handled(post(admin_client, "/console/people/invite/", data, encoding), FORM_ANSWERS)
    # Nothing lands in another partner's organization, whatever was posted.
    assert not Membership.objects.filter(organization=foreign_org).exists()


VALID_INVITE = {
    "kind": "end_user",
    "first_name": "Nia",
    "last_name": "New",
    "email": "nia@contoso.test",
    "phone": "",
    "organization": "",
    "staff_role": "",
    "language": "en",
    "security_type": "native",
}


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", ONE_MB),
        ("email", "not-an-email"),
        ("email", "nia\x00@contoso.test"),
        ("first_name", ONE_MB),
        ("last_name", "\x00"),
        ("phone", "+" + "9" * 40),
        ("organization", BIG_ID),
        ("organization", "abc"),
        ("organization", "-1"),
        ("kind", "owner"),
        ("staff_role", "owner"),
        ("language", "xx"),
        ("security_type", "sso"),
    ],
)
def test_invite_bad_field_answers_with_field_error_and_creates_nothing(signed_in, admin, org_a, field, value):
    client = signed_in(admin)
    before = Membership.objects.count()
    data = dict(VALID_INVITE, organization=str(org_a.pk))  # valid but for the one bad field
    data[field] = value
    if field == "staff_role":
        data["kind"] = "staff"
    response = client.post("/console/people/invite/", data)
    assert response.status_code == 200
    assert has_field_error(response)
    assert Membership.objects.count() == before


def test_invite_foreign_organization_is_refused(signed_in, admin, foreign_org):
    response = signed_in(admin).post("/console/people/invite/", dict(VALID_INVITE, organization=str(foreign_org.pk)))
    assert response.status_code == 200 and has_field_error(response)
    assert not Membership.objects.filter(organization=foreign_org).exists()


@FUZZ
@given(data=form(["enabled", "back"]), encoding=encodings)
def test_enable_disable_survives_any_input(admin_client, user_org, data, encoding):
    response = post(admin_client, f"/console/people/{user_org.pk}/enabled/", data, encoding)
    # 400 when the lists of 1 MB values together pass Django's 2.5 MB body limit.
    assert_handled(response, {302, 400})
    if response.status_code == 302:
        # The redirect never leaves the site.
        assert not response["Location"].startswith(("http:", "https:", "//"))


@FUZZ
@given(data=form(["back", "anything"]), encoding=encodings)
def test_reset_password_survives_any_input(admin_client, user_org, data, encoding):
    assert_handled(post(admin_client, f"/console/people/{user_org.pk}/reset-password/", data, encoding), {302, 400})


@pytest.mark.parametrize(
    "path",
    [
        f"/console/people/{BIG_ID}/enabled/",
        f"/console/people/{BIG_ID}/reset-password/",
        "/console/people/0/enabled/",
        f"/accounts/tokens/{BIG_ID}/revoke/",
        "/accounts/tokens/0/revoke/",
    ],
)
def test_out_of_range_ids_in_paths_are_404(signed_in, admin, path):
    response = signed_in(admin).post(path, {"enabled": "0"})
    assert response.status_code == 404


# Personal tokens page


@FUZZ
@given(data=form(["name"]), encoding=encodings)
def test_tokens_page_survives_any_input(user_client, data, encoding):
    assert_handled(post(user_client, "/accounts/tokens/", data, encoding), {200, 400})


@pytest.mark.parametrize("name", [ONE_MB, "x" * 101, "\x00", "", "   "])
def test_tokens_page_bad_name_answers_with_field_error(signed_in, user_org, name):
    response = signed_in(user_org).post("/accounts/tokens/", {"name": name})
    assert response.status_code == 200 and has_field_error(response)
    assert not ApiToken.objects.exists()


# Raw bodies no form can read


def signed_in_paths(admin, user_org):
    return [
        "/accounts/pick/",
        "/accounts/tokens/",
        "/i18n/language/",
        "/console/people/invite/",
        f"/console/people/{user_org.pk}/enabled/",
        f"/console/people/{user_org.pk}/reset-password/",
    ]


@pytest.mark.parametrize("body", NON_UTF8_BODIES)
@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=no-such-charset",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/json",
        "text/plain",
    ],
)
def test_non_utf8_bodies_never_cause_a_server_error(signed_in, admin, user_org, body, content_type):
    # generic() sends the bytes as they are; post() would re-encode them for the charset.
    anonymous = Client()
    for path in ["/accounts/login/", "/accounts/password/reset/", "/invitations/forged/", "/i18n/language/"]:
        assert_handled(anonymous.generic("POST", path, body, content_type=content_type))
    client = signed_in(admin)
    for path in signed_in_paths(admin, user_org):
        assert_handled(client.generic("POST", path, body, content_type=content_type))


def test_oversized_body_is_refused_with_400(signed_in, admin, user_org):
    too_big = {"name": "x" * 3_000_000}
    assert Client().post("/accounts/login/", {"login": "x" * 3_000_000}).status_code == 400
    client = signed_in(admin)
    # Reset password reads no form, so it never parses the body (the CSRF check does, in production).
    for path in signed_in_paths(admin, user_org)[:-1]:
        assert client.post(path, too_big).status_code == 400, path


def test_too_many_fields_is_refused_with_400(signed_in, admin):
    many = "&".join(f"f{n}=1" for n in range(2000))
    response = signed_in(admin).post("/console/people/invite/", many, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["%ff%fe", "q=%00", "page=" + BIG_ID, "kind[]=staff", "q=" + "x" * 100_000])
def test_people_list_odd_query_strings(signed_in, admin, query):
    assert_handled(signed_in(admin).get(f"/console/people/?{query}"), {200, 400})


@pytest.mark.parametrize("target", ["abc def", "nothing-to-reverse", "/a\r\nSet-Cookie: x=1", "/\x00"])
def test_odd_but_local_return_addresses_redirect_without_error(admin_client, user_org, admin, target):
    # A relative address that is no URL pattern name must not be looked up as one.
    response = admin_client.post(f"/console/people/{user_org.pk}/enabled/", {"enabled": "0", "back": target})
    assert response.status_code == 302
    assert "\n" not in response["Location"]
    response = admin_client.post(f"/accounts/pick/?next={quote(target, safe='')}", {"membership": admin.pk})
    assert response.status_code == 302
    assert "\n" not in response["Location"]
