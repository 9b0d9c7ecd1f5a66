"""SMS as a second factor (ID-3), against a real HTTP gateway on loopback that speaks the
protocol of `portico.identity.sms` and keeps what it was sent."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pyotp
import pytest
from django.conf import settings as django_settings

from portico import seed
from portico.audit.models import AuditEvent
from portico.identity import sms
from portico.identity.models import PhoneAuthenticator
from tests.support import PASSWORD

GATEWAY_TOKEN = "gateway-secret-token"
PHONE = "+4915112345678"


class FakeSmsGateway:
    """Accepts POST {"to", "message"} and records it with the Authorization header it came with."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 200
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with gateway._lock:
                    gateway.received.append(
                        {
                            "path": self.path,
                            "authorization": self.headers.get("Authorization"),
                            "content_type": self.headers.get("Content-Type"),
                            **json.loads(body),
                        }
                    )
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if gateway.status < 300 else b'{"error": "down"}')

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeSmsGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def messages_to(self, phone: str) -> list[dict]:
        with self._lock:
            return [m for m in self.received if m["to"] == phone]

    def last_code(self, phone: str = PHONE) -> str:
        messages = self.messages_to(phone)
        assert messages, f"no SMS to {phone}"
        match = re.search(r"\b(\d{6})\b", messages[-1]["message"])
        assert match, messages[-1]["message"]
        return match.group(1)


@pytest.fixture
def sms_gateway(settings):
    gateway = FakeSmsGateway().start()
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_TOKEN = GATEWAY_TOKEN
    yield gateway
    gateway.stop()


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def person_without_mfa(email: str):
    return seed.person(email, PASSWORD, totp_secret=None, first_name="Sam", last_name="Sms")


@pytest.fixture
def user_sms_only(org_a):
    """An end user of Contoso whose only second factor is SMS."""
    person = person_without_mfa("sam@contoso.test")
    PhoneAuthenticator.objects.create(person=person, phone=PHONE)
    return seed.end_user(person, org_a)


