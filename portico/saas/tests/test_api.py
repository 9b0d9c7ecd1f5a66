"""`/api/v1/organizations/`, `/api/v1/plans/` and `/api/v1/accounts/`: the organizations and accounts
pages' rules through the API (ORG-1 … ORG-9, ACC-1 … ACC-3, GRP-3, AUD-1).

People (root conftest.py): `owner`, `admin`, `admin_scoped` (org_a only), `finance`, `support`,
`outsider` (another partner's Admin); org_a is Contoso, org_b Fabrikam, foreign_org Litware.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portico import seed
from portico.audit.models import AuditEvent
from portico.saas.models import Subscription
from portico.tenancy.models import Organization
from tests.support import api_client, text_body

pytestmark = pytest.mark.django_db

ORGS = "/api/v1/organizations/"
PLANS = "/api/v1/plans/"
ACCOUNTS = "/api/v1/accounts/"
GIB = 1024**3


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def _subscribe(org, plan, **fields) -> Subscription:
    """`org` on `plan` with its admin in the customer portal (its contact)."""
    email = f"it@{org.name.lower().replace(' ', '-')}.test"
    fields.setdefault("admin", seed.customer_user(seed.person(email, first_name="Ida", last_name="Admin"), org))
    fields.setdefault("contact_email", email)
    return seed.subscription(org, plan, **fields)


@pytest.fixture
def backup_plan(partner):
    return seed.plan(partner, "Business Backup", "backup", price="3.50", currency="EUR")


@pytest.fixture
def personal_plan(partner):
    return seed.plan(partner, "Solo", "personal", price="1.99")


@pytest.fixture
def contoso(org_a, backup_plan):
    return _subscribe(org_a, backup_plan, paid_seats=10, storage_gib=100)


@pytest.fixture
def fabrikam(org_b, personal_plan):
    return _subscribe(org_b, personal_plan, status="suspended", credential_status="need_auth")


@pytest.fixture
def litware(foreign_org, other_partner):
    return _subscribe(foreign_org, seed.plan(other_partner, "Business Backup"))


@pytest.fixture
def accounts(contoso, fabrikam, litware, org_a, org_b, foreign_org):
    """Contoso: two active backed-up mailboxes, a deactivated one, a shared mailbox not backed up and
    a drive; Fabrikam: a site; Litware (another partner): one mailbox."""
    day = timezone.now() - timedelta(days=3)
    return {
        "ann": seed.account(org_a, "ann@contoso.test", added_at=day, sections=[
            ("email", "success", 120, 4096), ("calendar", "failed", 3, 10), ("contact", "warning", 9, 90),
        ]),
        "bob": seed.account(org_a, "bob@contoso.test", sections=[("email", "success", 5, 50)]),
        "old": seed.account(org_a, "old@contoso.test", status="deactivated", sections=[("email", "warning", 1, 5)]),
        "shared": seed.account(org_a, "shared@contoso.test", email_kind="shared_mailbox", backed_up=False),
        "drive": seed.account(org_a, "ann@contoso.test", "drive", sections=[("drive", "success", 7, 700)]),
        "site": seed.account(org_b, "Sales site", "sharepoint", domain="fabrikam.sharepoint.com",
                             sections=[("files", "success", 30, 3000)]),
        "theirs": seed.account(foreign_org, "them@litware.test"),
    }


# ORG-4: what an organization is, with its subscription and usage


def test_org4_owner_lists_organizations_with_plan_seats_and_storage(owner, accounts, contoso):
    response = api_client(owner).get(ORGS)
    assert response.status_code == 200
    [row] = response.json()["results"]  # ORG-1: active by default; Fabrikam is suspended
    assert row == {
        "id": contoso.pk, "name": "Contoso", "contact_email": "it@contoso.test", "country": "US",
        "status": "active", "credential_status": "ok",
        "plan": {"id": contoso.plan_id, "name": "Business Backup", "type": "backup", "price": "3.50", "currency": "EUR"},
        "paid_seats": 10,
        "seats_used": 3,  # ann, bob and the drive: active and backed up
        "storage_quota_bytes": 100 * GIB,
        "storage_used_bytes": 4096 + 10 + 90 + 50 + 5 + 700,
        "created": row["created"],
    }
    assert response.json()["next"] is None and response.json()["previous"] is None


def test_org1_status_tabs_and_org3_filters(owner, contoso, fabrikam, partner, backup_plan):
    gone = _subscribe(seed.organization(partner, "Gone Inc"), backup_plan, status="deleted")
    client = api_client(owner)
    assert _ids(client.get(ORGS, {"status": "suspended"})) == [fabrikam.pk]
    assert _ids(client.get(ORGS, {"status": "deleted"})) == [gone.pk]
    assert _ids(client.get(ORGS, {"status": "suspended", "plan_type": "personal"})) == [fabrikam.pk]
    assert _ids(client.get(ORGS, {"status": "suspended", "plan_type": "backup"})) == []
    assert _ids(client.get(ORGS, {"status": "suspended", "credential_status": "need_auth"})) == [fabrikam.pk]
    assert _ids(client.get(ORGS, {"credential_status": "need_auth"})) == []


def test_org8_a_deleted_organization_is_retrieved_with_its_list_fields_only(owner, partner, backup_plan):
    """The decision: the API exposes no details page, so a deleted organization reads as its row."""
    gone = _subscribe(seed.organization(partner, "Gone Inc"), backup_plan, status="deleted")
    response = api_client(owner).get(f"{ORGS}{gone.pk}/")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["status"]) == ("Gone Inc", "deleted")
    assert set(response.json()) == set(api_client(owner).get(ORGS, {"status": "deleted"}).json()["results"][0])


def test_org2_search_by_part_of_the_name_or_the_id_with_special_characters(owner, partner, backup_plan, contoso):
    percent = _subscribe(seed.organization(partner, "Always% Up_Co"), backup_plan)
    quoted = _subscribe(seed.organization(partner, "O'Brien \\ Söhne 🚀"), backup_plan)
    client = api_client(owner)
    assert _ids(client.get(ORGS, {"q": "ntos"})) == [contoso.pk]
    assert _ids(client.get(ORGS, {"q": str(contoso.pk)})) == [contoso.pk]
    assert _ids(client.get(ORGS, {"q": "%"})) == [percent.pk]  # a literal %, not "anything"
    assert _ids(client.get(ORGS, {"q": "_"})) == [percent.pk]
    assert _ids(client.get(ORGS, {"q": "'Brien \\"})) == [quoted.pk]
    assert _ids(client.get(ORGS, {"q": "🚀"})) == [quoted.pk]
    assert _ids(client.get(ORGS, {"q": '"; DROP TABLE saas_subscription; --'})) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ({"status": "archived"}, "status"),
        ({"plan_type": "gold"}, "plan_type"),
        ({"credential_status": "ok"}, "credential_status"),
        ({"added_from": "yesterday"}, "added_from"),
        ({"added_to": "2024-02-30"}, "added_to"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
    ],
)
def test_org_bad_filters_answer_400_with_the_field(owner, contoso, query, field):
    response = api_client(owner).get(ORGS, query)
    assert response.status_code == 400
    assert field in response.json()


def test_org5_pages_of_20_with_next_and_previous_only_beyond_20(owner, partner, backup_plan, django_assert_max_num_queries):
    for n in range(21):
        _subscribe(seed.organization(partner, f"Customer {n:02}"), backup_plan)
    client = api_client(owner)
    # Token, its last use, the page of 21 rows with usage counted in the same query: no COUNT.
    with django_assert_max_num_queries(4) as queries:
        first = client.get(ORGS)
    assert not any("COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] for q in queries.captured_queries)
    body = first.json()
    assert [row["name"] for row in body["results"]] == [f"Customer {n:02}" for n in range(20)]
    assert body["previous"] is None and "page=2" in body["next"]
    second = client.get(body["next"]).json()
    assert [row["name"] for row in second["results"]] == ["Customer 20"]
    assert second["next"] is None and "page=" not in second["previous"]
    assert client.get(ORGS, {"page": 10_000}).json()["results"] == []
    assert len(client.get(ORGS, {"page_size": 5}).json()["results"]) == 5


# GRP-3 and the roles: who sees and does what


def test_grp3_scoped_admin_sees_only_their_groups_organizations(admin_scoped, contoso, fabrikam):
    client = api_client(admin_scoped)
    assert _ids(client.get(ORGS)) == [contoso.pk]
    assert _ids(client.get(ORGS, {"status": "suspended"})) == []
    assert client.get(f"{ORGS}{fabrikam.pk}/").status_code == 404
    assert client.post(f"{ORGS}{fabrikam.pk}/send-reset-password/").status_code == 404
    assert client.get(f"{ORGS}{contoso.pk}/").json()["name"] == "Contoso"


@pytest.mark.parametrize("who", ["finance", "support", "admin", "super_admin"])
def test_grp3_finance_support_and_admins_see_every_organization(request, who, contoso, fabrikam, litware):
    client = api_client(request.getfixturevalue(who))
    assert _ids(client.get(ORGS)) == [contoso.pk]
    assert _ids(client.get(ORGS, {"status": "suspended"})) == [fabrikam.pk]
    assert client.get(f"{ORGS}{litware.pk}/").status_code == 404


def test_another_partner_finds_none_of_ours(outsider, contoso, litware):
    client = api_client(outsider)
    assert _ids(client.get(ORGS)) == [litware.pk]
    assert _ids(client.get(ORGS, {"q": "Contoso"})) == []
    assert client.get(f"{ORGS}{contoso.pk}/").status_code == 404
    assert client.post(f"{ORGS}{contoso.pk}/send-reset-password/").status_code == 404
    assert client.get(f"{ORGS}{2**63}/").status_code == 404


def test_customer_token_sees_its_own_organization_and_end_user_none(contoso, fabrikam, user_org):
    """The policy's `saas.subscription` rule: the customer portal shows its own organization's plan."""
    customer = api_client(contoso.admin)
    assert _ids(customer.get(ORGS)) == [contoso.pk]
    assert customer.get(f"{ORGS}{fabrikam.pk}/").status_code == 404
    assert customer.post(f"{ORGS}{contoso.pk}/send-reset-password/").status_code == 403
    end_user = api_client(user_org)
    assert _ids(end_user.get(ORGS)) == []
    assert end_user.get(f"{ORGS}{contoso.pk}/").status_code == 404
    assert end_user.post(f"{ORGS}{contoso.pk}/send-reset-password/").status_code == 404


# ORG-8: send reset password


def test_org8_owner_sends_the_admin_a_reset_password_link(owner, contoso, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(owner).post(f"{ORGS}{contoso.pk}/send-reset-password/")
    assert response.status_code == 202
    assert response.json() == {"sent_to": "it@contoso.test"}
    [message] = mailbox.wait_for("it@contoso.test")
    assert re.search(r"/invitations/[\w-]+/", text_body(message))
    assert AuditEvent.objects.filter(actor=owner, organization_id=contoso.pk).exists()  # AUD-1


@pytest.mark.parametrize("who", ["finance", "support"])
def test_org8_finance_and_support_may_not_send_reset_password(request, who, contoso, mailbox):
    response = api_client(request.getfixturevalue(who)).post(f"{ORGS}{contoso.pk}/send-reset-password/")
    assert response.status_code == 403
    assert mailbox.to("it@contoso.test") == []


def test_org8_a_deleted_organization_gets_no_reset_password(owner, partner, backup_plan):
    gone = _subscribe(seed.organization(partner, "Gone Inc"), backup_plan, status="deleted")
    assert api_client(owner).post(f"{ORGS}{gone.pk}/send-reset-password/").status_code == 403


# ORG-9: new organization


def _new(on_plan, **fields) -> dict:
    return {"plan": on_plan.pk, "name": "Tailspin Toys", "contact_email": "Ops@Tailspin.test",
            "contact_first_name": "Olga", "contact_last_name": "Ops", "paid_seats": 25, "storage_quota_gib": 200,
            **fields}


def test_org9_owner_creates_an_organization_and_its_contact_is_invited(
    owner, backup_plan, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(owner).post(ORGS, _new(backup_plan), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    subscription = Subscription.objects.get(pk=body["id"])
    assert (body["name"], body["contact_email"], body["country"]) == ("Tailspin Toys", "ops@tailspin.test", "US")  # PS-2
    assert (body["paid_seats"], body["seats_used"], body["storage_quota_bytes"]) == (25, 0, 200 * GIB)
    assert subscription.admin.person.email == "ops@tailspin.test"
    assert re.search(r"/invitations/[\w-]+/", text_body(mailbox.wait_for("ops@tailspin.test")[0]))
    assert AuditEvent.objects.filter(action="organization.created", organization_id=subscription.pk, actor=owner).exists()


def test_org9_personal_plan_names_the_organization_after_its_contact(owner, personal_plan):
    response = api_client(owner).post(ORGS, _new(personal_plan, name="", country="de"), format="json")
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["country"]) == ("ops@tailspin.test", "DE")


def test_org9_a_name_already_taken_or_another_partners_plan_is_a_field_error(owner, contoso, backup_plan, other_partner):
    client = api_client(owner)
    taken = client.post(ORGS, _new(backup_plan, name="contoso"), format="json")
    assert taken.status_code == 400 and "name" in taken.json()
    foreign = client.post(ORGS, _new(seed.plan(other_partner, "Foreign")), format="json")
    assert foreign.status_code == 400 and "plan" in foreign.json()
    assert Organization.objects.filter(name="Tailspin Toys").count() == 0


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"plan": "x"}, "plan"),
        ({"plan": 2**70}, "plan"),
        ({"contact_email": "not an email"}, "contact_email"),
        ({"paid_seats": 0}, "paid_seats"),
        ({"paid_seats": 10**12}, "paid_seats"),
        ({"storage_quota_gib": -1}, "storage_quota_gib"),
        ({"country": "USA"}, "country"),
        ({"name": "n" * 1000}, "name"),
    ],
)
def test_org9_bad_bodies_answer_400_with_the_field(owner, backup_plan, fields, field):
    response = api_client(owner).post(ORGS, _new(backup_plan, **fields), format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("who", ["finance", "support", "admin_scoped"])
def test_org9_roles_that_may_not_create_organizations_get_403(request, who, backup_plan):
    """Finance and Support never; an Admin limited by groups would not see the new organization."""
    response = api_client(request.getfixturevalue(who)).post(ORGS, _new(backup_plan), format="json")
    assert response.status_code == 403
    assert not Subscription.objects.exists()


def test_org9_end_users_and_customers_may_not_create_organizations(user_org, contoso, backup_plan):
    for member in (user_org, contoso.admin):
        assert api_client(member).post(ORGS, _new(backup_plan), format="json").status_code == 403


# Plans


def test_plans_are_the_partners_own(owner, finance, backup_plan, personal_plan, other_partner, user_org):
    foreign = seed.plan(other_partner, "Foreign")
    for member in (owner, finance):
        client = api_client(member)
        assert _ids(client.get(PLANS)) == [backup_plan.pk, personal_plan.pk]
        assert client.get(f"{PLANS}{foreign.pk}/").status_code == 404
    assert api_client(owner).get(f"{PLANS}{personal_plan.pk}/").json() == {
        "id": personal_plan.pk, "name": "Solo", "type": "personal", "price": "1.99", "currency": "USD",
    }
    assert _ids(api_client(user_org).get(PLANS)) == []
    assert api_client(owner).post(PLANS, {"name": "x"}, format="json").status_code == 405


# ACC-1 … ACC-3: accounts


def test_acc2_accounts_newest_first_with_organization_and_worst_backup_status(owner, accounts):
    response = api_client(owner).get(ACCOUNTS)
    names = ["site", "drive", "shared", "old", "bob", "ann"]
    assert _ids(response) == [accounts[name].pk for name in names]
    rows = {row["id"]: row for row in response.json()["results"]}
    ann = rows[accounts["ann"].pk]
    assert ann == {
        "id": accounts["ann"].pk, "address": "ann@contoso.test", "external_id": "email-ann@contoso.test",
        "product_type": "email", "email_kind": "mailbox", "domain": "", "status": "active", "backed_up": True,
        "added": ann["added"], "organization": {"id": accounts["ann"].organization_id, "name": "Contoso"},
        "backup_status": "failed",  # the calendar's result is the worst
    }
    assert rows[accounts["shared"].pk]["backup_status"] == "never"  # no section backed up yet
    assert rows[accounts["site"].pk]["email_kind"] == ""


def test_acc1_filters_as_the_page(owner, accounts, org_a, org_b):
    client = api_client(owner)
    assert _ids(client.get(ACCOUNTS, {"organization": org_b.pk})) == [accounts["site"].pk]
    assert _ids(client.get(ACCOUNTS, {"product_type": "email:shared_mailbox"})) == [accounts["shared"].pk]
    assert _ids(client.get(ACCOUNTS, {"product_type": "drive"})) == [accounts["drive"].pk]
    assert _ids(client.get(ACCOUNTS, {"status": "deactivated"})) == [accounts["old"].pk]
    assert _ids(client.get(ACCOUNTS, {"q": "ann@"})) == [accounts["drive"].pk, accounts["ann"].pk]
    assert _ids(client.get(ACCOUNTS, {"q": "fabrik"})) == [accounts["site"].pk]  # the organization's name
    assert _ids(client.get(ACCOUNTS, {"q": "%"})) == []
    assert _ids(client.get(ACCOUNTS, {"organization": org_a.pk, "product_type": "email", "status": "active"})) == [
        accounts["shared"].pk, accounts["bob"].pk, accounts["ann"].pk,
    ]
    today = timezone.localdate().isoformat()
    assert accounts["ann"].pk not in _ids(client.get(ACCOUNTS, {"added_from": today}))


@pytest.mark.parametrize(
    "query, field",
    [
        ({"product_type": "fax"}, "product_type"),
        ({"product_type": "email:archive"}, "product_type"),
        ({"status": "gone"}, "status"),
        ({"organization": "abc"}, "organization"),
        ({"added_from": "2024-13-01"}, "added_from"),
        ({"q": "y" * 10_000}, "q"),
    ],
)
def test_acc1_bad_filters_answer_400_with_the_field(owner, accounts, query, field):
    response = api_client(owner).get(ACCOUNTS, query)
    assert response.status_code == 400 and field in response.json()


def test_acc1_another_partners_organization_is_not_a_choice(owner, accounts, foreign_org):
    response = api_client(owner).get(ACCOUNTS, {"organization": foreign_org.pk})
    assert response.status_code == 400 and "organization" in response.json()


def test_acc1_keyset_pages_follow_next_and_ignore_a_bad_cursor(owner, accounts, django_assert_max_num_queries):
    client = api_client(owner)
    seen, url = [], ACCOUNTS + "?page_size=4"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == _ids(client.get(ACCOUNTS))
    for cursor in ("garbage", "eyJkIjoibmV4dCIsInYiOlsiYSJdfQ", "🙂" * 50, "x" * 10_000):
        assert _ids(client.get(ACCOUNTS, {"cursor": cursor, "page_size": 4})) == seen[:4]
    # Token and its last use, the organization menu's size, the page of accounts with their worst result.
    with django_assert_max_num_queries(5):
        assert len(_ids(client.get(ACCOUNTS))) == 6


def test_acc3_account_details_with_each_section(owner, accounts):
    response = api_client(owner).get(f"{ACCOUNTS}{accounts['ann'].pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["backup_status"] == "failed"
    assert [(s["section"], s["last_result"], s["items"], s["bytes"]) for s in body["sections"]] == [
        ("email", "success", 120, 4096), ("calendar", "failed", 3, 10), ("contact", "warning", 9, 90),
    ]
    assert body["sections"][0]["status"] == "active" and body["sections"][0]["last_backup"] is not None
    site = api_client(owner).get(f"{ACCOUNTS}{accounts['site'].pk}/").json()
    assert (site["domain"], [s["section"] for s in site["sections"]]) == ("fabrikam.sharepoint.com", ["files"])


def test_grp3_scoped_admin_reads_only_their_groups_accounts(admin_scoped, accounts, org_b):
    client = api_client(admin_scoped)
    assert accounts["site"].pk not in _ids(client.get(ACCOUNTS))
    assert {row["organization"]["name"] for row in client.get(ACCOUNTS).json()["results"]} == {"Contoso"}
    assert client.get(f"{ACCOUNTS}{accounts['site'].pk}/").status_code == 404
    assert client.get(ACCOUNTS, {"organization": org_b.pk}).status_code == 400


@pytest.mark.parametrize("who", ["finance", "support"])
def test_acc_finance_and_support_read_accounts(request, who, accounts):
    client = api_client(request.getfixturevalue(who))
    assert len(_ids(client.get(ACCOUNTS))) == 6
    assert client.get(f"{ACCOUNTS}{accounts['ann'].pk}/").status_code == 200


def test_acc_another_partner_customers_and_end_users(outsider, accounts, contoso, user_org):
    outside = api_client(outsider)
    assert _ids(outside.get(ACCOUNTS)) == [accounts["theirs"].pk]
    assert outside.get(f"{ACCOUNTS}{accounts['ann'].pk}/").status_code == 404
    # The customer portal's admin reads its own organization's accounts (the policy's `saas.account`).
    assert set(_ids(api_client(contoso.admin).get(ACCOUNTS))) == {
        accounts[name].pk for name in ("ann", "bob", "old", "shared", "drive")
    }
    end_user = api_client(user_org)
    assert _ids(end_user.get(ACCOUNTS)) == []
    assert end_user.get(f"{ACCOUNTS}{accounts['ann'].pk}/").status_code == 404
    assert outside.post(ACCOUNTS, {}, format="json").status_code == 405
