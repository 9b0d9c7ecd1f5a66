"""Every end user has a home organization; "all organizations" widens their devices only (EU-1,
EU-4, EU-5, PERM-3, TK-2)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from portico import seed
from portico.access import catalog, policy
from portico.identity.models import Membership, MembershipKind
from portico.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_eu5_an_end_user_without_an_organization_is_refused_by_the_database(partner):
    someone = seed.person("nobody@northwind.test", totp_secret=None)
    for all_organizations in (True, False):
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.create(
                person=someone, partner=partner, kind=MembershipKind.END_USER, all_organizations=all_organizations
            )


def test_eu5_staff_and_customer_users_never_have_all_organizations(partner, org_a):
    someone = seed.person("odd@northwind.test", totp_secret=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        seed.staff(someone, partner, "support", all_organizations=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        seed.customer_user(someone, org_a, all_organizations=True)


def test_perm3_eu5_organization_wide_tickets_are_those_of_the_home_organization(user_all_orgs, user_org, org_b):
    seed.grant(user_all_orgs, catalog.TICKETS_ORGANIZATION)
    at_home = seed.ticket(user_org, "Printer jams")
    elsewhere = seed.ticket(seed.end_user(seed.person("bo@fabrikam.test", totp_secret=None), org_b), "VPN down")
    visible = set(policy.restrict(Ticket.objects.all(), user_all_orgs, "view"))
    assert visible == {at_home} and elsewhere not in visible
    assert policy.can_open_ticket(user_all_orgs)


def test_eu1_portal_names_the_home_organization_and_devices_of_all(user_all_orgs, user_org, signed_in, client):
    page = signed_in(user_all_orgs).get("/portal/").content.decode()
    assert "End-user portal of Contoso · devices of all organizations" in page
    client.logout()
    page = signed_in(user_org).get("/portal/").content.decode()
    assert "End-user portal of Contoso<" in page and "devices of all organizations" not in page


def test_eu1_lists_show_the_home_organization_and_devices_of_all(admin, user_all_orgs, signed_in):
    client = signed_in(admin)
    for path in ("/console/end-users/", "/console/people/"):
        page = client.get(path).content.decode()
        row = page[page.index(user_all_orgs.person.email):]
        row = row[: row.index("</tr>")]
        assert "Contoso" in row and "Devices of all organizations" in row, path


def test_eu1_invite_form_asks_for_the_organization_and_offers_devices_of_all(admin, org_a, signed_in):
    client = signed_in(admin)
    data = {
        "kind": "end_user", "first_name": "Nia", "last_name": "New", "email": "nia@contoso.test", "phone": "",
        "organization": "", "all_organizations": "on", "staff_role": "", "language": "en", "security_type": "native",
    }
    response = client.post("/console/people/invite/", data)
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert not Membership.objects.filter(person__email="nia@contoso.test").exists()
    assert client.post("/console/people/invite/", {**data, "organization": org_a.pk}).status_code == 302
    nia = Membership.objects.get(person__email="nia@contoso.test")
    assert nia.organization == org_a and nia.all_organizations
    staff = {**data, "kind": "staff", "staff_role": "support", "email": "sam@northwind.test", "organization": org_a.pk}
    assert client.post("/console/people/invite/", staff).status_code == 302
    sam = Membership.objects.get(person__email="sam@northwind.test")
    assert sam.organization is None and not sam.all_organizations


@pytest.mark.django_db(transaction=True)
def test_eu5_migration_gives_all_organizations_users_a_home_organization():
    """The partner's first organization by id; a partner with none gets one named after itself."""
    before = [("identity", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Partner, Organization = old.get_model("tenancy", "Partner"), old.get_model("tenancy", "Organization")
    Person, OldMembership = old.get_model("identity", "Person"), old.get_model("identity", "Membership")
    northwind, bluewave = Partner.objects.create(name="Northwind IT"), Partner.objects.create(name="Bluewave MSP")
    first = Organization.objects.create(partner=northwind, name="Zeta first")
    second = Organization.objects.create(partner=northwind, name="Alpha second")
    people = [Person.objects.create(email=f"p{n}@x.test", password="!") for n in range(3)]
    roaming = OldMembership.objects.create(person=people[0], partner=northwind, kind="end_user", all_organizations=True)
    single = OldMembership.objects.create(person=people[1], partner=northwind, kind="end_user", organization=second)
    lonely = OldMembership.objects.create(person=people[2], partner=bluewave, kind="end_user", all_organizations=True)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    homes = {m.pk: (m.organization.name, m.all_organizations) for m in Membership.objects.select_related("organization")}
    assert homes[roaming.pk] == (first.name, True)
    assert homes[single.pk] == (second.name, False)
    assert homes[lonely.pk] == ("Bluewave MSP", True)
    assert Membership.objects.get(pk=lonely.pk).organization.partner_id == bluewave.pk