def password_step(client, membership):
    response = client.post("/accounts/login/", {"login": membership.person.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return response


@pytest.mark.django_db
def test_id3_sms_set_up_sends_code_through_gateway_and_confirms_it(client, org_a, sms_gateway):
    membership = seed.end_user(person_without_mfa("nia@contoso.test"), org_a)
    password_step(client, membership)
    assert client.get("/accounts/pick/")["Location"] == "/accounts/mfa-setup/"
    assert "/accounts/sms/setup/" in client.get("/accounts/mfa-setup/").content.decode()

    bad_phone = client.post("/accounts/sms/setup/", {"phone": "0151 1234"})
    assert bad_phone.status_code == 200 and not sms_gateway.received
    response = client.post("/accounts/sms/setup/", {"phone": PHONE})
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()
    [message] = sms_gateway.messages_to(PHONE)
    assert message["authorization"] == f"Bearer {GATEWAY_TOKEN}"
    code = sms_gateway.last_code()
    # Only a keyed hash of the code stays in the session.
    challenge = client.session[sms.SESSION_KEY]
    assert "code" not in challenge and challenge["digest"] != code

    wrong = client.post("/accounts/sms/setup/", {"code": other_code(code)})
    assert wrong.status_code == 200
    assert "Incorrect or expired code" in wrong.content.decode()
    assert not PhoneAuthenticator.objects.filter(person=membership.person).exists()

    done = client.post("/accounts/sms/setup/", {"code": code})
    assert done.status_code == 302
    assert PhoneAuthenticator.objects.get(person=membership.person).phone == PHONE
    assert client.get("/accounts/pick/")["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert AuditEvent.objects.filter(action="mfa.added", actor_email=membership.person.email).exists()


@pytest.mark.django_db
def test_id3_sms_only_person_is_stopped_at_verify_and_right_code_lets_them_in(client, user_sms_only, sms_gateway):
    response = password_step(client, user_sms_only)
    assert client.get(response["Location"])["Location"] == "/accounts/sms/verify/"
    for path in ("/portal/", "/console/", "/accounts/tokens/"):
        assert client.get(path)["Location"] == "/accounts/sms/verify/", path
    assert client.get("/api/v1/me/").status_code == 403

    page = client.get("/accounts/sms/verify/")
    assert page.status_code == 200
    assert "•••••••••••678" in page.content.decode()
    assert PHONE not in page.content.decode()
    code = sms_gateway.last_code()

    wrong = client.post("/accounts/sms/verify/", {"code": other_code(code)})
    assert wrong.status_code == 200
    assert "Incorrect or expired code" in wrong.content.decode()
    assert client.get("/portal/")["Location"] == "/accounts/sms/verify/"
    assert AuditEvent.objects.filter(action="mfa.failed", actor_email=user_sms_only.person.email).exists()

    right = client.post("/accounts/sms/verify/", {"code": code})
    assert right.status_code == 302
    assert client.get("/accounts/pick/")["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert client.get("/api/v1/me/").json()["membership"]["id"] == user_sms_only.pk


@pytest.mark.django_db
def test_id3_sms_only_person_cannot_skip_the_code_by_adding_another_method(client, user_sms_only, sms_gateway):
    password_step(client, user_sms_only)
    # Someone holding only the password confirms it again, then tries to add their own method.
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    for path in (
        "/accounts/2fa/",
        "/accounts/2fa/totp/activate/",
        "/accounts/2fa/webauthn/add/",
        "/accounts/2fa/recovery-codes/generate/",
        "/accounts/sms/setup/",
    ):
        assert client.get(path)["Location"] == "/accounts/sms/verify/", path
    secret = pyotp.random_base32()
    client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})
    client.post("/accounts/sms/setup/", {"phone": "+15550001111"})
    assert not sms_gateway.messages_to("+15550001111")
    assert not user_sms_only.person.authenticator_set.exists()
    assert client.get("/portal/")["Location"] == "/accounts/sms/verify/"


@pytest.mark.django_db
def test_id3_sms_code_is_single_use(client, user_sms_only, sms_gateway):
    password_step(client, user_sms_only)
    client.get("/accounts/sms/verify/")
    code = sms_gateway.last_code()
    assert client.post("/accounts/sms/verify/", {"code": code}).status_code == 302
    assert client.get("/accounts/pick/")["Location"] == "/portal/"
    client.post("/accounts/logout/")

    password_step(client, user_sms_only)
    client.get("/accounts/sms/verify/")
    fresh = sms_gateway.last_code()
    assert len(sms_gateway.messages_to(PHONE)) == 2
    if fresh != code:
        replay = client.post("/accounts/sms/verify/", {"code": code})
        assert replay.status_code == 200
        assert "Incorrect or expired code" in replay.content.decode()
        assert client.get("/portal/")["Location"] == "/accounts/sms/verify/"
    assert client.post("/accounts/sms/verify/", {"code": fresh}).status_code == 302
    # Spent within this session too: the challenge is gone once it has been used.
    again = client.post("/accounts/sms/verify/", {"code": fresh})
    assert "Incorrect or expired code" in again.content.decode()


@pytest.mark.django_db
def test_id3_sms_code_expires(client, user_sms_only, sms_gateway, monkeypatch):
    password_step(client, user_sms_only)
    client.get("/accounts/sms/verify/")
    code = sms_gateway.last_code()
    later = time.time() + django_settings.SMS_CODE_TTL_SECONDS + 1
    monkeypatch.setattr(sms, "time", SimpleNamespace(time=lambda: later))
    expired = client.post("/accounts/sms/verify/", {"code": code})
    assert expired.status_code == 200
    assert "Incorrect or expired code" in expired.content.decode()
    assert client.get("/portal/")["Location"] == "/accounts/sms/verify/"


@pytest.mark.django_db
def test_id3_five_wrong_sms_codes_kill_the_challenge(client, user_sms_only, sms_gateway):
    password_step(client, user_sms_only)
    client.get("/accounts/sms/verify/")
    code = sms_gateway.last_code()
    for _ in range(sms.MAX_ATTEMPTS):
        assert client.post("/accounts/sms/verify/", {"code": other_code(code)}).status_code == 200
    dead = client.post("/accounts/sms/verify/", {"code": code})
    assert dead.status_code == 200
    assert "Incorrect or expired code" in dead.content.decode()
    assert client.get("/portal/")["Location"] == "/accounts/sms/verify/"
    # A new code (a new challenge) is needed.
    client.post("/accounts/sms/verify/", {"send": "1"})
    assert client.post("/accounts/sms/verify/", {"code": sms_gateway.last_code()}).status_code == 302
    assert client.get("/accounts/pick/")["Location"] == "/portal/"


@pytest.mark.django_db
def test_id3_gateway_error_shows_clear_message_at_verify(client, user_sms_only, sms_gateway):
    sms_gateway.status = 500
    password_step(client, user_sms_only)
    page = client.get("/accounts/sms/verify/")
    assert page.status_code == 200
    assert "The text message could not be sent" in page.content.decode()
    assert client.get("/portal/")["Location"] == "/accounts/sms/verify/"
    # Once the gateway is back, asking again delivers a code that works.
    sms_gateway.status = 200
    client.post("/accounts/sms/verify/", {"send": "1"})
    assert client.post("/accounts/sms/verify/", {"code": sms_gateway.last_code()}).status_code == 302


@pytest.mark.django_db
def test_id3_gateway_error_shows_clear_message_at_set_up(client, org_a, sms_gateway):
    sms_gateway.status = 500
    membership = seed.end_user(person_without_mfa("nia@contoso.test"), org_a)
    password_step(client, membership)
    response = client.post("/accounts/sms/setup/", {"phone": PHONE})
    assert response.status_code == 200
    assert "The text message could not be sent" in response.content.decode()
    assert 'name="phone"' in response.content.decode()
    assert not PhoneAuthenticator.objects.filter(person=membership.person).exists()


@pytest.mark.django_db
def test_id3_unreachable_gateway_shows_clear_message(client, user_sms_only, sms_gateway, settings):
    sms_gateway.stop()
    password_step(client, user_sms_only)
    page = client.get("/accounts/sms/verify/")
    assert page.status_code == 200
    assert "The text message could not be sent" in page.content.decode()


def test_id3_http_gateway_sends_json_with_bearer_token(sms_gateway):
    sms.HttpSmsGateway(sms_gateway.url, "t0ken-123").send("+15551234567", "Your Portico code is 123456")
    [message] = sms_gateway.received
    assert message["authorization"] == "Bearer t0ken-123"
    assert message["content_type"] == "application/json"
    assert message["to"] == "+15551234567"
    assert message["message"] == "Your Portico code is 123456"
    assert message["path"] == "/messages"


def test_id3_http_gateway_raises_on_error_status(sms_gateway):
    sms_gateway.status = 500
    with pytest.raises(sms.SmsGatewayError, match="500"):
        sms.HttpSmsGateway(sms_gateway.url, GATEWAY_TOKEN).send(PHONE, "hello")


@pytest.mark.django_db
def test_id3_new_sms_codes_are_limited_per_phone(client, user_sms_only, sms_gateway):
    """ID-3/ID-12: asking for code after code cannot turn five tries per code into unlimited guessing."""
    password_step(client, user_sms_only)
    for _ in range(sms.MAX_SENDS + 1):
        client.post("/accounts/sms/verify/", {"send": "1"})
    assert len(sms_gateway.messages_to(PHONE)) == sms.MAX_SENDS
    page = client.post("/accounts/sms/verify/", {"send": "1"}, follow=True).content.decode()
    assert "Too many codes" in page
