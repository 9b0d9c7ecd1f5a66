"""Events recorded during a request carry who acted, where from and which request (AUD-1)."""

from __future__ import annotations

from portico.audit.models import AuditEvent
from portico.identity.models import Membership


def test_aud1_disabling_through_people_page_records_actor_org_ip_and_request(signed_in, admin, user_org, org_a):
    client = signed_in(admin)
    response = client.post(f"/console/people/{user_org.pk}/enabled/", {"enabled": "0"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    assert not Membership.objects.get(pk=user_org.pk).enabled
    event = AuditEvent.objects.get(action="membership.disabled")
    assert event.actor_id == admin.pk
    assert event.actor_email == "admin@northwind.test"
    assert event.impersonator_id is None
    assert event.partner_id == admin.partner_id
    assert event.organization_id == org_a.pk
    assert (event.object_type, event.object_id) == ("identity.membership", str(user_org.pk))
    assert event.ip == "203.0.113.9"
    assert event.request_id and event.request_id == response["X-Request-ID"]
    assert event.before["enabled"] is True and event.after["enabled"] is False
    assert event.hash == event.compute_hash()


def test_aud1_each_request_gets_its_own_request_id(signed_in, admin, user_org):
    client = signed_in(admin)
    first = client.post(f"/console/people/{user_org.pk}/enabled/", {"enabled": "0"})
    second = client.post(f"/console/people/{user_org.pk}/enabled/", {"enabled": "1"})
    disabled = AuditEvent.objects.get(action="membership.disabled")
    enabled = AuditEvent.objects.get(action="membership.enabled")
    assert disabled.request_id == first["X-Request-ID"]
    assert enabled.request_id == second["X-Request-ID"]
    assert disabled.request_id != enabled.request_id
    assert enabled.actor_id == disabled.actor_id == admin.pk


def test_aud1_api_call_with_token_records_the_token_membership(client, user_org):
    from portico.api.services import create_token

    _token, raw = create_token(user_org, "laptop")
    response = client.post(
        "/api/v1/tokens/",
        {"name": "ci"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        REMOTE_ADDR="198.51.100.20",
    )
    assert response.status_code == 201
    event = AuditEvent.objects.filter(action="api_token.created").latest("seq")
    assert event.actor_id == user_org.pk
    assert event.actor_email == "emma@contoso.test"
    assert event.organization_id == user_org.organization_id
    assert event.ip == "198.51.100.20"
    assert event.request_id == response["X-Request-ID"]


def test_aud1_events_outside_a_request_carry_no_request_data(admin, user_org):
    from portico.identity import services

    services.set_enabled(admin, user_org, False)
    event = AuditEvent.objects.get(action="membership.disabled")
    assert event.ip is None and event.request_id == ""
