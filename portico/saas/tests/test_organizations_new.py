"""A new organization (ORG-9): on one of the partner's plans, Personal ones named after their
contact, in the partner's country by default (PS-2), the contact invited as its admin (ID-1),
audited (AUD-1); field errors, never a 500."""

from __future__ import annotations

import re

import pytest

from portico import seed
from portico.audit.models import AuditEvent
from portico.identity.models import Membership
from portico.saas.models import Subscription
from portico.tenancy.models import Organization
from tests.support import text_body

pytestmark = pytest.mark.django_db

NEW = "/console/organizations/new/"
GIB = 1024**3


@pytest.fixture
def backup_plan(partner):
    return seed.plan(partner, "Business Backup", "backup")


@pytest.fixture
def personal_plan(partner):
    return seed.plan(partner, "Solo", "personal")


def form(on_plan, **changes) -> dict:
    data = {
        "plan": on_plan.pk, "name": "Tailspin Toys", "contact_email": "Ops@Tailspin.test", "contact_first_name": "Olga",
        "contact_last_name": "Ops", "paid_seats": "25", "storage_quota_gib": "200", "country": "",
    }
    return {**data, **changes}


def test_org9_creates_the_organization_and_invites_its_contact(
    owner, signed_in, backup_plan, mailbox, django_capture_on_commit_callbacks
):
    client = signed_in(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, form(backup_plan))
    subscription = Subscription.objects.get(organization__name="Tailspin Toys")
    assert response.status_code == 302 and response["Location"] == f"/console/organizations/{subscription.pk}/"
    assert (subscription.plan, subscription.paid_seats, subscription.storage_quota_bytes) == (backup_plan, 25, 200 * GIB)
    assert subscription.contact_email == "ops@tailspin.test"
    assert subscription.country == "US"  # PS-2: the partner's country
    admin = subscription.admin
    assert (admin.kind, admin.organization_id, admin.person.full_name) == ("customer", subscription.pk, "Olga Ops")
    message = mailbox.wait_for("ops@tailspin.test")[0]
    assert re.search(r"/invitations/[\w-]+/", text_body(message))
    assert AuditEvent.objects.filter(action="organization.created", organization_id=subscription.pk, actor=owner).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Tailspin Toys is created. ops@tailspin.test is invited as its admin." in page


def test_org9_personal_plan_names_the_organization_after_its_contact(owner, signed_in, personal_plan):
    response = signed_in(owner).post(NEW, form(personal_plan, name="", contact_email="Jo@Home.test"))
    assert response.status_code == 302
    assert Subscription.objects.get(plan=personal_plan).organization.name == "jo@home.test"


def test_org9_personal_plan_ignores_a_typed_name(owner, signed_in, personal_plan):
    signed_in(owner).post(NEW, form(personal_plan, name="Something else", contact_email="jo@home.test"))
    assert Organization.objects.filter(name="jo@home.test").exists()
    assert not Organization.objects.filter(name="Something else").exists()


def test_org9_the_form_says_personal_names_are_filled_in_and_offers_the_partners_country(owner, signed_in, backup_plan):
    html = signed_in(owner).get(NEW).content.decode()
    assert "For a Personal plan, leave it empty: the organization is named after the contact&#x27;s email." in html
    assert re.search(r'name="country" value="US"', html)


def test_org9_a_chosen_country_is_kept(owner, signed_in, backup_plan):
    signed_in(owner).post(NEW, form(backup_plan, country="de"))
    assert Subscription.objects.get().country == "DE"


def test_org9_only_the_partners_plans_are_offered(owner, signed_in, backup_plan, other_partner):
    foreign = seed.plan(other_partner, "Foreign Plan", "backup")
    client = signed_in(owner)
    assert "Foreign Plan" not in client.get(NEW).content.decode()
    response = client.post(NEW, form(foreign))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": ""}, "name"),
        ({"name": "Contoso"}, "name"),  # taken
        ({"contact_email": "not an email"}, "contact_email"),
        ({"paid_seats": "0"}, "paid_seats"),
        ({"paid_seats": "-5"}, "paid_seats"),
        ({"paid_seats": "9" * 30}, "paid_seats"),
        ({"storage_quota_gib": "0"}, "storage_quota_gib"),
        ({"storage_quota_gib": "1.5"}, "storage_quota_gib"),
        ({"country": "USA"}, "country"),
        ({"plan": "abc"}, "plan"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": "a\x00b"}, "name"),
    ],
)
def test_org9_bad_input_is_a_field_error(owner, signed_in, backup_plan, org_a, changes, field):
    response = signed_in(owner).post(NEW, form(backup_plan, **changes))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf'data-field="{field}">.*?invalid-feedback', html, re.S), field
    assert Subscription.objects.count() == 0 and not Membership.objects.filter(kind="customer").exists()


def test_org9_personal_contact_whose_organization_exists_is_an_email_error(owner, signed_in, personal_plan):
    client = signed_in(owner)
    client.post(NEW, form(personal_plan, contact_email="jo@home.test"))
    response = client.post(NEW, form(personal_plan, contact_email="jo@home.test"))
    assert response.status_code == 200
    assert re.search(r'data-field="contact_email">.*?already exists', response.content.decode(), re.S)
    assert Subscription.objects.count() == 1


@pytest.mark.parametrize("who", ["finance", "support", "admin_scoped"])
def test_org9_roles_that_may_not_create_are_refused(request, who, signed_in, backup_plan):
    client = signed_in(request.getfixturevalue(who))
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form(backup_plan)).status_code == 403
    assert not Organization.objects.filter(name="Tailspin Toys").exists()


def test_org9_without_a_plan_the_page_says_so(owner, signed_in):
    html = signed_in(owner).get(NEW).content.decode()
    assert 'data-testid="no-plans"' in html and "<form method=\"post\" class=\"card\"" not in html
