"""Enrolling a device with an organization's token (RA-4, DEV-1; docs/agent-protocol.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from rest_framework.test import APIClient

from portico.audit.models import AuditEvent
from portico.devices.models import Device
from portico.remote import services
from portico.remote.models import AgentCredential, EnrolmentToken, hash_secret

pytestmark = pytest.mark.django_db
ENROL = "/agent/v1/enrol"


def _enrol(raw: str, **fields):
    body = {"token": raw, "hostname": "pc-0417", "os_family": "linux", "os_version": "Debian 12",
            "agent_version": "0.1.0", **fields}
    return APIClient().post(ENROL, body, format="json")


def test_ra4_a_token_enrols_a_device_of_its_organization_with_its_own_credential(admin, org_a):
    token, raw = services.create_enrolment_token(admin, org_a, uses=2)
    response = _enrol(raw)
    assert response.status_code == 201
    body = response.json()
    device = Device.objects.get(pk=body["device_id"])
    assert (device.organization, device.partner_id, device.name, device.os_family, device.os_version) == (
        org_a, org_a.partner_id, "pc-0417", "linux", "Debian 12"
    )
    secret = body["credential"]
    stored = AgentCredential.objects.get(device=device)
    assert stored.secret_hash == hash_secret(secret) and secret not in stored.secret_hash
    assert services.authenticate(f"Bearer {device.pk}.{secret}") == stored
    token.refresh_from_db()
    assert (token.enrolled, token.uses_left) == (1, 1)
    assert body["heartbeat_seconds"] == services.heartbeat_seconds()
    assert AuditEvent.objects.filter(action="device.enrolled", object_id=str(device.pk)).exists()
    assert AuditEvent.objects.filter(action="agent.enrolment_token_created").count() == 1


@pytest.mark.parametrize("spoil", ["unknown", "expired", "revoked", "used_up"])
def test_ra4_a_bad_token_enrols_nothing_and_says_why(admin, org_a, spoil):
    token, raw = services.create_enrolment_token(admin, org_a, uses=1)
    if spoil == "unknown":
        raw += "x"
    elif spoil == "expired":
        EnrolmentToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif spoil == "revoked":
        services.revoke_enrolment_token(admin, token)
    else:
        assert _enrol(raw).status_code == 201
    before = Device.objects.count()
    response = _enrol(raw)
    assert response.status_code == 400
    assert list(response.json()) == ["token"]
    assert Device.objects.count() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"os_family": "beos"}, "os_family"), ({"hostname": ""}, "hostname"), ({"hostname": "x" * 300}, "hostname"),
     ({"token": None}, "token")],
)
def test_ra4_malformed_enrolment_gets_field_errors(admin, org_a, fields, field):
    _token, raw = services.create_enrolment_token(admin, org_a)
    response = _enrol(raw, **fields)
    assert response.status_code == 400 and field in response.json()
    assert not Device.objects.exists()


def test_ra4_a_body_that_is_not_json_is_a_400(db):
    response = APIClient().post(ENROL, "not json", content_type="application/json")
    assert response.status_code == 400


def test_grp3_tokens_only_for_organizations_within_reach(admin_scoped, org_a, org_b, outsider, user_org, finance):
    services.create_enrolment_token(admin_scoped, org_a)
    with pytest.raises(Http404):
        services.create_enrolment_token(admin_scoped, org_b)
    with pytest.raises(Http404):
        services.create_enrolment_token(outsider, org_a)
    with pytest.raises((Http404, PermissionDenied)):
        services.create_enrolment_token(user_org, org_a)
    with pytest.raises(PermissionDenied):
        services.create_enrolment_token(finance, org_a)


def test_token_lifetime_and_uses_are_bounded(admin, org_a):
    with pytest.raises(ValidationError) as error:
        services.create_enrolment_token(admin, org_a, days=0, uses=0)
    assert set(error.value.message_dict) == {"days", "uses"}


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer 1", "Bearer .secret", "Basic 1.secret", "Bearer x.secret", "Bearer 99999.secret",
     "Bearer " + "9" * 40 + ".secret"],
)
def test_ra4_malformed_or_unknown_credentials_are_refused(admin, org_a, header):
    _token, raw = services.create_enrolment_token(admin, org_a)
    assert _enrol(raw).status_code == 201
    assert services.authenticate(header) is None


def test_ra4_a_revoked_credential_is_refused_and_audited(admin, org_a):
    _token, raw = services.create_enrolment_token(admin, org_a)
    body = _enrol(raw).json()
    device = Device.objects.get(pk=body["device_id"])
    services.revoke_credential(admin, device)
    assert services.authenticate(f"Bearer {device.pk}.{body['credential']}") is None
    assert AuditEvent.objects.filter(action="agent.credential_revoked", object_id=str(device.pk)).exists()
    assert services.authenticate(f"Bearer {device.pk}.{body['credential']}x") is None
