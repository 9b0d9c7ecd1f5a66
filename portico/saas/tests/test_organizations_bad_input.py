"""Hostile input to the organizations page (ORG-1 … ORG-3, ORG-5, ORG-9): any query string on the
list, any form on a new organization. Never a 500, never another partner's organization, and a
refused form creates nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given

from portico import seed
from portico.saas.models import Subscription
from tests.bad_input import FUZZ, assert_handled, encodings, form, post

pytestmark = pytest.mark.django_db

LIST = "/console/organizations/"
NEW = "/console/organizations/new/"
FILTERS = ["status", "q", "plan_type", "credential_status", "added_from", "added_to", "page"]
NEW_FIELDS = ["plan", "name", "contact_email", "contact_first_name", "contact_last_name", "paid_seats",
              "storage_quota_gib", "country"]


@pytest.fixture
def owner_client(signed_in, owner):
    # Signed in once per test, not per example: sign-ins are rate limited (ID-12).
    return signed_in(owner)


@pytest.fixture
def litware(foreign_org, other_partner):
    return seed.subscription(foreign_org, seed.plan(other_partner, "Backup", "backup"))


@pytest.fixture
def contoso(org_a, partner):
    return seed.subscription(org_a, seed.plan(partner, "Backup", "backup"))


@FUZZ
@given(data=form(FILTERS))
def test_org2_org3_org5_list_survives_any_query(owner_client, contoso, litware, data):
    response = owner_client.get(f"{LIST}?{urlencode(data, doseq=True)}")
    assert_handled(response, {200})
    assert f'data-organization="{litware.pk}"' not in response.content.decode()


@FUZZ
@given(data=form(NEW_FIELDS), encoding=encodings)
def test_org9_new_organization_form_survives_any_input(owner_client, contoso, data, encoding):
    before = Subscription.objects.count()
    response = post(owner_client, NEW, data, encoding)
    assert_handled(response, {200, 302, 400})
    if response.status_code != 302:
        assert Subscription.objects.count() == before
