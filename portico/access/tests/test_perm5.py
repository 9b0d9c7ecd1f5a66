"""PERM-5: a change of roles or permissions counts on the very next request, with no cache between.

Each test changes access through the technician's page or the service, then asks again in the
same process — through `can`, through the end user's own API and through the access table.
"""

from __future__ import annotations

import pytest

from portico import seed
from portico.access import catalog, policy, services
from portico.access.catalog import DeviceAction
from portico.identity.end_users import services as end_user_services
from tests.support import api_client

pytestmark = pytest.mark.django_db

USER_CLI_WINDOWS = catalog.connection_code(DeviceAction.USER_CLI, "windows")


@pytest.fixture
def connect(partner):
    return seed.role(partner, "Connect Windows", catalog.CONNECTIONS, USER_CLI_WINDOWS)


def _access(client, end_user, device_action):
    (row,) = client.get(f"/api/v1/end-users/{end_user.pk}/access/").json()["results"]
    return row["actions"][device_action]["allowed"]


def test_perm5_removing_a_role_on_the_roles_tab_counts_on_the_next_request(admin, user_org, device_a, connect, signed_in):
    seed.assign(user_org, device_a)
    seed.give_roles(user_org, connect)
    own_view = api_client(user_org)
    technician = api_client(admin)
    assert policy.can(user_org, DeviceAction.USER_CLI, device_a)
    assert _access(technician, user_org, DeviceAction.USER_CLI) is True

    response = signed_in(admin).post(f"/console/end-users/{user_org.pk}/roles/", {"roles": []})
    assert response.status_code == 302

    assert not policy.can(user_org, DeviceAction.USER_CLI, device_a)
    assert _access(technician, user_org, DeviceAction.USER_CLI) is False
    # The end user still sees the assigned device, and is offered no connection to it.
    assert own_view.get(f"/api/v1/devices/{device_a.pk}/").status_code == 200


def test_perm5_removing_a_direct_permission_on_the_permissions_tab_counts_at_once(admin, user_org, device_a, signed_in):
    seed.assign(user_org, device_a)
    seed.grant(user_org, catalog.CONNECTIONS, USER_CLI_WINDOWS)
    assert policy.can(user_org, DeviceAction.USER_CLI, device_a)

    response = signed_in(admin).post(f"/console/end-users/{user_org.pk}/permissions/", {"user_cli__windows": "on"})
    assert response.status_code == 302

    assert not policy.can(user_org, DeviceAction.USER_CLI, device_a)  # the master switch is off now
    assert policy.effective_permissions(user_org) == {USER_CLI_WINDOWS}


def test_perm5_changing_or_deleting_a_role_counts_for_every_holder_at_once(admin, user_org, user_all_orgs, device_a, connect):
    seed.assign(user_org, device_a)
    seed.assign(user_all_orgs, device_a)
    seed.give_roles(user_org, connect)
    seed.give_roles(user_all_orgs, connect)
    services.update_role(admin, connect, connect.name, "", {catalog.CONNECTIONS})
    assert not policy.can(user_org, DeviceAction.USER_CLI, device_a)
    assert not policy.can(user_all_orgs, DeviceAction.USER_CLI, device_a)

    services.update_role(admin, connect, connect.name, "", {catalog.CONNECTIONS, USER_CLI_WINDOWS})
    assert policy.can(user_all_orgs, DeviceAction.USER_CLI, device_a)
    services.delete_role(admin, connect)
    assert not policy.can(user_all_orgs, DeviceAction.USER_CLI, device_a)
    assert policy.effective_permissions(user_all_orgs) == frozenset()


def test_perm5_an_unassigned_device_is_out_of_reach_on_the_next_request(admin, user_org, device_a, connect):
    seed.assign(user_org, device_a)
    seed.give_roles(user_org, connect)
    own_view = api_client(user_org)
    assert own_view.get(f"/api/v1/devices/{device_a.pk}/").status_code == 200
    end_user_services.unassign_device(admin, user_org, device_a)
    assert own_view.get(f"/api/v1/devices/{device_a.pk}/").status_code == 404
    assert not policy.can(user_org, DeviceAction.USER_CLI, device_a)
