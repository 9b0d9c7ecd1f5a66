"""The customer portal's home: the organization's plan and figures, and the accounts a customer-portal
user may see with their backup status, searched and paged in SQL (CP-1, ORG-7's landing page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico import seed
from portico.audit.models import AuditEvent
from tests.support import PASSWORD


@pytest.fixture
def contoso_admin(org_a):
    return seed.customer_user(seed.person("it@contoso.test", PASSWORD), org_a)


@pytest.fixture
def emma(org_a):
    """A customer-portal user of Contoso who is not its admin: she sees her own mailbox only."""
    return seed.customer_user(seed.person("emma@contoso.test", PASSWORD), org_a)


@pytest.fixture
def contoso(partner, org_a, contoso_admin):
    return seed.subscription(org_a, seed.plan(partner, "Business Backup"), paid_seats=10, admin=contoso_admin)


@pytest.fixture
def accounts(contoso, org_a, org_b):
    """Contoso's accounts, one per backup status, and one of Fabrikam that no Contoso user sees."""
    yesterday = timezone.now() - timedelta(days=1)
    return {
        "failed": seed.account(
            org_a, "emma@contoso.test", added_at=yesterday,
            sections=[("email", "success", 10, 1000), ("calendar", "failed", 1, 10), ("contact", "warning", 2, 20)],
        ),
        "warning": seed.account(org_a, "Sales Team", "group_team", sections=[("files", "warning", 5, 50)]),
        "success": seed.account(org_a, "Contoso Intranet", "sharepoint", sections=[("files", "success", 5, 5000)]),
        "never": seed.account(org_a, "new@contoso.test", sections=[("email", "never", 0, 0)]),
        "not_backed_up": seed.account(org_a, "archive@contoso.test", backed_up=False),
        "deleted": seed.account(org_a, "gone@contoso.test", status="deleted", sections=[("email", "success", 1, 1)]),
        "fabrikam": seed.account(org_b, "ops@fabrikam.test", sections=[("email", "success", 1, 1)]),
    }


def rows(response) -> list[str]:
    return [account.address for account in response.context["page"]]


