"""Explain access (issue 3, item 2): the reasons agree with `can` for every action on the fixtures' devices.

The end users below hold every mix the policy distinguishes: roles, direct permissions, Full
Portal Access, one or all organizations, and an assignment that breaks EU-4 (written straight
to the table, as a device move could leave it).
"""

from __future__ import annotations

import pytest

from portico import seed
from portico.access import catalog, policy
from portico.access.catalog import DeviceAction
from portico.access.explain import explain
from portico.access.models import full_portal_access
from portico.access.policy import Action
from portico.devices.models import Device

pytestmark = pytest.mark.django_db

ACTIONS = [Action.VIEW, *DeviceAction.values, Action.CHANGE]


@pytest.fixture
def world(partner, org_a, org_b, user_org, user_all_orgs, device_a, device_b, foreign_device):
    """End users with different permissions, each assigned to every fixture device."""
    backed_up = seed.device(org_a, "CONTOSO-MAC", "mac", backup_enabled=True)
    remote_windows = seed.role(
        partner, "Remote Windows", catalog.CONNECTIONS, catalog.connection_code(DeviceAction.REMOTE_CONTROL, "windows")
    )
    seed.give_roles(user_org, remote_windows)
    seed.grant(user_org, catalog.BACKUP_RESTORE, catalog.connection_code(DeviceAction.SYSTEM_CLI, "windows"))

    seed.grant(user_all_orgs, catalog.connection_code(DeviceAction.USER_CLI, "linux"), catalog.BACKUP_RESTORE)
    seed.give_roles(user_all_orgs, seed.role(partner, "Connect", catalog.CONNECTIONS))

    full = seed.end_user(seed.person("full@contoso.test"), org_a)
    seed.give_roles(full, full_portal_access())
    nothing = seed.end_user(seed.person("nothing@contoso.test"), of=partner)
    disabled = seed.end_user(seed.person("gone@contoso.test"), org_a, enabled=False)
    seed.grant(disabled, *catalog.ALL_CODES)

    users = [user_org, user_all_orgs, full, nothing, disabled]
    devices = [device_a, device_b, foreign_device, backed_up]
    for user in users:
        seed.assign(user, *devices)
    return users, devices


def test_perm4_explain_agrees_with_can_for_every_end_user_device_and_action(world):
    users, devices = world
    for user in users:
        for device in Device.objects.filter(pk__in=[d.pk for d in devices]):
            for action in ACTIONS:
                why = explain(user, action, device)
                assert why.allowed == policy.can(user, action, device), (user, device, action, why)
                if why.allowed:
                    assert why.reasons and all(r.grants for r in why.reasons)
                    assert any(r.kind == "assignment" for r in why.reasons)
                    if action != Action.VIEW:
                        assert any(r.kind in ("role", "direct") for r in why.reasons)
                else:
                    assert why.denial is not None and why.denial.text


def test_perm5_explain_names_each_role_and_direct_permission_that_grants(world, user_org, device_a):
    why = explain(user_org, DeviceAction.REMOTE_CONTROL, device_a)
    assert why.allowed
    assert [r.kind for r in why.reasons] == ["assignment", "organization", "role", "role"]
    assert "Remote Windows" in why.reasons[2].text
    why = explain(user_org, DeviceAction.SYSTEM_CLI, device_a)
    assert why.allowed and why.reasons[-1].kind == "direct"


def test_eu4_explain_names_the_organization_rule_that_denies(world, user_org, device_b, foreign_device):
    why = explain(user_org, DeviceAction.RESTORE, device_b)
    assert not why.allowed and "outside this user's organization access" in why.denial.text
    assert "another partner" in explain(user_org, Action.VIEW, foreign_device).denial.text


def test_perm2_restore_needs_backup_on_the_device(world, user_org, device_a):
    why = explain(user_org, DeviceAction.RESTORE, device_a)
    assert not why.allowed and why.denial.text == "Backup is not enabled on this device."


def test_grp3_staff_explain_agrees_with_can_on_every_fixture_device(
    world, owner, admin, admin_scoped, finance, support, outsider
):
    _users, devices = world
    for actor in (owner, admin, admin_scoped, finance, support, outsider):
        for device in devices:
            for action in (Action.VIEW, Action.CHANGE, Action.DELETE):
                why = explain(actor, action, device)
                assert why.allowed == policy.can(actor, action, device), (actor, device, action)
                assert why.allowed or why.denial is not None
