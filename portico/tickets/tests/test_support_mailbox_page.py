"""Partner settings: the support mailbox (TK-7), for Owner and Super Admin only (PS-1)."""

from __future__ import annotations

import pytest

from portico.audit.models import AuditEvent
from portico.notifications import secrets
from portico.tickets.models import SupportMailbox

URL = "/console/settings/support-mailbox/"
FORM = {
    "address": "help@northwind.test", "host": "imap.northwind.test", "port": "993", "use_tls": "on",
    "username": "help", "folder": "INBOX", "enabled": "on", "password": "s3cret-imap", "save": "1",
}


@pytest.mark.django_db
def test_ps1_owner_saves_the_mailbox_password_encrypted_and_never_shown(owner, signed_in):
    client = signed_in(owner)
    response = client.post(URL, FORM)
    assert response.status_code == 302
    mailbox = SupportMailbox.objects.get(partner=owner.partner)
    assert mailbox.password_encrypted != "s3cret-imap" and secrets.decrypt(mailbox.password_encrypted) == "s3cret-imap"
    page = client.get(URL).content.decode()
    assert "help@northwind.test" in page and "s3cret-imap" not in page and mailbox.password_encrypted not in page
    event = AuditEvent.objects.get(action="support_mailbox.created")
    assert "s3cret" not in str(event.after) and event.after["password_set"] is True
    # Saving without a password keeps the stored one.
    client.post(URL, FORM | {"password": "", "host": "mail.northwind.test"})
    mailbox.refresh_from_db()
    assert mailbox.host == "mail.northwind.test" and secrets.decrypt(mailbox.password_encrypted) == "s3cret-imap"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "support", "finance", "user_org"])
def test_ps1_others_do_not_reach_the_support_mailbox(who, request, signed_in):
    client = signed_in(request.getfixturevalue(who))
    assert client.get(URL).status_code in (403, 404)
    assert client.post(URL, FORM).status_code in (403, 404)
    assert not SupportMailbox.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change", [{"port": "0"}, {"port": "99999999999999999999"}, {"address": "not an address"}, {"host": ""},
               {"host": "x" * 300}, {"password": ""}, {"folder": "a\x00b"}],
)
def test_bad_mailbox_settings_are_field_errors(owner, signed_in, change):
    response = signed_in(owner).post(URL, FORM | change)
    assert response.status_code == 200 and b"invalid-feedback" in response.content
    assert not SupportMailbox.objects.exists()


@pytest.mark.django_db
def test_unreachable_mailbox_is_saved_with_a_clear_message(owner, signed_in):
    response = signed_in(owner).post(URL, FORM | {"host": "127.0.0.1", "port": "1", "use_tls": "", "test": "1"}, follow=True)
    assert "could not be reached" in response.content.decode()
