"""Partner settings: who may open them (PS-1) and the staff MFA requirement they hold (ID-3)."""

from __future__ import annotations

import pytest

from portico.audit.models import AuditEvent
from portico.tenancy.models import Partner
from tests.support import sign_in

pytestmark = pytest.mark.django_db


def form(partner: Partner, **changes) -> dict:
    data = {
        "name": partner.name,
        "country": partner.country,
        "default_language": partner.default_language,
        "require_staff_mfa": "on" if partner.require_staff_mfa else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


@pytest.mark.parametrize("role", ["owner", "super_admin"])
def test_ps1_owner_and_super_admin_change_settings(client, role, request, partner):
    sign_in(client, request.getfixturevalue(role))
    response = client.post("/console/settings/", form(partner, country="de", require_staff_mfa=""))
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.country == "DE"
    assert partner.require_staff_mfa is False
    event = AuditEvent.objects.get(action="partner.settings_changed")
    assert event.before["require_staff_mfa"] is True and event.after["require_staff_mfa"] is False


@pytest.mark.parametrize("role", ["admin", "finance", "support"])
def test_ps1_other_staff_cannot_open_settings(client, role, request, partner):
    sign_in(client, request.getfixturevalue(role))
    assert client.get("/console/settings/").status_code == 404
    assert client.post("/console/settings/", form(partner, name="Hijacked")).status_code == 404
    partner.refresh_from_db()
    assert partner.name != "Hijacked"
    assert "/console/settings/" not in client.get("/console/").content.decode()


def test_ps1_end_user_cannot_open_settings(client, user_org):
    sign_in(client, user_org)
    assert client.get("/console/settings/").status_code == 404


def test_ps1_bad_input_is_a_field_error_and_changes_nothing(client, owner, partner):
    sign_in(client, owner)
    response = client.post("/console/settings/", form(partner, country="X1", name="x" * 5000, default_language="xx"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("invalid-feedback") >= 3
    partner.refresh_from_db()
    assert partner.name == "Northwind IT"


def test_id3_partner_setting_decides_whether_staff_need_mfa(client, partner, admin):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=admin.person).delete()
    response = client.post("/accounts/login/", {"login": admin.person.email, "password": "correct-horse-battery-42"})
    assert response.status_code == 302
    assert client.get("/console/")["Location"] == "/accounts/mfa-setup/"
    Partner.objects.filter(pk=partner.pk).update(require_staff_mfa=False)
    client.get("/accounts/pick/")
    assert client.get("/console/").status_code == 200
