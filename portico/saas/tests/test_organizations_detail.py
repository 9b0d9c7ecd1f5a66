"""An organization's details, its credential page and the reset password sent to its admin (ORG-8),
within the staff user's reach only (GRP-3); every change is audited (AUD-1)."""

from __future__ import annotations

import re

import pytest

from portico import seed
from portico.audit.models import AuditEvent
from portico.identity.models import Invitation
from portico.saas.models import Subscription
from tests.support import text_body

pytestmark = pytest.mark.django_db

LIST = "/console/organizations/"
GIB = 1024**3


def details(sub: Subscription) -> str:
    return f"{LIST}{sub.pk}/"


def credentials(sub: Subscription) -> str:
    return f"{LIST}{sub.pk}/credentials/"


def reset(sub: Subscription) -> str:
    return f"{LIST}{sub.pk}/reset-password/"


def section(html: str, name: str) -> str:
    start = html.index(f'data-section="{name}"')
    return html[start : html.find("</section>", start)]


@pytest.fixture
def plan(partner):
    return seed.plan(partner, "Business Backup", "backup", price="3.50")


@pytest.fixture
def contoso(org_a, plan):
    admin = seed.customer_user(seed.person("ida@contoso.test", first_name="Ida", last_name="Admin"), org_a)
    return seed.subscription(
        org_a, plan, admin=admin, contact_email="ida@contoso.test", country="US", paid_seats=10, storage_gib=20,
        journaling_enabled=True, journaling_address="journal@contoso.test",
    )


@pytest.fixture
def fabrikam(org_b, plan):
    return seed.subscription(org_b, plan, admin=seed.customer_user(seed.person("it@fabrikam.test"), org_b))


@pytest.fixture
def litware(foreign_org, other_partner):
    return seed.subscription(
        foreign_org, seed.plan(other_partner, "Backup", "backup"),
        admin=seed.customer_user(seed.person("it@litware.test"), foreign_org),
    )


@pytest.fixture
def deleted(partner, plan):
    org = seed.organization(partner, "Gone Inc")
    return seed.subscription(org, plan, status="deleted", admin=seed.customer_user(seed.person("it@gone.test"), org))


def test_org8_details_show_every_section(owner, signed_in, org_a, contoso):
    seed.account(org_a, "ann@contoso.test", sections=[("email", "success", 10, 3 * GIB)])
    seed.account(org_a, "bob@contoso.test", sections=[("email", "success", 1, GIB)])
    seed.account(org_a, "ann@contoso.test", "drive", sections=[("drive", "success", 1, GIB)])
    seed.account(org_a, "Sales", "sharepoint", external_id="site-1", status="deleted")
    seed.customer_user(seed.person("zoe@contoso.test", first_name="Zoe", last_name="User"), org_a, enabled=False)
    response = signed_in(owner).get(details(contoso))
    assert response.status_code == 200
    html = response.content.decode()
    general = section(html, "general")
    for text in ["Contoso", str(contoso.pk), "ida@contoso.test", "Ida Admin", "US", "Active"]:
        assert text in general, text
    subscription = section(html, "subscription")
    for text in ["Business Backup", "Backup", "3.50 USD per seat and month", 'data-seats="3/10"',
                 f'data-storage="{5 * GIB}/{20 * GIB}"']:
        assert text in subscription, text
    # Features: product types with accounts, deleted ones left out, in ACC-1's order.
    assert re.findall(r"data-feature>(\w+) <span[^>]*>(\d+)<", section(html, "features")) == [("Email", "2"), ("Drives", "1")]
    logins = section(html, "login-accounts")
    assert logins.index("ida@contoso.test") < logins.index("zoe@contoso.test")
    assert "Zoe User" in logins and "Disabled" in logins
    assert "Enabled" in section(html, "journaling") and "journal@contoso.test" in section(html, "journaling")
    assert "OK" in section(html, "credentials") and credentials(contoso) not in html


def test_org8_details_link_the_credential_page_when_authentication_is_needed(owner, signed_in, contoso):
    Subscription.objects.filter(pk=contoso.pk).update(credential_status="need_auth", credential_error="AADSTS50173: grant revoked")
    html = signed_in(owner).get(details(contoso)).content.decode()
    creds = section(html, "credentials")
    assert "Need authentication" in creds and "AADSTS50173: grant revoked" in creds and credentials(contoso) in creds


