"""`policy.permissions_read_once`: an end user's permissions read once for one request's block,
on that one membership object, and never after it (PERM-5)."""

from __future__ import annotations

import pytest

from portico import seed
from portico.access import catalog, policy
from portico.access.catalog import TICKETS_ORGANIZATION, TICKETS_OWN
from portico.access.models import Grant
from portico.identity.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_own_tickets(user_org):
    seed.grant(user_org, TICKETS_OWN)
    return user_org


def test_inside_the_block_the_permissions_are_read_once(user_own_tickets, django_assert_num_queries):
    with django_assert_num_queries(2):  # a full-access role, then the grants
        with policy.permissions_read_once(user_own_tickets):
            assert policy.effective_permissions(user_own_tickets) == {TICKETS_OWN}
            assert policy.can_open_ticket(user_own_tickets)
            assert catalog.ticket_scope(policy.effective_permissions(user_own_tickets)) == "own"


def test_perm5_after_the_block_a_change_counts_on_the_same_object(user_own_tickets):
    with policy.permissions_read_once(user_own_tickets):
        assert policy.can_open_ticket(user_own_tickets)
    Grant.objects.filter(membership=user_own_tickets).delete()
    assert not policy.can_open_ticket(user_own_tickets)
    assert policy.effective_permissions(user_own_tickets) == frozenset()


def test_perm5_another_object_of_the_same_membership_reads_them_again(user_own_tickets):
    with policy.permissions_read_once(user_own_tickets):
        seed.grant(user_own_tickets, TICKETS_ORGANIZATION)
        assert policy.effective_permissions(user_own_tickets) == {TICKETS_OWN}
        fresh = Membership.objects.get(pk=user_own_tickets.pk)
        assert policy.effective_permissions(fresh) == {TICKETS_OWN, TICKETS_ORGANIZATION}


def test_a_nested_block_keeps_the_outer_reading_and_the_outer_block_ends_it(
    user_own_tickets, django_assert_num_queries
):
    with policy.permissions_read_once(user_own_tickets):
        with django_assert_num_queries(0):
            with policy.permissions_read_once(user_own_tickets):
                policy.effective_permissions(user_own_tickets)
            policy.effective_permissions(user_own_tickets)
    seed.grant(user_own_tickets, TICKETS_ORGANIZATION)
    assert policy.effective_permissions(user_own_tickets) == {TICKETS_OWN, TICKETS_ORGANIZATION}


def test_a_failing_request_ends_the_block_too(user_own_tickets):
    with pytest.raises(RuntimeError), policy.permissions_read_once(user_own_tickets):
        raise RuntimeError
    seed.grant(user_own_tickets, TICKETS_ORGANIZATION)
    assert policy.effective_permissions(user_own_tickets) == {TICKETS_OWN, TICKETS_ORGANIZATION}


def test_no_membership_or_a_technician_reads_nothing(admin, django_assert_num_queries):
    with django_assert_num_queries(0):
        with policy.permissions_read_once(None):
            pass
        with policy.permissions_read_once(admin):
            assert policy.effective_permissions(admin) == frozenset()
