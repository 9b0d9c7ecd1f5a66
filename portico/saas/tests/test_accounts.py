"""The partner portal's accounts page and account details (ACC-1 … ACC-3), under GRP-3.

Northwind IT has Contoso (org_a) and Fabrikam (org_b); Bluewave's Litware (foreign_org) has an
account that must never show. Contoso's mailbox has a failed calendar backup, so its backup status
is "Failed"; Fabrikam's subscription is deleted, so its details page is not offered (ORG-8).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portico import seed
from portico.saas.models import Account
from tests.support import sign_in

pytestmark = pytest.mark.django_db

URL = "/console/accounts/"
GIB = 1024**3


@pytest.fixture
def accounts(partner, org_a, org_b, foreign_org) -> dict[str, Account]:
    plan = seed.plan(partner, "Business Backup")
    seed.subscription(org_a, plan)
    seed.subscription(org_b, plan, status="deleted")
    seed.subscription(foreign_org, seed.plan(foreign_org.partner, "Litware plan"))
    day = timezone.now() - timedelta(days=3)
    return {
        "alice": seed.account(
            org_a, "alice@contoso.test", external_id="8f14e45f-alice", added_at=day,
            sections=[("email", "success", 12_345, 3 * GIB), ("calendar", "failed", 120, 1_048_576),
                      ("contact", "warning", 45, 2048), ("tasks", "success", 7, 512)],
        ),
        "info": seed.account(
            org_a, "info@contoso.test", email_kind="shared_mailbox", external_id="c9f0f895-info",
            sections=[("email", "success", 900, GIB)],
        ),
        "bob_drive": seed.account(
            org_a, "bob@contoso.test", "drive", status="deactivated", external_id="45c48cce-bob",
            sections=[("drive", "warning", 3_000, 5 * GIB)],
        ),
        "intranet": seed.account(
            org_a, "Contoso Intranet", "sharepoint", domain="contoso.sharepoint.com", external_id="site-d3d94468",
            sections=[("files", "success", 48_213, 7 * GIB)],
        ),
        "carol": seed.account(org_b, "carol@fabrikam.test", status="deleted", external_id="6512bd43-carol"),
        "sales": seed.account(
            org_b, "Fabrikam Sales", "group_team", domain="fabrikam.onmicrosoft.com", external_id="team-c20ad4d7",
            sections=[("files", "never", 0, 0)],
        ),
        "dave": seed.account(foreign_org, "dave@litware.test", external_id="a87ff679-dave"),
    }


def shown(response) -> set[str]:
    """The addresses of the rows on the page."""
    return {account.address for account in response.context["page"]}


# ACC-1: filters and search.


def test_acc1_all_organizations_by_default_never_another_partners(signed_in, owner, accounts):
    response = signed_in(owner).get(URL)
    assert response.status_code == 200
    assert shown(response) == {a.address for key, a in accounts.items() if key != "dave"}
    assert b"dave@litware.test" not in response.content
    assert b'id="list-actions"' in response.content  # where ACC-4's export button goes


def test_acc1_filter_by_organization(signed_in, owner, org_b, accounts):
    response = signed_in(owner).get(URL, {"organization": org_b.pk})
    assert shown(response) == {"carol@fabrikam.test", "Fabrikam Sales"}


@pytest.mark.parametrize(
    ("product_type", "expected"),
    [
        ("email", {"alice@contoso.test", "info@contoso.test", "carol@fabrikam.test"}),
        ("email:shared_mailbox", {"info@contoso.test"}),
        ("email:mailbox", {"alice@contoso.test", "carol@fabrikam.test"}),
        ("drive", {"bob@contoso.test"}),
        ("sharepoint", {"Contoso Intranet"}),
        ("group_team", {"Fabrikam Sales"}),
        ("private_chat", set()),
    ],
)
def test_acc1_filter_by_product_type(signed_in, owner, accounts, product_type, expected):
    assert shown(signed_in(owner).get(URL, {"product_type": product_type})) == expected


def test_acc1_filter_by_status_with_product_type(signed_in, owner, accounts):
    client = signed_in(owner)
    assert shown(client.get(URL, {"status": "deactivated"})) == {"bob@contoso.test"}
    assert shown(client.get(URL, {"status": "deleted", "product_type": "email"})) == {"carol@fabrikam.test"}
    assert shown(client.get(URL, {"status": "active", "product_type": "email"})) == {"alice@contoso.test", "info@contoso.test"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ALICE@contoso", {"alice@contoso.test"}),  # part of the email, any case
        ("-bob", {"bob@contoso.test"}),  # part of the account id
        ("d3d94", {"Contoso Intranet"}),
        ("fabri", {"carol@fabrikam.test", "Fabrikam Sales"}),  # part of the organization's name
        ("litware", set()),  # another partner's organization and account
    ],
)
def test_acc1_partial_search_by_email_account_id_or_organization(signed_in, owner, accounts, text, expected):
    assert shown(signed_in(owner).get(URL, {"q": text})) == expected


def test_acc1_search_by_a_name_many_organizations_share(signed_in, owner, partner, accounts, monkeypatch):
    """Past ORGANIZATION_MATCHES organizations the name is matched in SQL rather than by ids."""
    monkeypatch.setattr("portico.saas.filters.ORGANIZATION_MATCHES", 1)
    seed.account(seed.organization(partner, "Fabrikam East"), "erin@east.test")
    expected = {"carol@fabrikam.test", "Fabrikam Sales", "erin@east.test"}
    assert shown(signed_in(owner).get(URL, {"q": "FABRIKAM"})) == expected


def test_acc1_organization_filter_is_a_name_search_past_the_menu(signed_in, owner, org_b, accounts, monkeypatch):
    """With more organizations than a menu holds, the organization is typed: part of its name, or
    its id as a link carries it."""
    monkeypatch.setattr("portico.tenancy.forms.ORGANIZATION_MENU_LIMIT", 1)
    client = signed_in(owner)
    response = client.get(URL, {"organization": "fabri"})
    assert b'name="organization"' in response.content and b"<select name=\"organization\"" not in response.content
    assert shown(response) == {"carol@fabrikam.test", "Fabrikam Sales"}
    assert shown(client.get(URL, {"organization": str(org_b.pk)})) == {"carol@fabrikam.test", "Fabrikam Sales"}
    assert shown(client.get(URL, {"organization": "litware"})) == set()


# ACC-2: rows.


def test_acc2_a_failure_ranks_worst_then_warnings_then_not_backed_up_yet(signed_in, owner, org_a, accounts):
    # As docs/decisions.md ranks them; the export reads the same status from the account's totals.
    seed.account(org_a, "new@contoso.test", sections=[("email", "never", 0, 0), ("calendar", "failed", 0, 0)])
    seed.account(org_a, "slow@contoso.test", sections=[("email", "warning", 0, 0), ("calendar", "never", 0, 0)])
    seed.account(org_a, "half@contoso.test", sections=[("email", "success", 0, 0), ("calendar", "never", 0, 0)])
    rows = {account.address: account.backup_status for account in signed_in(owner).get(URL).context["page"]}
    totals = dict(Account.objects.values_list("address", "totals__worst_result"))
    for address, worst in (("new@contoso.test", "failed"), ("slow@contoso.test", "warning"), ("half@contoso.test", "never")):
        assert rows[address] == totals[address] == worst, address


def test_acc2_row_shows_icon_email_organization_id_and_worst_backup_status(signed_in, owner, accounts):
    response = signed_in(owner).get(URL)
    rows = {account.address: account for account in response.context["page"]}
    assert rows["alice@contoso.test"].backup_status == "failed"  # worst of success, failed, warning, success
    assert rows["bob@contoso.test"].backup_status == "warning"
    assert rows["info@contoso.test"].backup_status == "success"
    assert rows["carol@fabrikam.test"].backup_status is None  # no section backed up
    html = response.content.decode()
    alice = html[html.index(f'data-account="{accounts["alice"].pk}"'):]
    alice = alice[: alice.index("</tr>")]
    for expected in ('href="#product-email"', "alice@contoso.test", "Contoso", "8f14e45f-alice", 'data-result="failed"', "Failed"):
        assert expected in alice
    carol = html[html.index(f'data-account="{accounts["carol"].pk}"'):]
    assert 'data-result="never"' in carol[: carol.index("</tr>")]
    assert 'href="#product-group_team"' in html and 'href="#product-sharepoint"' in html and 'href="#product-drive"' in html


def test_acc2_row_menu_offers_the_organization_only_when_its_details_are_viewable(signed_in, owner, org_a, org_b, accounts):
    html = signed_in(owner).get(URL).content.decode()
    assert html.count(f'href="/console/accounts/{accounts["alice"].pk}/"') == 2  # the name and "View details"
    assert f'href="/console/organizations/{org_a.pk}/"' in html
    assert f'href="/console/organizations/{org_b.pk}/"' not in html  # deleted subscription (ORG-8)


def test_acc2_pages_of_25_newest_first_without_counting(signed_in, owner, org_a, accounts):
    for n in range(30):
        seed.account(org_a, f"user{n:02d}@contoso.test")
    client = signed_in(owner)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(URL)
    assert not any("COUNT(" in q["sql"].upper() and "saas_account" in q["sql"] for q in queries.captured_queries)
    rows = list(first.context["page"])
    assert len(rows) == 25 and rows[0].address == "user29@contoso.test"
    assert [r.pk for r in rows] == sorted((r.pk for r in rows), reverse=True)
    page = first.context["page"]
    assert page.next_cursor and not page.previous_cursor
    second = client.get(URL, {"cursor": page.next_cursor})
    assert len(second.context["page"]) == 36 - 25
    assert second.context["page"].previous_cursor and not second.context["page"].next_cursor
    assert {r.pk for r in second.context["page"]}.isdisjoint(r.pk for r in rows)
    back = client.get(URL, {"cursor": second.context["page"].previous_cursor})
    assert [r.pk for r in back.context["page"]] == [r.pk for r in rows]


@pytest.mark.parametrize("who", ["owner", "admin_scoped"])
def test_acc2_list_queries_do_not_grow_with_rows(signed_in, request, org_a, accounts, who):
    client = signed_in(request.getfixturevalue(who))
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(25):
        seed.account(org_a, f"more{n}@contoso.test", sections=[("email", "success", 1, 1)])
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert len(response.context["page"]) == 25
    assert len(many) == len(few) <= 14


# ACC-3: details.


def test_acc3_account_details_show_each_sections_status_dates_and_numbers(signed_in, owner, org_a, accounts):
    alice = accounts["alice"]
    response = signed_in(owner).get(f"{URL}{alice.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Account details" in html and "8f14e45f-alice" in html and "Contoso" in html and "Mailbox" in html
    assert [s.section for s in response.context["sections"]] == ["email", "calendar", "contact", "tasks"]
    email = html[html.index('data-section="email"'):]
    email = email[: email.index("</dl>")]
    for expected in ("Active", "12,345", "3.0\xa0GB", 'data-result="success"', "Last backup"):
        assert expected in email, expected
    calendar = html[html.index('data-section="calendar"'):]
    assert 'data-result="failed"' in calendar[: calendar.index("</dl>")]
    assert f'href="/console/organizations/{org_a.pk}/"' in html


def test_acc3_site_details_show_domain_files_size_and_last_backup(signed_in, owner, accounts):
    response = signed_in(owner).get(f"{URL}{accounts['intranet'].pk}/")
    html = response.content.decode()
    assert response.templates[0].name == "saas/accounts/site.html"
    for expected in ("Site details", "Contoso Intranet", "site-d3d94468", "contoso.sharepoint.com", "48,213", "7.0\xa0GB",
                     'data-result="success"'):
        assert expected in html, expected


def test_acc3_group_details_of_a_deleted_organization_offer_no_organization_page(signed_in, owner, org_b, accounts):
    html = signed_in(owner).get(f"{URL}{accounts['sales'].pk}/").content.decode()
    assert "Group details" in html and "fabrikam.onmicrosoft.com" in html and "Not backed up yet" in html
    assert f"/console/organizations/{org_b.pk}/" not in html


def test_acc3_details_of_another_partners_account_are_404(signed_in, owner, outsider, accounts):
    assert signed_in(owner).get(f"{URL}{accounts['dave'].pk}/").status_code == 404
    assert sign_in(Client(), outsider).get(f"{URL}{accounts['alice'].pk}/").status_code == 404
    assert signed_in(owner).get(f"{URL}999999999/").status_code == 404


# GRP-3 and who sees the page.


@pytest.mark.parametrize("by_id", [200, 0], ids=["scope-by-id", "scope-by-subquery"])
def test_grp3_scoped_admin_sees_only_accounts_of_their_groups_organizations(
    signed_in, admin_scoped, org_b, accounts, monkeypatch, by_id
):
    """The policy names small scopes by id, larger ones by a subquery: the same rows."""
    monkeypatch.setattr("portico.access.policy.SCOPE_BY_ID", by_id)
    client = signed_in(admin_scoped)
    response = client.get(URL)
    assert shown(response) == {"alice@contoso.test", "info@contoso.test", "bob@contoso.test", "Contoso Intranet"}
    assert [o.name for o in response.context["filters"].fields["organization"].queryset] == ["Contoso"]
    assert client.get(f"{URL}{accounts['carol'].pk}/").status_code == 404
    assert client.get(f"{URL}{accounts['alice'].pk}/").status_code == 200
    # An organization outside the groups is no choice; the search finds nothing of it either.
    refused = client.get(URL, {"organization": org_b.pk})
    assert refused.context["filters"].errors["organization"] and "carol@fabrikam.test" not in shown(refused)
    assert shown(client.get(URL, {"q": "fabrikam"})) == set()


def test_finance_sees_the_accounts_it_bills(signed_in, finance, accounts):
    """Decision: Finance sees every account of the partner, as it sees every organization (GRP-3)."""
    client = signed_in(finance)
    assert shown(client.get(URL)) == {a.address for key, a in accounts.items() if key != "dave"}
    assert client.get(f"{URL}{accounts['bob_drive'].pk}/").status_code == 200


def test_other_partners_staff_see_none_of_these_accounts(signed_in, outsider, accounts):
    assert shown(signed_in(outsider).get(URL)) == {"dave@litware.test"}


def test_end_users_find_no_accounts_page(signed_in, user_org, accounts):
    client = signed_in(user_org)
    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}{accounts['alice'].pk}/").status_code == 404
