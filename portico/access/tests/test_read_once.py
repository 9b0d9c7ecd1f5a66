"""`policy.read_once`: an end user's permissions and a staff user's group scope read once for one
request's block, on that one membership object, and never after it (PERM-5, GRP-3)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portico import seed
from portico.access import catalog, policy
from portico.access.catalog import TICKETS_ORGANIZATION, TICKETS_OWN
from portico.access.models import Grant
from portico.identity.models import Membership
from portico.tenancy.models import Organization
from tests.support import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_own_tickets(user_org):
    seed.grant(user_org, TICKETS_OWN)
    return user_org


def test_inside_the_block_the_permissions_are_read_once(user_own_tickets, django_assert_num_queries):
    with django_assert_num_queries(2):  # a full-access role, then the grants
        with policy.read_once(user_own_tickets):
            assert policy.effective_permissions(user_own_tickets) == {TICKETS_OWN}
            assert policy.can_open_ticket(user_own_tickets)
            assert catalog.ticket_scope(policy.effective_permissions(user_own_tickets)) == "own"


def test_perm5_after_the_block_a_change_counts_on_the_same_object(user_own_tickets):
    with policy.read_once(user_own_tickets):
        assert policy.can_open_ticket(user_own_tickets)
    Grant.objects.filter(membership=user_own_tickets).delete()
    assert not policy.can_open_ticket(user_own_tickets)
    assert policy.effective_permissions(user_own_tickets) == frozenset()


def test_perm5_another_object_of_the_same_membership_reads_them_again(user_own_tickets):
    with policy.read_once(user_own_tickets):
        seed.grant(user_own_tickets, TICKETS_ORGANIZATION)
        assert policy.effective_permissions(user_own_tickets) == {TICKETS_OWN}
        fresh = Membership.objects.get(pk=user_own_tickets.pk)
        assert policy.effective_permissions(fresh) == {TICKETS_OWN, TICKETS_ORGANIZATION}


def test_a_nested_block_keeps_the_outer_reading_and_the_outer_block_ends_it(
    user_own_tickets, django_assert_num_queries
):
    with policy.read_once(user_own_tickets):
        with django_assert_num_queries(0):
            with policy.read_once(user_own_tickets):
                policy.effective_permissions(user_own_tickets)
            policy.effective_permissions(user_own_tickets)
    seed.grant(user_own_tickets, TICKETS_ORGANIZATION)
    assert policy.effective_permissions(user_own_tickets) == {TICKETS_OWN, TICKETS_ORGANIZATION}


def test_a_failing_request_ends_the_block_too(user_own_tickets):
    with pytest.raises(RuntimeError), policy.read_once(user_own_tickets):
        raise RuntimeError
    seed.grant(user_own_tickets, TICKETS_ORGANIZATION)
    assert policy.effective_permissions(user_own_tickets) == {TICKETS_OWN, TICKETS_ORGANIZATION}


def test_no_membership_or_a_technician_reads_nothing(admin, django_assert_num_queries):
    with django_assert_num_queries(0):
        with policy.read_once(None):
            pass
        with policy.read_once(admin):
            assert policy.effective_permissions(admin) == frozenset()


def _visible(member) -> set[int]:
    return set(policy.restrict(Organization.objects.all(), member, "view").values_list("pk", flat=True))


def test_grp3_inside_the_block_the_group_scope_is_read_once(admin_scoped, org_a, org_b, django_assert_num_queries):
    with policy.read_once(admin_scoped):
        assert _visible(admin_scoped) == {org_a.pk}
        with django_assert_num_queries(1):  # the list alone, not the scope again
            assert _visible(admin_scoped) == {org_a.pk}


def test_grp3_after_the_block_a_new_scope_counts_on_the_same_object(admin_scoped, partner, org_a, org_b):
    with policy.read_once(admin_scoped):
        assert _visible(admin_scoped) == {org_a.pk}
        admin_scoped.managed_groups.get().organizations.add(org_b)
        assert _visible(admin_scoped) == {org_a.pk}  # what the request read when it began
    assert _visible(admin_scoped) == {org_a.pk, org_b.pk}


def test_grp3_a_signed_in_page_reads_the_scope_once_and_the_next_one_afresh(client, admin_scoped, org_a, org_b):
    seed.account(org_a, "in.scope@contoso.test")
    seed.account(org_b, "out.of.scope@fabrikam.test")
    sign_in(client, admin_scoped)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("saas:accounts")).content.decode()
    assert "in.scope@contoso.test" in page and "out.of.scope@fabrikam.test" not in page
    scope_reads = [q for q in captured.captured_queries if "tenancy_group_managers" in q["sql"]]
    assert len(scope_reads) == 1, [q["sql"] for q in scope_reads]
    admin_scoped.managed_groups.get().organizations.add(org_b)
    assert "out.of.scope@fabrikam.test" in client.get(reverse("saas:accounts")).content.decode()
