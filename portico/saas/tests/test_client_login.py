"""Log in as client (ORG-7): who may open an organization's customer portal as its admin (GRP-3),
what the visit reaches, how it ends, and the audit trail of it with the impersonator (CP-6, AUD-1)."""

from __future__ import annotations

import time

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from portico import seed
from portico.audit import context
from portico.audit.models import AuditEvent
from portico.identity import services as identity
from portico.saas import impersonation
from portico.saas.models import SubscriptionStatus
from tests.support import PASSWORD, sign_in

VISIT_ROLES = ["owner", "super_admin"]


@pytest.fixture
def contoso_admin(org_a):
    return seed.customer_user(seed.person("it@contoso.test", PASSWORD, first_name="Ines", last_name="Tanaka"), org_a)


@pytest.fixture
def contoso(partner, org_a, contoso_admin):
    """org_a's subscription, its admin, and two accounts with their backup results."""
    subscription = seed.subscription(org_a, seed.plan(partner, "Business Backup"), paid_seats=10, admin=contoso_admin)
    seed.account(org_a, "emma@contoso.test", sections=[("email", "success", 10, 1000), ("calendar", "failed", 1, 10)])
    seed.account(org_a, "Contoso Intranet", "sharepoint", sections=[("files", "success", 5, 5000)])
    return subscription


@pytest.fixture
def fabrikam(partner, org_b):
    admin = seed.customer_user(seed.person("it@fabrikam.test", PASSWORD), org_b)
    subscription = seed.subscription(org_b, seed.plan(partner, "Archiver", "archiver"), admin=admin)
    seed.account(org_b, "ops@fabrikam.test")
    return subscription


@pytest.fixture
def litware(foreign_org):
    admin = seed.customer_user(seed.person("it@litware.test", PASSWORD), foreign_org)
    return seed.subscription(foreign_org, seed.plan(foreign_org.partner, "Backup"), admin=admin)


@pytest.fixture
def visiting(signed_in, contoso):
    """`visiting(staff)`: the test client signed in as `staff`, in Contoso's customer portal."""

    def visit(staff):
        client = signed_in(staff)
        response = client.post(log_in_url(contoso))
        assert response.status_code == 302 and response["Location"] == "/customer/", response.content[:300]
        return client

    return visit


def log_in_url(subscription) -> str:
    return f"/console/organizations/{subscription.pk}/log-in-as-client/"


def events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("seq")


