"""People of the ticket tests (STYLE.md): `user_own_tickets` and `user_org_wide` in org_a with
ticketing for their own tickets or for the whole organization, `colleague` (own tickets, org_a),
`user_org_b` (organization-wide, org_b), and `user_no_tickets` without ticketing."""

from __future__ import annotations

import pytest

from portico import seed
from portico.access.catalog import TICKETS_ORGANIZATION, TICKETS_OWN
from tests.support import PASSWORD


def _end_user(org, email, first_name, *codes):
    member = seed.end_user(seed.person(email, PASSWORD, first_name=first_name, last_name="User"), org)
    seed.grant(member, *codes)
    return member


@pytest.fixture
def user_own_tickets(org_a):
    return _end_user(org_a, "olivia@contoso.test", "Olivia", TICKETS_OWN)


@pytest.fixture
def user_org_wide(org_a):
    return _end_user(org_a, "wade@contoso.test", "Wade", TICKETS_ORGANIZATION)


@pytest.fixture
def colleague(org_a):
    return _end_user(org_a, "carl@contoso.test", "Carl", TICKETS_OWN)


@pytest.fixture
def user_org_b(org_b):
    return _end_user(org_b, "bea@fabrikam.test", "Bea", TICKETS_ORGANIZATION)


@pytest.fixture
def user_no_tickets(org_a):
    return _end_user(org_a, "nina@contoso.test", "Nina")


@pytest.fixture
def mails(django_capture_on_commit_callbacks):
    """`with mails():` runs what the block queued on commit, so its email reaches the loopback server."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
