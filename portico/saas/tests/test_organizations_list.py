"""The organizations page of the partner portal (ORG-1 … ORG-5, ORG-7's button, ORG-8's row
actions, GRP-3): tabs, search, filters, rows with their usage, pages of 20, and who sees what."""

from __future__ import annotations

import re

import pytest

from portico import seed
from portico.access.roles import StaffRole
from portico.saas.models import Subscription
from tests.support import PASSWORD

pytestmark = pytest.mark.django_db

LIST = "/console/organizations/"
GIB = 1024**3


@pytest.fixture
def backup_plan(partner):
    return seed.plan(partner, "Business Backup", "backup", price="3.50", currency="EUR")


@pytest.fixture
def personal_plan(partner):
    return seed.plan(partner, "Solo", "personal", price="1.99")


@pytest.fixture
def archiver_plan(partner):
    return seed.plan(partner, "Vault", "archiver", price="6.00")


def customer_admin(org, email: str | None = None, **fields):
    email = email or f"it@{org.name.lower().replace(' ', '-')}.test"
    return seed.customer_user(seed.person(email, first_name="Ida", last_name="Admin"), org, **fields)


def subscribe(org, plan, **fields) -> Subscription:
    """`org` on `plan`, with an enabled admin (its contact) unless `admin` is given."""
    if "admin" not in fields:
        fields["admin"] = customer_admin(org)
        fields.setdefault("contact_email", fields["admin"].person.email)
    return seed.subscription(org, plan, **fields)


