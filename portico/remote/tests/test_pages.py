"""The technician's pages of the agent: enrolment tokens and revoking an agent (RA-4, GRP-3)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portico.remote import services
from portico.remote.models import AgentCredential, EnrolmentToken, hash_secret
from tests.support import sign_in

pytestmark = pytest.mark.django_db


def test_ra4_a_technician_makes_a_token_and_sees_it_once_with_the_commands(client, admin, org_a):
    sign_in(client, admin)
    page = client.post(reverse("remote:enrol_devices"), {"organization": org_a.pk, "days": 3, "uses": 5})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]
    raw = page.context["raw"]
    token = EnrolmentToken.objects.get()
    assert token.token_hash == hash_secret(raw) and token.uses_left == 5 and token.organization == org_a
    text = page.content.decode()
    assert f"portico-agent enrol --server http://testserver --token {raw}" in text
    # Shown once: nothing else shows the token again.
    assert raw not in client.get(reverse("devices:list")).content.decode()


def test_grp3_a_scoped_admin_enrols_only_into_their_organizations(client, admin_scoped, org_a, org_b):
    sign_in(client, admin_scoped)
    form = client.get(reverse("remote:enrol_devices"))
    assert list(form.context["form"].fields["organization"].queryset) == [org_a]
    page = client.post(reverse("remote:enrol_devices"), {"organization": org_b.pk, "days": 7})
    assert page.status_code == 200 and "organization" in page.context["form"].errors
    assert not EnrolmentToken.objects.exists()


@pytest.mark.parametrize("days", ["0", "91", "x", ""])
def test_bad_input_a_bad_lifetime_is_a_field_error(client, admin, org_a, days):
    sign_in(client, admin)
    page = client.post(reverse("remote:enrol_devices"), {"organization": org_a.pk, "days": days})
    assert page.status_code == 200 and "days" in page.context["form"].errors
    assert not EnrolmentToken.objects.exists()


def test_end_users_and_finance_cannot_enrol(client, user_org, finance):
    sign_in(client, user_org)
    assert client.get(reverse("remote:enrol_devices")).status_code == 404
    client.logout()
    sign_in(client, finance)
    assert client.get(reverse("remote:enrol_devices")).status_code == 403


def test_ra4_the_device_page_shows_its_agent_and_revokes_it(client, admin, org_a):
    _token, raw = services.create_enrolment_token(admin, org_a)
    device, _credential = services.enrol(services.Enrolment(raw, "pc-0417", "linux", agent_version="0.1.0"))
    sign_in(client, admin)
    page = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert "0.1.0" in page and reverse("remote:revoke_agent", args=[device.pk]) in page
    response = client.post(reverse("remote:revoke_agent", args=[device.pk]))
    assert response.status_code == 302
    assert AgentCredential.objects.get(device=device).revoked_at is not None


def test_grp3_revoking_an_agent_out_of_reach_is_a_404(client, admin, admin_scoped, org_b):
    _token, raw = services.create_enrolment_token(admin, org_b)
    device, _credential = services.enrol(services.Enrolment(raw, "pc-0418", "linux"))
    sign_in(client, admin_scoped)
    assert client.post(reverse("remote:revoke_agent", args=[device.pk])).status_code == 404
    assert AgentCredential.objects.get(device=device).revoked_at is None


def test_consent_before_sessions_is_chosen_per_organization_and_audited(client, admin, org_a):
    from portico.audit.models import AuditEvent
    from portico.remote.models import RemoteAccessSettings
    from portico.remote.sessions import consent_of

    assert consent_of(org_a.pk) == "notify"  # the default
    sign_in(client, admin)
    url = reverse("remote:organization_settings", args=[org_a.pk])
    assert client.get(url).status_code == 200
    answer = client.post(url, {"consent": "ask"})
    assert answer.status_code == 302
    assert RemoteAccessSettings.objects.get(organization=org_a).consent == "ask"
    event = AuditEvent.objects.get(action="remote.settings_changed")
    assert (event.before, event.after) == ({"consent": "notify"}, {"consent": "ask"})
    page = client.post(url, {"consent": "whenever"})
    assert page.status_code == 200 and page.context["form"].errors["consent"]
    assert consent_of(org_a.pk) == "ask"


@pytest.mark.parametrize("who, status", [("support", 403), ("finance", 403), ("admin_scoped", 404)])
def test_only_who_changes_an_organization_chooses_its_consent(client, request, org_b, who, status):
    sign_in(client, request.getfixturevalue(who))
    url = reverse("remote:organization_settings", args=[org_b.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"consent": "none"}).status_code == status
