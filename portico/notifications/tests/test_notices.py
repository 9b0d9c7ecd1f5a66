"""In-app notices (DASH-3) published by the platform operator in the Django admin, and the
first-login welcome (DASH-5), as partners' staff see them on the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portico import seed
from portico.audit.models import AuditEvent
from portico.notifications.models import Notice, NoticeDismissal, Welcome
from tests.support import PASSWORD, sign_in, totp_code

pytestmark = pytest.mark.django_db

CONSOLE = "/console/"


def _notice(title: str, **fields) -> Notice:
    fields.setdefault("body", f"About {title}.")
    return Notice.objects.create(title=title, **fields)


def _shown(client) -> set[str]:
    page = client.get(CONSOLE).content.decode()
    return {notice.title for notice in Notice.objects.all() if f'id="notice-{notice.pk}"' in page}


# DASH-3: which notices a staff user sees.


def test_dash3_notices_for_every_partner_and_for_ones_own_partner_are_shown(signed_in, owner, other_partner, partner):
    _notice("Maintenance tonight")
    _notice("Your invoice", partner=partner)
    _notice("Their invoice", partner=other_partner)
    assert _shown(signed_in(owner)) == {"Maintenance tonight", "Your invoice"}


def test_dash3_notices_outside_their_publication_are_hidden(signed_in, owner):
    now = timezone.now()
    _notice("Now")
    _notice("Until tomorrow", published_from=now - timedelta(days=1), published_until=now + timedelta(days=1))
    _notice("Next week", published_from=now + timedelta(days=7))
    _notice("Over", published_from=now - timedelta(days=7), published_until=now - timedelta(days=1))
    assert _shown(signed_in(owner)) == {"Now", "Until tomorrow"}


def test_dash3_each_level_has_its_style(signed_in, owner):
    for level in ("info", "warning", "danger", "success"):
        _notice(f"A {level} notice", level=level)
    page = signed_in(owner).get(CONSOLE).content.decode()
    for level in ("info", "warning", "danger", "success"):
        assert f'class="alert alert-{level} ' in page


def test_dash3_notice_text_is_escaped(signed_in, owner):
    _notice("<script>alert(1)</script>", body="<b>bold</b>")
    page = signed_in(owner).get(CONSOLE).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_dash3_customers_and_end_users_see_no_notices(user_org):
    from portico.notifications.notices import visible_notices

    _notice("For staff")
    assert visible_notices(user_org) == []


# DASH-3: dismissing.


def test_dash3_a_dismissed_notice_stays_dismissed_for_that_person_only(signed_in, owner, admin):
    notice = _notice("Maintenance tonight")
    client = signed_in(owner)
    response = client.post(f"/console/notices/{notice.pk}/dismiss/")
    assert response.status_code == 302 and response["Location"] == CONSOLE
    assert _shown(client) == set()
    assert _shown(sign_in(Client(), admin)) == {"Maintenance tonight"}
    event = AuditEvent.objects.get(action="notice.dismissed")
    assert event.actor == owner and event.object_id == str(notice.pk)


def _switch(client, membership) -> None:
    """ID-5: switching membership needs no second sign-in."""
    assert client.post("/accounts/pick/", {"membership": membership.pk}).status_code == 302


def test_dash3_dismissing_follows_the_person_into_their_other_memberships(signed_in, owner, other_partner):
    notice = _notice("Everyone")
    elsewhere = seed.staff(owner.person, other_partner, "admin")
    client = signed_in(owner)
    client.post(f"/console/notices/{notice.pk}/dismiss/")
    _switch(client, elsewhere)
    assert _shown(client) == set()


def test_dash3_dismissing_twice_changes_nothing_and_htmx_gets_an_empty_answer(signed_in, owner):
    notice = _notice("Once")
    client = signed_in(owner)
    for _ in range(2):
        response = client.post(f"/console/notices/{notice.pk}/dismiss/", headers={"HX-Request": "true"})
        assert response.status_code == 200 and response.content == b""
    assert NoticeDismissal.objects.count() == 1
    assert AuditEvent.objects.filter(action="notice.dismissed").count() == 1


def test_dash3_a_notice_not_published_to_you_cannot_be_dismissed(signed_in, owner, other_partner):
    theirs = _notice("Theirs", partner=other_partner)
    future = _notice("Later", published_from=timezone.now() + timedelta(days=1))
    client = signed_in(owner)
    assert client.post(f"/console/notices/{theirs.pk}/dismiss/").status_code == 404
    assert client.post(f"/console/notices/{future.pk}/dismiss/").status_code == 404
    assert client.post("/console/notices/999999/dismiss/").status_code == 404
    assert client.get(f"/console/notices/{theirs.pk}/dismiss/").status_code == 405
    assert not NoticeDismissal.objects.exists()


# DASH-5: the first-login welcome.


def test_dash5_welcome_until_get_started_then_never_again(signed_in, owner, admin):
    client = signed_in(owner)
    assert 'data-testid="welcome"' in client.get(CONSOLE).content.decode()
    assert 'data-testid="welcome"' in client.get(CONSOLE).content.decode()  # until they choose
    response = client.post("/console/welcome/done/")
    assert response.status_code == 302 and response["Location"] == CONSOLE
    assert 'data-testid="welcome"' not in client.get(CONSOLE).content.decode()
    assert 'data-testid="welcome"' in sign_in(Client(), admin).get(CONSOLE).content.decode()
    assert Welcome.objects.get().membership == owner
    assert AuditEvent.objects.filter(action="welcome.done", actor=owner).count() == 1


def test_dash5_the_welcome_belongs_to_the_membership(signed_in, owner, other_partner):
    elsewhere = seed.staff(owner.person, other_partner, "admin")
    client = signed_in(owner)
    client.post("/console/welcome/done/")
    _switch(client, elsewhere)
    assert 'data-testid="welcome"' in client.get(CONSOLE).content.decode()
    _switch(client, owner)
    assert 'data-testid="welcome"' not in client.get(CONSOLE).content.decode()


def test_dash5_get_started_is_a_post(signed_in, owner):
    assert signed_in(owner).get("/console/welcome/done/").status_code == 405
    assert not Welcome.objects.exists()


# The platform operator's site (Django admin under /operator/).


@pytest.fixture
def operator(db):
    return seed.person("operator@portico.test", PASSWORD, first_name="Opal", is_platform_operator=True)


def _operator_client(person) -> Client:
    client = Client()
    response = client.post("/accounts/login/?next=/operator/", {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(person)})
    assert response.status_code == 302 and response["Location"] == "/operator/"
    return client


def test_dash3_the_operator_publishes_a_notice_in_the_admin(operator, partner, signed_in, owner):
    client = _operator_client(operator)
    assert client.get("/operator/").status_code == 200
    assert client.get("/operator/notifications/notice/add/").status_code == 200
    now = timezone.now()
    response = client.post(
        "/operator/notifications/notice/add/",
        {
            "title": "Storage upgrade",
            "body": "New storage arrives on Friday.",
            "level": "warning",
            "partner": partner.pk,
            "published_from_0": now.date().isoformat(),
            "published_from_1": (now - timedelta(minutes=5)).strftime("%H:%M:%S"),
            "published_until_0": "",
            "published_until_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    notice = Notice.objects.get(title="Storage upgrade")
    assert notice.level == "warning" and notice.partner == partner
    event = AuditEvent.objects.get(action="notice.published")
    assert event.actor_email == operator.email and event.object_id == str(notice.pk)
    assert client.get("/operator/notifications/notice/").status_code == 200
    assert _shown(signed_in(owner)) == {"Storage upgrade"}


def test_dash3_the_operator_site_does_not_exist_for_partner_staff(signed_in, owner):
    client = signed_in(owner)
    for path in ("/operator/", "/operator/notifications/notice/add/", "/operator/login/"):
        assert client.get(path).status_code == 404
    response = client.post("/operator/login/", {"username": owner.person.email, "password": PASSWORD})
    assert response.status_code == 404


def test_dash3_the_operator_site_sends_strangers_to_portico_sign_in(operator):
    response = Client().get("/operator/")
    assert response.status_code == 302
    login = Client().get(response["Location"])
    assert login.status_code == 302 and login["Location"].startswith("/accounts/login/?next=")
    # The admin's own password-only form is never offered.
    response = Client().post("/operator/login/", {"username": operator.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