def ids_on(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [int(pk) for pk in re.findall(r'data-organization="(\d+)"', response.content.decode())]


def names_on(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return re.findall(r"data-name>([^<]*)<", response.content.decode())


def row_of(response, pk: int) -> str:
    html = response.content.decode()
    start = html.index(f'data-organization="{pk}"')
    end = html.find("data-organization=", start + 10)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture
def contoso(org_a, backup_plan):
    return subscribe(org_a, backup_plan)


@pytest.fixture
def fabrikam(org_b, personal_plan):
    return subscribe(org_b, personal_plan)


@pytest.fixture
def litware(foreign_org, other_partner):
    return subscribe(foreign_org, seed.plan(other_partner, "Business Backup", "backup"))


# ORG-1: status tabs.


def test_org1_active_tab_is_the_default_and_marked(owner, signed_in, contoso, partner, backup_plan):
    suspended = subscribe(seed.organization(partner, "Tailspin"), backup_plan, status="suspended")
    response = signed_in(owner).get(LIST)
    assert ids_on(response) == [contoso.pk]
    assert re.search(r'class="nav-link active" href="[^"]*" data-tab="active" aria-current="page"', response.content.decode())
    assert suspended.pk not in ids_on(response)


@pytest.mark.parametrize("status", ["active", "suspended", "unsubscribed", "deleted"])
def test_org1_each_tab_lists_its_status_only(owner, signed_in, partner, backup_plan, status):
    by_status = {
        s: subscribe(seed.organization(partner, f"Org {s}"), backup_plan, status=s)
        for s in ("active", "suspended", "unsubscribed", "deleted")
    }
    response = signed_in(owner).get(LIST, {"status": status})
    assert ids_on(response) == [by_status[status].pk]
    assert f'data-tab="{status}" aria-current="page"' in response.content.decode()


def test_org1_tabs_keep_the_search_and_filters(owner, signed_in, contoso):
    html = signed_in(owner).get(LIST, {"q": "cont", "plan_type": "backup", "page": "3"}).content.decode()
    link = re.search(r'href="\?([^"]*)" data-tab="suspended"', html).group(1)
    assert "q=cont" in link and "plan_type=backup" in link and "status=suspended" in link
    assert "page=" not in link


def test_org1_unknown_status_shows_active_and_says_so(owner, signed_in, contoso):
    response = signed_in(owner).get(LIST, {"status": "archived'; drop"})
    assert ids_on(response) == [contoso.pk]
    assert 'data-testid="filter-errors"' in response.content.decode()


# ORG-2: search by name or id.


def test_org2_search_by_part_of_the_name_case_insensitive(owner, signed_in, contoso, fabrikam):
    client = signed_in(owner)
    assert ids_on(client.get(LIST, {"q": "NTOS"})) == [contoso.pk]
    assert ids_on(client.get(LIST, {"q": "  brik "})) == [fabrikam.pk]
    assert ids_on(client.get(LIST, {"q": "nothing like it"})) == []


def test_org2_search_by_id(owner, signed_in, contoso, fabrikam):
    assert ids_on(signed_in(owner).get(LIST, {"q": str(fabrikam.pk)})) == [fabrikam.pk]


@pytest.mark.parametrize(
    "name, query",
    [
        ("100% Uptime", "100%"),
        ("A_B Ltd", "a_b"),
        ("O'Brien & Sons", "o'brien"),
        ('The "Quoted" Co', '"quoted"'),
        ("Back\\slash", "k\\s"),
        ("Café 🚀 Rocket", "🚀"),
    ],
)
def test_org2_special_characters_match_themselves_only(owner, signed_in, partner, backup_plan, contoso, name, query):
    special = subscribe(seed.organization(partner, name), backup_plan)
    subscribe(seed.organization(partner, "Plain Name"), backup_plan)
    response = signed_in(owner).get(LIST, {"q": query})
    assert ids_on(response) == [special.pk]


@pytest.mark.parametrize("query", ["%", "_", "\\", "'", '"', "%%_", "' OR 1=1 --"])
def test_org2_wildcards_are_not_wildcards(owner, signed_in, contoso, fabrikam, query):
    assert ids_on(signed_in(owner).get(LIST, {"q": query})) == []


@pytest.mark.parametrize("query", ["x" * 10_000, "a\x00b", "%" * 201, "\U0001f600" * 300])
def test_org2_overlong_or_nul_search_is_a_field_error_never_a_500(owner, signed_in, contoso, litware, query):
    response = signed_in(owner).get(LIST, {"q": query})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="form-control is-invalid" type="search"' in html
    assert litware.pk not in ids_on(response)
    shown = re.search(r'type="search" name="q" [^>]*value="([^"]*)"', html).group(1)
    assert len(shown) <= 200 * len("&#x27;")  # the value shown back is cut to the field's length


def test_org2_digits_that_are_not_numbers_are_searched_as_text(owner, signed_in, partner, backup_plan):
    squared = subscribe(seed.organization(partner, "Area² Ltd"), backup_plan)
    assert ids_on(signed_in(owner).get(LIST, {"q": "²"})) == [squared.pk]


def test_org2_search_never_finds_another_partners_organization(owner, signed_in, contoso, litware):
    client = signed_in(owner)
    assert ids_on(client.get(LIST, {"q": "Litware"})) == []
    assert ids_on(client.get(LIST, {"q": str(litware.pk)})) == []


# ORG-3: filters.


def test_org3_plan_type_filter(owner, signed_in, partner, contoso, fabrikam, archiver_plan):
    vault = subscribe(seed.organization(partner, "Vaulted"), archiver_plan)
    client = signed_in(owner)
    assert ids_on(client.get(LIST, {"plan_type": "personal"})) == [fabrikam.pk]
    assert ids_on(client.get(LIST, {"plan_type": "backup"})) == [contoso.pk]
    assert ids_on(client.get(LIST, {"plan_type": "archiver"})) == [vault.pk]
    assert ids_on(client.get(LIST, {"plan_type": ""})) == [contoso.pk, fabrikam.pk, vault.pk]


def test_org3_credential_status_filter(owner, signed_in, contoso, fabrikam):
    Subscription.objects.filter(pk=fabrikam.pk).update(credential_status="need_auth", credential_error="Token revoked")
    client = signed_in(owner)
    assert ids_on(client.get(LIST, {"credential_status": "need_auth"})) == [fabrikam.pk]
    assert ids_on(client.get(LIST, {"credential_status": ""})) == [contoso.pk, fabrikam.pk]


@pytest.mark.parametrize("field", ["plan_type", "credential_status"])
def test_org3_unknown_filter_value_is_ignored_with_an_error(owner, signed_in, contoso, fabrikam, field):
    response = signed_in(owner).get(LIST, {field: "platinum<script>"})
    assert ids_on(response) == [contoso.pk, fabrikam.pk]
    html = response.content.decode()
    assert "is-invalid" in html and "<script>" not in html


# ORG-4: rows.


def test_org4_row_shows_name_email_id_plan_price_and_usage(owner, signed_in, org_a, contoso):
    seed.account(org_a, "ann@contoso.test", sections=[("email", "success", 10, 3 * GIB), ("calendar", "success", 5, GIB)])
    seed.account(org_a, "bob@contoso.test", "drive", sections=[("drive", "failed", 1, GIB // 2)])
    seed.account(org_a, "old@contoso.test", status="deactivated", sections=[("email", "success", 1, GIB // 2)])
    seed.account(org_a, "paused@contoso.test", backed_up=False)
    response = signed_in(owner).get(LIST)
    row = row_of(response, contoso.pk)
    for text in ["Contoso", contoso.contact_email, f"<span data-id>{contoso.pk}</span>", "Business Backup", "Backup",
                 "3.50 EUR", 'data-plan-icon="backup"']:
        assert text in row, text
    # Seats: the active, backed-up accounts; storage: every section's bytes (5 GiB of 500 GiB).
    assert f'data-seats="2/{contoso.paid_seats}"' in row
    assert f'data-storage="{5 * GIB}/{500 * GIB}"' in row
    assert "2 / 50" in row and "5.0\xa0GB / 500.0\xa0GB" in row
    assert re.search(r'<meter class="w-100" min="0" max="50" [^>]*value="2"', row)


def test_org4_usage_beyond_what_was_bought_is_marked(owner, signed_in, partner, org_a, backup_plan):
    small = subscribe(org_a, backup_plan, paid_seats=1, storage_gib=1)
    seed.account(org_a, "a@contoso.test", sections=[("email", "success", 1, 2 * GIB)])
    seed.account(org_a, "b@contoso.test")
    row = row_of(signed_in(owner).get(LIST), small.pk)
    assert row.count("text-danger fw-semibold") == 2


# ORG-5: 20 a page, Previous / Next only beyond 20.


def many(partner, plan, count: int) -> list[Subscription]:
    return [subscribe(seed.organization(partner, f"Org {i:03d}"), plan) for i in range(count)]


def test_org5_twenty_organizations_fit_one_page_without_previous_or_next(owner, signed_in, partner, backup_plan):
    many(partner, backup_plan, 20)
    response = signed_in(owner).get(LIST)
    html = response.content.decode()
    assert len(ids_on(response)) == 20
    assert ">Next<" not in html and ">Previous<" not in html


def test_org5_the_21st_organization_brings_next_then_previous(owner, signed_in, partner, backup_plan):
    rows = many(partner, backup_plan, 21)
    client = signed_in(owner)
    first = client.get(LIST)
    assert ids_on(first) == [s.pk for s in rows[:20]]
    assert ">Next<" in first.content.decode() and ">Previous<" not in first.content.decode()
    second = client.get(LIST, {"page": "2"})
    assert ids_on(second) == [rows[20].pk]
    assert ">Previous<" in second.content.decode() and ">Next<" not in second.content.decode()


@pytest.mark.parametrize("page", ["999", "0", "-3", "abc", "1e9", "99999999999999999999", "２"])
def test_org5_page_numbers_out_of_range_are_answered(owner, signed_in, contoso, page):
    response = signed_in(owner).get(LIST, {"page": page})
    assert response.status_code == 200
    rows = ids_on(response)
    assert rows == [contoso.pk] or (rows == [] and 'data-testid="no-organizations"' in response.content.decode())


def test_org5_a_page_costs_the_same_queries_for_2_rows_as_for_20(
    owner, signed_in, partner, backup_plan, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(owner)
    for sub in many(partner, backup_plan, 2):
        seed.account(sub.organization, f"a@{sub.pk}.test", sections=[("email", "success", 1, 10)])
    with CaptureQueriesContext(connection) as two:
        assert len(ids_on(client.get(LIST))) == 2
    for sub in many(partner, backup_plan, 30)[2:]:
        seed.account(sub.organization, f"a@{sub.pk}.test", sections=[("email", "success", 1, 10)])
    # Session, person, membership; the page; what each row offers (details, reset, groups); can create.
    with django_assert_max_num_queries(10) as twenty:
        assert len(ids_on(client.get(LIST))) == 20
    assert len(twenty) == len(two)
    assert not any("COUNT(*)" in q["sql"] and "saas_subscription" in q["sql"] and "LIMIT" not in q["sql"]
                   for q in twenty.captured_queries)


# GRP-3: who sees which organizations.


def test_grp3_scoped_admin_sees_only_their_groups_organizations(admin_scoped, signed_in, contoso, fabrikam, litware):
    client = signed_in(admin_scoped)
    assert ids_on(client.get(LIST)) == [contoso.pk]
    assert ids_on(client.get(LIST, {"q": str(fabrikam.pk)})) == []


@pytest.mark.parametrize("who", ["owner", "super_admin", "finance", "admin", "support"])
def test_grp3_unscoped_roles_see_every_organization_of_their_partner(request, who, signed_in, contoso, fabrikam, litware):
    assert ids_on(signed_in(request.getfixturevalue(who)).get(LIST)) == [contoso.pk, fabrikam.pk]


def test_org9_new_organization_button_only_for_those_who_may_create(
    owner, admin, finance, support, admin_scoped, client, contoso
):
    from tests.support import sign_in

    for who, shown in [(owner, True), (admin, True), (finance, False), (support, False), (admin_scoped, False)]:
        client.logout()
        html = sign_in(client, who).get(LIST).content.decode()
        assert ("/console/organizations/new/" in html) is shown, who.staff_role
        assert 'id="list-actions"' in html


def test_customer_and_end_users_find_no_organizations_page(user_org, signed_in, contoso):
    assert signed_in(user_org).get(LIST).status_code == 404


# ORG-7: the log in as client button.


def test_org7_login_button_posts_for_an_admin_of_a_partner_without_groups(owner, signed_in, contoso):
    row = row_of(signed_in(owner).get(LIST), contoso.pk)
    assert 'data-client-login="allowed"' in row
    assert f'action="/console/organizations/{contoso.pk}/log-in-as-client/"' in row


def test_org7_login_button_disabled_with_the_reason_for_finance(finance, signed_in, contoso):
    row = row_of(signed_in(finance).get(LIST), contoso.pk)
    assert 'data-client-login="denied"' in row and "disabled" in row
    assert "Your role (Finance) does not log in to customer portals." in row
    assert "log-in-as-client" not in row


@pytest.mark.parametrize("who", ["admin", "support"])
def test_org7_grp3_login_button_disabled_for_admin_or_support_without_groups(request, who, signed_in, contoso):
    row = row_of(signed_in(request.getfixturevalue(who)).get(LIST), contoso.pk)
    assert 'data-client-login="denied"' in row
    assert "You manage no group." in row


def test_org7_scoped_admin_may_log_in_within_their_group(admin_scoped, signed_in, contoso):
    assert 'data-client-login="allowed"' in row_of(signed_in(admin_scoped).get(LIST), contoso.pk)


def test_org7_no_login_without_an_enabled_admin_or_for_deleted(owner, signed_in, partner, backup_plan, org_a):
    disabled = subscribe(org_a, backup_plan, admin=customer_admin(org_a, enabled=False))
    nobody = subscribe(seed.organization(partner, "Nobody Inc"), backup_plan, admin=None)
    gone = subscribe(seed.organization(partner, "Gone Inc"), backup_plan, status="deleted")
    client = signed_in(owner)
    active = client.get(LIST)
    for sub in (disabled, nobody):
        assert "The organization has no enabled admin login account." in row_of(active, sub.pk)
    assert "The organization is deleted." in row_of(client.get(LIST, {"status": "deleted"}), gone.pk)


def test_org7_each_rows_button_agrees_with_the_policy(partner, signed_in, backup_plan):
    """Per row, the button is what `policy.can` answers, though the page asks no query per row."""
    from portico.access import policy
    from portico.access.policy import SubscriptionAction

    support_scoped = seed.staff(seed.person("sam@northwind.test", PASSWORD, first_name="Sam"), partner, StaffRole.SUPPORT)
    orgs = [seed.organization(partner, f"Org {i}") for i in range(3)]
    seed.group(partner, "Two of three", organizations=orgs[:2], managers=[support_scoped])
    subs = [subscribe(orgs[0], backup_plan), subscribe(orgs[1], backup_plan, admin=None), subscribe(orgs[2], backup_plan)]
    response = signed_in(support_scoped).get(LIST)
    assert ids_on(response) == [subs[0].pk, subs[1].pk]
    for sub in subs[:2]:
        allowed = policy.can(support_scoped, SubscriptionAction.LOG_IN_AS_CLIENT, sub)
        assert ('data-client-login="allowed"' in row_of(response, sub.pk)) is allowed
    assert [policy.can(support_scoped, SubscriptionAction.LOG_IN_AS_CLIENT, sub) for sub in subs[:2]] == [True, False]


# ORG-8: row actions.


def test_org8_row_actions_for_an_active_organization(owner, signed_in, contoso):
    row = row_of(signed_in(owner).get(LIST), contoso.pk)
    assert 'data-action="details"' in row
    assert 'data-action="credentials"' not in row  # credentials work
    assert 'data-action="reset-password"' in row and f"Send a password reset link to {contoso.admin.person.email}?" in row


def test_org8_credential_page_only_when_authentication_is_needed(owner, signed_in, contoso):
    Subscription.objects.filter(pk=contoso.pk).update(credential_status="need_auth")
    row = row_of(signed_in(owner).get(LIST), contoso.pk)
    assert f'href="/console/organizations/{contoso.pk}/credentials/" data-action="credentials"' in row
    assert "Need authentication" in row


def test_org8_deleted_organization_offers_no_details(owner, signed_in, partner, backup_plan):
    gone = subscribe(seed.organization(partner, "Gone Inc"), backup_plan, status="deleted")
    row = row_of(signed_in(owner).get(LIST, {"status": "deleted"}), gone.pk)
    assert 'data-action="details-disabled"' in row and 'data-action="details"' not in row
    assert f"/console/organizations/{gone.pk}/\"" not in row
    assert 'data-action="reset-password"' not in row


@pytest.mark.parametrize("who", ["finance", "support"])
def test_org8_reset_password_not_offered_to_roles_that_may_not(request, who, signed_in, contoso):
    row = row_of(signed_in(request.getfixturevalue(who)).get(LIST), contoso.pk)
    assert 'data-action="reset-password"' not in row
    assert 'data-action="details"' in row