def test_cp1_the_admin_sees_the_organizations_plan_figures_and_every_account(signed_in, contoso_admin, accounts):
    response = signed_in(contoso_admin).get("/customer/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="customer-organization">Contoso<' in page
    assert "Business Backup plan (Backup)" in page
    # Not deleted: 5 accounts; active and backed up: 4 (the archive mailbox is not); seats 4 of 10.
    assert response.context["figures"] == {"accounts": 5, "backed_up": 4}
    assert 'data-figure="seats">4 / 10<' in page
    assert sorted(rows(response)) == sorted(
        a.address for key, a in accounts.items() if key != "fabrikam"
    )
    assert "ops@fabrikam.test" not in page


def test_cp1_backup_status_is_the_worst_section_result_with_the_last_backup(signed_in, contoso_admin, accounts):
    response = signed_in(contoso_admin).get("/customer/")
    shown = {account.address: account for account in response.context["page"]}
    assert shown["emma@contoso.test"].backup_label == "Failed"
    assert shown["Sales Team"].backup_label == "Completed with warnings"
    assert shown["Contoso Intranet"].backup_label == "Successful"
    assert shown["new@contoso.test"].backup_label == "Not backed up yet"
    assert shown["archive@contoso.test"].backup_label == "Not backed up"
    assert shown["emma@contoso.test"].last_backup == accounts["failed"].added_at
    assert shown["new@contoso.test"].last_backup is None
    page = response.content.decode()
    assert 'data-backup-status="failed"' in page and 'href="#product-sharepoint"' in page


def test_cp1_a_customer_user_who_is_not_the_admin_sees_only_their_own_account(signed_in, emma, accounts):
    response = signed_in(emma).get("/customer/")
    assert rows(response) == ["emma@contoso.test"]
    assert response.context["figures"] == {"accounts": 1, "backed_up": 1}


def test_cp6_the_customers_own_reads_are_not_audited_as_a_visit(signed_in, contoso_admin, accounts):
    signed_in(contoso_admin).get("/customer/")
    assert not AuditEvent.objects.filter(action="customer.accounts_viewed").exists()


def test_cp1_search_by_part_of_the_address_or_the_account_id(signed_in, contoso_admin, accounts):
    client = signed_in(contoso_admin)
    assert rows(client.get("/customer/", {"q": "INTRA"})) == ["Contoso Intranet"]
    assert rows(client.get("/customer/", {"q": "group_team-"})) == ["Sales Team"]
    assert rows(client.get("/customer/", {"q": "fabrikam"})) == []


@pytest.mark.parametrize("text", ["%", "x_y", "'", '"', "\\", "😀", "a%_'\"\\😀"])
def test_cp1_special_characters_in_the_search_are_plain_text(signed_in, contoso_admin, accounts, text):
    response = signed_in(contoso_admin).get("/customer/", {"q": text})
    assert response.status_code == 200
    assert rows(response) == []
    assert "No account matches this search." in response.content.decode()


def test_cp1_a_search_with_a_null_character_is_answered_with_its_error(signed_in, contoso_admin, accounts):
    response = signed_in(contoso_admin).get("/customer/", {"q": "a\x00b"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_cp1_a_10000_character_search_is_answered_with_its_error(signed_in, contoso_admin, accounts):
    response = signed_in(contoso_admin).get("/customer/", {"q": "x" * 10_000})
    assert response.status_code == 200
    assert "at most 200 characters" in response.content.decode()


def test_cp1_accounts_come_25_a_page_without_counting_them(signed_in, contoso_admin, contoso, org_a):
    for n in range(30):
        seed.account(org_a, f"user{n:02}@contoso.test")
    client = signed_in(contoso_admin)
    first = client.get("/customer/")
    assert len(rows(first)) == 25 and first.context["page"].has_next
    second = client.get("/customer/", {"page": 2})
    assert rows(second) == [f"user{n:02}@contoso.test" for n in range(25, 30)]
    assert not second.context["page"].has_next
    for page in ["999", "0", "-1", "abc", "1e309", "9" * 40]:
        assert client.get("/customer/", {"page": page}).status_code == 200


def test_cp1_the_page_reads_the_same_number_of_queries_for_3_and_30_accounts(signed_in, contoso_admin, contoso, org_a):
    client = signed_in(contoso_admin)
    for n in range(3):
        seed.account(org_a, f"few{n}@contoso.test", sections=[("email", "success", 1, 1)])
    with CaptureQueriesContext(connection) as few:
        assert client.get("/customer/").status_code == 200
    for n in range(27):
        seed.account(org_a, f"many{n}@contoso.test", sections=[("email", "failed", 1, 1), ("drive", "success", 1, 1)])
    with CaptureQueriesContext(connection) as many:
        assert client.get("/customer/").status_code == 200
    assert len(many) == len(few) <= 6


def test_cp1_a_visit_reads_a_bounded_number_of_queries(signed_in, owner, contoso, org_a, django_assert_max_num_queries):
    """During a visit (ORG-7) the page also re-checks the visit and audits the read; still no query per row."""
    for n in range(30):
        seed.account(org_a, f"user{n:02}@contoso.test", sections=[("email", "success", 1, 1)])
    client = signed_in(owner)
    client.post(f"/console/organizations/{contoso.pk}/log-in-as-client/")
    with django_assert_max_num_queries(17):
        assert client.get("/customer/").status_code == 200


def test_cp1_an_organization_without_a_subscription_shows_no_plan(signed_in, org_a, contoso_admin):
    response = signed_in(contoso_admin).get("/customer/")
    assert response.status_code == 200
    assert "No backup plan" in response.content.decode()
    assert 'data-figure="seats"' not in response.content.decode()


@pytest.mark.parametrize("who", ["owner", "user_org"])
def test_cp1_the_customer_portal_is_for_customer_portal_users_only(request, signed_in, who):
    assert signed_in(request.getfixturevalue(who)).get("/customer/").status_code == 404


def test_cp1_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/customer/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