def messages_of(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def visit_marker(client):
    return client.session.get(impersonation.SESSION_KEY)


# Who may log in as client (ORG-7, GRP-3)


@pytest.mark.parametrize("role", VISIT_ROLES)
def test_org7_owner_and_super_admin_open_the_customer_portal_as_its_admin(request, role, visiting, contoso, contoso_admin):
    staff = request.getfixturevalue(role)
    client = visiting(staff)
    marker = visit_marker(client)
    assert marker["admin"] == contoso_admin.pk and marker["organization"] == contoso.organization_id
    # The staff membership stays the session's own: nothing of the sign-in was replaced.
    assert client.session["membership_id"] == staff.pk

    page = client.get("/customer/")
    assert page.status_code == 200
    assert page.context["membership"] == contoso_admin
    assert page.wsgi_request.impersonator == staff
    assert "emma@contoso.test" in page.content.decode() and "Contoso Intranet" in page.content.decode()


def test_org7_grp3_admin_logs_in_as_client_within_their_groups(visiting, admin_scoped):
    client = visiting(admin_scoped)
    assert client.get("/customer/").status_code == 200


def test_org7_grp3_admin_gets_404_for_an_organization_outside_their_groups(signed_in, admin_scoped, fabrikam):
    client = signed_in(admin_scoped)
    assert client.post(log_in_url(fabrikam)).status_code == 404
    assert visit_marker(client) is None
    assert not events("client_login.started").exists()


@pytest.mark.parametrize("role", ["admin", "support"])
def test_org7_grp3_admin_or_support_without_groups_is_refused_with_the_reason(request, role, signed_in, contoso):
    """GRP-3: managing no group, they see every organization but log in as client to none: 403, not 404."""
    client = signed_in(request.getfixturevalue(role))
    response = client.post(log_in_url(contoso))
    assert response.status_code == 403
    assert "You manage no group" in response.content.decode()
    assert visit_marker(client) is None
    assert not events("client_login.started").exists()


def test_org7_finance_is_refused(signed_in, finance, contoso):
    client = signed_in(finance)
    response = client.post(log_in_url(contoso))
    assert response.status_code == 403
    assert "does not log in to customer portals" in response.content.decode()
    assert visit_marker(client) is None


def test_org7_deleted_organization_is_refused(signed_in, owner, contoso):
    contoso.status = SubscriptionStatus.DELETED
    contoso.save(update_fields=["status"])
    client = signed_in(owner)
    response = client.post(log_in_url(contoso))
    assert response.status_code == 403
    assert "The organization is deleted." in response.content.decode()
    assert visit_marker(client) is None


def test_org7_organization_without_an_enabled_admin_is_refused(signed_in, owner, contoso, contoso_admin):
    contoso_admin.enabled = False
    contoso_admin.save(update_fields=["enabled"])
    response = signed_in(owner).post(log_in_url(contoso))
    assert response.status_code == 403
    assert "no enabled admin" in response.content.decode()


def test_org7_another_partners_organization_is_404(signed_in, outsider, owner, contoso, litware):
    client = signed_in(owner)
    assert client.post(log_in_url(litware)).status_code == 404
    assert visit_marker(client) is None
    assert sign_in(Client(), outsider).post(log_in_url(contoso)).status_code == 404
    assert client.post("/console/organizations/999999/log-in-as-client/").status_code == 404


def test_org7_only_a_post_starts_a_visit(signed_in, owner, contoso):
    client = signed_in(owner)
    assert client.get(log_in_url(contoso)).status_code == 405
    assert visit_marker(client) is None


def test_org7_a_customer_user_cannot_log_in_as_client(signed_in, contoso, contoso_admin):
    assert signed_in(contoso_admin).post(log_in_url(contoso)).status_code == 404


# The audit trail (AUD-1, CP-6)


def test_aud1_start_is_audited_with_the_impersonator(visiting, owner, contoso, contoso_admin):
    visiting(owner)
    started = events("client_login.started").get()
    assert started.actor_id == owner.pk and started.impersonator_id == owner.pk
    assert started.organization_id == contoso.organization_id and started.partner_id == owner.partner_id
    assert (started.object_type, started.object_id) == ("identity.membership", str(contoso_admin.pk))
    assert started.after["admin"] == "it@contoso.test"


def test_cp6_what_happens_during_the_visit_is_the_admins_with_the_staff_user_as_impersonator(visiting, owner, contoso_admin):
    client = visiting(owner)
    client.get("/customer/?q=emma")
    viewed = events("customer.accounts_viewed").get()
    assert viewed.actor_id == contoso_admin.pk and viewed.actor_email == "it@contoso.test"
    assert viewed.impersonator_id == owner.pk
    assert viewed.organization_id == contoso_admin.organization_id
    assert viewed.after == {"q": "emma", "page": 1}


def test_org7_back_to_the_partner_portal_ends_the_visit(visiting, owner, contoso_admin):
    client = visiting(owner)
    response = client.post("/customer/end-client-login/")
    assert response.status_code == 302 and response["Location"] == "/console/organizations/"
    assert visit_marker(client) is None
    ended = events("client_login.ended").get()
    assert ended.actor_id == owner.pk and ended.impersonator_id == owner.pk
    assert ended.after["reason"] == "returned"
    assert (ended.object_type, ended.object_id) == ("identity.membership", str(contoso_admin.pk))
    # The staff user's own pages are theirs again, the customer portal is not.
    assert client.get("/accounts/tokens/").status_code == 200
    assert client.get("/customer/").status_code == 404
    after = client.get("/accounts/tokens/")
    assert after.wsgi_request.impersonator is None and after.wsgi_request.membership == owner


def test_org7_ending_without_a_visit_changes_nothing(signed_in, owner):
    client = signed_in(owner)
    response = client.post("/customer/end-client-login/")
    assert response.status_code == 302
    assert not events("client_login.ended").exists()


def test_org7_signing_out_during_a_visit_records_its_end(visiting, owner):
    client = visiting(owner)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    ended = events("client_login.ended").get()
    assert ended.after["reason"] == "signed_out" and ended.impersonator_id == owner.pk
    # The sign-out itself is the staff user's own act, after the visit.
    sign_out = events("sign_out").get()
    assert sign_out.pk > ended.pk and sign_out.actor_id == owner.pk and sign_out.impersonator_id is None
    assert client.get("/customer/").status_code == 302  # signed out: to the sign-in page


# The visit ends as soon as it is no longer allowed (GRP-3, ID-6)


def test_grp3_group_scope_removed_mid_visit_ends_it_on_the_next_request(visiting, admin_scoped, org_a, org_b):
    client = visiting(admin_scoped)
    group = admin_scoped.managed_groups.get()
    group.organizations.set([org_b])
    response = client.get("/customer/")
    assert response.status_code == 302 and response["Location"] == "/console/organizations/"
    assert visit_marker(client) is None
    ended = events("client_login.ended").get()
    assert ended.after["reason"] == "not_allowed" and ended.impersonator_id == admin_scoped.pk
    assert "no longer within your reach" in messages_of(response)
    assert not events("customer.accounts_viewed").exists()


def test_grp3_losing_every_group_mid_visit_ends_it_with_the_reason(visiting, admin_scoped):
    client = visiting(admin_scoped)
    admin_scoped.managed_groups.get().delete()
    response = client.get("/customer/")
    assert response["Location"] == "/console/organizations/"
    assert "You manage no group" in messages_of(response)


def test_id6_staff_user_disabled_mid_visit_ends_it_and_the_session(visiting, owner, admin_scoped):
    client = visiting(admin_scoped)
    token = context.set_context(context.RequestContext(actor=owner))
    try:
        identity.set_enabled(owner, admin_scoped, False)
    finally:
        context.reset_context(token)
    response = client.get("/customer/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    ended = events("client_login.ended").get()
    assert ended.after["reason"] == "access_disabled" and ended.actor_id == admin_scoped.pk
    assert client.get("/customer/").status_code == 302
    assert events("client_login.ended").count() == 1


def test_org7_organization_deleted_mid_visit_ends_it(visiting, owner, contoso):
    client = visiting(owner)
    contoso.status = SubscriptionStatus.DELETED
    contoso.save(update_fields=["status"])
    response = client.get("/customer/")
    assert response["Location"] == "/console/organizations/"
    assert events("client_login.ended").get().after["reason"] == "not_allowed"
    assert "The organization is deleted." in messages_of(response)


def test_org7_another_admin_mid_visit_ends_it(visiting, owner, contoso, org_a):
    client = visiting(owner)
    contoso.admin = seed.customer_user(seed.person("new-it@contoso.test", PASSWORD), org_a)
    contoso.save(update_fields=["admin"])
    response = client.get("/customer/")
    assert response["Location"] == "/console/organizations/"
    assert "another admin" in messages_of(response)


def test_org7_a_visit_ends_after_its_maximum_length(visiting, owner):
    client = visiting(owner)
    session = client.session
    session[impersonation.SESSION_KEY]["started_at"] = time.time() - impersonation.MAX_MINUTES * 60 - 1
    session.save()
    response = client.get("/customer/")
    assert response["Location"] == "/console/organizations/"
    assert events("client_login.ended").get().after["reason"] == "expired"
    assert visit_marker(client) is None


# What a visit reaches: the customer portal only


@pytest.mark.parametrize(
    "path",
    [
        "/console/",
        "/console/organizations/",
        "/console/people/",
        "/accounts/tokens/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/pick/",
        "/portal/",
    ],
)
def test_org7_a_visit_reaches_nothing_but_the_customer_portal(visiting, owner, path):
    client = visiting(owner)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == "/customer/"
    assert "only the customer portal is open" in messages_of(response)
    assert visit_marker(client) is not None


def test_org7_the_impersonator_creates_no_token_and_changes_no_password(visiting, owner, contoso_admin):
    from portico.api.models import ApiToken

    client = visiting(owner)
    assert client.post("/accounts/tokens/", {"name": "as the customer"})["Location"] == "/customer/"
    response = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": "x-new-pass-123456", "password2": "x-new-pass-123456"}
    )
    assert response["Location"] == "/customer/"
    assert not ApiToken.objects.exists()
    owner.person.refresh_from_db()
    assert owner.person.check_password(PASSWORD)


def test_org7_a_visit_starts_no_second_visit(visiting, owner, fabrikam):
    client = visiting(owner)
    assert client.post(log_in_url(fabrikam))["Location"] == "/customer/"
    assert events("client_login.started").count() == 1


def test_org7_the_api_refuses_a_visiting_session(visiting, owner):
    response = visiting(owner).get("/api/v1/organizations/")
    assert response.status_code == 403
    assert "customer portal" in response.json()["detail"]


def test_org7_home_and_language_switch_stay_open_during_a_visit(visiting, owner):
    client = visiting(owner)
    assert client.get("/")["Location"] == "/customer/"
    response = client.post("/i18n/language/", {"language": "de", "next": "/customer/"})
    assert response.status_code == 302 and response["Location"] == "/customer/"
    assert visit_marker(client) is not None


# The banner


def test_org7_the_banner_names_the_organization_its_admin_and_the_staff_user(visiting, owner):
    client = visiting(owner)
    page = client.get("/customer/").content.decode()
    assert 'data-testid="client-login-banner"' in page
    assert "You are signed in to Contoso's customer portal as its admin (it@contoso.test)" in page
    assert f"acting as {owner.person.full_name}, {owner.person.email}." in page
    assert 'action="/customer/end-client-login/"' in page and "Back to the partner portal" in page


def test_org7_no_banner_outside_a_visit(signed_in, contoso_admin, contoso):
    page = signed_in(contoso_admin).get("/customer/").content.decode()
    assert "client-login-banner" not in page