def test_org8_details_of_a_deleted_organization_are_not_viewable(owner, signed_in, deleted):
    client = signed_in(owner)
    for url in (details(deleted), credentials(deleted)):
        response = client.get(url)
        assert response.status_code == 403
        html = response.content.decode()
        assert "The details of deleted organizations are not viewable." in html
        assert 'data-section="general"' not in html and "it@gone.test" not in html


@pytest.mark.parametrize("url", [details, credentials])
def test_grp3_another_partners_or_out_of_scope_organization_is_a_404(
    admin_scoped, owner, signed_in, client, contoso, fabrikam, litware, url
):
    scoped = signed_in(admin_scoped)
    assert scoped.get(url(contoso)).status_code in (200, 302)
    assert scoped.get(url(fabrikam)).status_code == 404
    assert scoped.get(url(litware)).status_code == 404
    client.logout()
    assert signed_in(owner).get(url(litware)).status_code == 404


@pytest.mark.parametrize("pk", ["0", "999999", "99999999999999999999"])
def test_unknown_organization_is_a_404(owner, signed_in, pk):
    client = signed_in(owner)
    assert client.get(f"{LIST}{pk}/").status_code == 404
    assert client.post(f"{LIST}{pk}/reset-password/").status_code == 404


def test_finance_sees_details_but_no_login_accounts_nor_reset(finance, signed_in, contoso):
    html = signed_in(finance).get(details(contoso)).content.decode()
    assert "Contoso" in section(html, "general")
    assert "ida@contoso.test" not in section(html, "login-accounts")
    assert reset(contoso) not in html
    assert "Your role (Finance) does not log in to customer portals." in html


# The credential page.


def test_org8_credential_page_explains_and_changes_nothing(owner, signed_in, contoso):
    Subscription.objects.filter(pk=contoso.pk).update(credential_status="need_auth", credential_error="Consent revoked")
    client = signed_in(owner)
    events = AuditEvent.objects.count()
    response = client.get(credentials(contoso))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Consent revoked" in html and "Need authentication" in html and "ida@contoso.test" in html
    assert "<form" not in html.split('id="main"')[1]  # nothing to submit: re-authentication is the admin's
    assert AuditEvent.objects.count() == events
    assert Subscription.objects.get(pk=contoso.pk).credential_status == "need_auth"


def test_org8_credential_page_redirects_to_details_when_credentials_work(owner, signed_in, contoso):
    client = signed_in(owner)
    response = client.get(credentials(contoso))
    assert response.status_code == 302 and response["Location"] == details(contoso)
    assert "nothing needs authentication" in client.get(details(contoso)).content.decode()


# Send reset password.


def test_org8_reset_password_emails_the_contact_and_is_audited(
    owner, signed_in, contoso, mailbox, django_capture_on_commit_callbacks
):
    client = signed_in(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reset(contoso), {"next": f"{LIST}?status=active&q=con"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?status=active&q=con"
    message = mailbox.wait_for("ida@contoso.test")[0]
    link = re.search(r"/invitations/[\w-]+/", text_body(message))
    assert link is not None
    invitation = Invitation.objects.get(membership=contoso.admin)
    assert invitation.purpose == "reset" and invitation.sent_by == owner
    event = AuditEvent.objects.get(action="password.reset_sent")
    assert event.actor == owner and event.organization_id == contoso.pk and event.object_id == str(contoso.admin.pk)
    assert "A password reset link is on its way to ida@contoso.test" in client.get(LIST).content.decode()


def test_org8_reset_password_returns_only_to_this_site(owner, signed_in, contoso):
    response = signed_in(owner).post(reset(contoso), {"next": "https://evil.test/phish"})
    assert response["Location"] == LIST


def test_org8_reset_password_needs_a_post(owner, signed_in, contoso, mailbox):
    assert signed_in(owner).get(reset(contoso)).status_code == 405
    assert not mailbox.messages


@pytest.mark.parametrize("who", ["finance", "support"])
def test_org8_reset_password_refused_to_roles_that_may_not(request, who, signed_in, contoso, mailbox):
    assert signed_in(request.getfixturevalue(who)).post(reset(contoso)).status_code == 403
    assert not Invitation.objects.exists() and not AuditEvent.objects.filter(action="password.reset_sent").exists()


def test_org8_reset_password_not_for_deleted_or_out_of_reach(owner, admin_scoped, signed_in, client, deleted, fabrikam, litware):
    owner_client = signed_in(owner)
    assert owner_client.post(reset(deleted)).status_code == 403
    assert owner_client.post(reset(litware)).status_code == 404
    client.logout()
    assert signed_in(admin_scoped).post(reset(fabrikam)).status_code == 404
    assert not Invitation.objects.exists()
