"""Emails are written in the recipient's display language (ID-11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from portico.identity import services
from portico.identity.models import Invitation
from portico.notifications.models import OutboundEmail
from portico.seed import person

GERMAN_CATALOG = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.mo"


def invite_german_speaker(admin, org_a, django_capture_on_commit_callbacks) -> OutboundEmail:
    with django_capture_on_commit_callbacks(execute=True):
        services.invite(
            admin,
            services.InviteRequest(
                email="lena@contoso.test",
                kind="end_user",
                first_name="Lena",
                last_name="Lang",
                language="de",
                organization=org_a,
            ),
        )
    return OutboundEmail.objects.get(to="lena@contoso.test")


def rendered_subject(email: OutboundEmail, language: str) -> str:
    membership = Invitation.objects.get(membership__person__email=email.to).membership
    with translation.override(language):
        text = render_to_string("identity/email/invitation_subject.txt", {"membership": membership})
    return " ".join(text.split())


def test_id11_invitation_is_queued_in_the_invitees_language(admin, org_a, mailbox, django_capture_on_commit_callbacks):
    with translation.override("en"):
        email = invite_german_speaker(admin, org_a, django_capture_on_commit_callbacks)
        # Rendering in the recipient's language does not leak into the sender's request.
        assert translation.get_language() == "en"
    assert email.language == "de"
    assert email.subject == rendered_subject(email, "de")
    assert "/invitations/" in email.body_text and "/invitations/" in email.body_html
    [message] = mailbox.wait_for("lena@contoso.test")
    assert message["Subject"].strip() == email.subject  # a folded, encoded header parses with a leading space


@pytest.mark.skipif(
    not GERMAN_CATALOG.exists(), reason="no compiled German catalog (locale/de/LC_MESSAGES/django.mo) yet"
)
def test_id11_german_invitation_subject_and_body_differ_from_english(
    admin, org_a, mailbox, django_capture_on_commit_callbacks
):
    email = invite_german_speaker(admin, org_a, django_capture_on_commit_callbacks)
    english = rendered_subject(email, "en")
    assert email.subject != english
    assert "Contoso" in email.subject
    assert "Accept invitation" not in email.body_text
    [message] = mailbox.wait_for("lena@contoso.test")
    assert message["Subject"].strip() == email.subject != english


def test_id11_existing_person_is_written_to_in_their_own_language(admin, db, django_capture_on_commit_callbacks):
    # The invite form's language only applies to new people; someone known keeps theirs.
    person("marie@contoso.test", language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        services.invite(
            admin, services.InviteRequest(email="marie@contoso.test", kind="staff", staff_role="support", language="de")
        )
    assert OutboundEmail.objects.get(to="marie@contoso.test").language == "fr"


def test_id11_forgot_password_email_goes_through_the_outbox_in_the_persons_language(client, user_org, mailbox):
    user_org.person.language = "ja"
    user_org.person.save(update_fields=["language"])
    response = client.post("/accounts/password/reset/", {"email": user_org.person.email})
    assert response.status_code == 302
    email = OutboundEmail.objects.get(to=user_org.person.email)
    assert email.language == "ja"
