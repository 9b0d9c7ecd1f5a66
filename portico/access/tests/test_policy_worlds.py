"""The policy against the independent model in `tests/access_oracle.py`, over random worlds.

Each world has two partners with organizations, staff of every rank (some managing groups with
random scopes), end-user roles (and the built-in Full Portal Access), end users of one
organization (some with devices of all organizations), roles and direct permissions, customer
users, and devices with random assignments, including assignments that break EU-4. For every
(membership, object, action), `can` and `explain` agree with the model, and `restrict` returns
exactly the model's set (EU-1 … EU-5, PERM-1 … PERM-5, DEV-2, PU-1, PU-2, GRP-1 … GRP-3, ID-6).

`PORTICO_WORLDS=2000 .venv/bin/python -m pytest portico/access/tests/test_policy_worlds.py` runs
2,000 worlds; CI runs 200.
"""

from __future__ import annotations

import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico import seed
from portico.access import policy
from portico.access.explain import explain
from portico.access.models import EndUserRole, full_portal_access
from portico.devices.models import Device
from portico.identity.models import Membership, Person
from portico.tenancy.models import Group, Organization
from tests import access_oracle as oracle

WORLDS = int(os.environ.get("PORTICO_WORLDS", "200"))
UNKNOWN_ACTION = "frobnicate"


@st.composite
def codes(draw) -> set[str]:
    """Permission sets where the connections switch is often on, so per-OS rules matter."""
    drawn = set(draw(st.lists(st.sampled_from(oracle.CODES), max_size=8)))
    return drawn | {"connections"} if draw(st.booleans()) else drawn


@st.composite
def worlds(draw) -> oracle.World:
    world = oracle.World()
    keys = iter(range(1, 10_000))
    for partner in (0, 1):
        for _ in range(draw(st.integers(1, 3))):
            key = next(keys)
            world.orgs[key] = oracle.Org(key, partner)
    orgs_of = {p: [o.key for o in world.orgs.values() if o.partner == p] for p in (0, 1)}
    world.roles[0] = oracle.Role(0, None, set(oracle.CODES))  # Full Portal Access
    for partner in (0, 1):
        for _ in range(draw(st.integers(0, 2))):
            key = next(keys)
            world.roles[key] = oracle.Role(key, partner, draw(codes()))
    owners: set[int] = set()
    for _ in range(draw(st.integers(1, 9))):
        partner = draw(st.integers(0, 1))
        kind = draw(st.sampled_from(["staff", "staff", "end_user", "end_user", "customer"]))
        key = next(keys)
        member = oracle.Member(key, partner, kind, enabled=draw(st.booleans() | st.just(True)))
        if kind == "staff":
            member.role = draw(st.sampled_from(oracle.STAFF_ROLES))
            if member.role == "owner":
                if partner in owners:
                    member.role = "admin"
                owners.add(partner)
        elif kind == "end_user":
            member.organization = draw(st.sampled_from(orgs_of[partner]))
            member.all_organizations = draw(st.booleans())
            member.roles = draw(st.sets(st.sampled_from([r.key for r in world.roles.values() if r.partner in (None, partner)])))
            member.codes = draw(codes())
        else:
            member.organization = draw(st.sampled_from(orgs_of[partner]))
        world.members[key] = member
    for partner in (0, 1):
        scopable = [m.key for m in world.members.values() if m.partner == partner and m.role in oracle.SCOPABLE]
        for _ in range(draw(st.integers(0, 2))):
            key = next(keys)
            world.groups[key] = oracle.Group(
                key,
                partner,
                draw(st.sets(st.sampled_from(orgs_of[partner]), max_size=2)),
                draw(st.sets(st.sampled_from(scopable), max_size=2)) if scopable else set(),
            )
    end_users = [m for m in world.members.values() if m.kind == "end_user"]
    for _ in range(draw(st.integers(0, 6))):
        key = next(keys)
        org = world.orgs[draw(st.sampled_from(sorted(world.orgs)))]
        same_partner = [m.key for m in end_users if m.partner == org.partner]
        world.devices[key] = oracle.Device(
            key,
            org.partner,
            org.key,
            draw(st.sampled_from(oracle.OSES)),
            draw(st.booleans()),
            # Any end user of the partner, even outside their organization access (breaks EU-4).
            draw(st.sets(st.sampled_from(same_partner), min_size=1)) if same_partner else set(),
        )
    return world


class Built:
    """The world written to the database, with the map from model keys to rows."""

    def __init__(self, world: oracle.World):
        partners = [seed.partner("Partner 0"), seed.partner("Partner 1")]
        self.orgs = {k: seed.organization(partners[o.partner], f"Org {k}") for k, o in world.orgs.items()}
        self.roles: dict[int, EndUserRole] = {0: full_portal_access()}
        for k, r in world.roles.items():
            if r.partner is not None:
                self.roles[k] = seed.role(partners[r.partner], f"Role {k}", *sorted(r.codes))
        self.members: dict[int, Membership] = {}
        for k, m in world.members.items():
            person = Person.objects.create_user(f"person{k}@world.test")
            fields = {"enabled": m.enabled}
            if m.kind == "staff":
                row = seed.staff(person, partners[m.partner], m.role, **fields)
            elif m.kind == "end_user":
                row = seed.end_user(
                    person, self.orgs[m.organization], all_organizations=m.all_organizations, **fields
                )
                seed.give_roles(row, *(self.roles[r] for r in m.roles))
                seed.grant(row, *m.codes)
            else:
                row = seed.customer_user(person, self.orgs[m.organization], **fields)
            self.members[k] = row
        self.groups = {
            k: seed.group(
                partners[g.partner],
                f"Group {k}",
                organizations=[self.orgs[o] for o in g.scope],
                managers=[self.members[m] for m in g.managers],
            )
            for k, g in world.groups.items()
        }
        self.devices = {}
        for k, d in world.devices.items():
            self.devices[k] = seed.device(self.orgs[d.organization], f"Device {k}", d.os, backup_enabled=d.backup)
            for member in d.assigned:
                seed.assign(self.members[member], self.devices[k])


def _check(world, built, model, rows, objects, allows, actions):
    """`restrict` and `can` equal the model for every member and action over these objects."""
    pk_of = {key: row.pk for key, row in rows.items()}
    for actor_key, actor in world.members.items():
        member = built.members[actor_key]
        for action in actions + [UNKNOWN_ACTION]:
            expected = {pk_of[k] for k, obj in objects.items() if allows(world, actor, action, obj)}
            got = set(policy.restrict(model.objects.filter(pk__in=pk_of.values()), member, action).values_list("pk", flat=True))
            assert got == expected, (model.__name__, actor, action)
            for key, obj in objects.items():
                assert policy.can(member, action, rows[key]) is (pk_of[key] in expected), (model.__name__, actor, obj, action)


@pytest.mark.django_db
@settings(max_examples=WORLDS, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds())
def test_policy_equals_the_spec_model_in_random_worlds(world):
    with transaction.atomic():
        built = Built(world)
        _check(world, built, Membership, built.members, world.members, oracle.allows_member, oracle.MEMBERSHIP_ACTIONS)
        _check(world, built, Organization, built.orgs, world.orgs, oracle.allows_org, oracle.OBJECT_ACTIONS)
        _check(world, built, Group, built.groups, world.groups, oracle.allows_group, oracle.OBJECT_ACTIONS)
        _check(world, built, EndUserRole, built.roles, world.roles, oracle.allows_role, oracle.OBJECT_ACTIONS)
        _check(
            world, built, Device, built.devices, world.devices, oracle.allows_device,
            oracle.OBJECT_ACTIONS + oracle.DEVICE_USES,
        )
        # explain gives the same answer as can, with a denying reason whenever it says no.
        for actor_key, actor in world.members.items():
            for device_key, device in world.devices.items():
                for action in oracle.DEVICE_USES + ["view"]:
                    why = explain(built.members[actor_key], action, built.devices[device_key])
                    assert why.allowed is oracle.allows_device(world, actor, action, device), (actor, device, action)
                    assert why.allowed or why.denial is not None
        transaction.set_rollback(True)


ENDPOINTS = {
    "/api/v1/devices/": lambda world: [(k, d, oracle.allows_device) for k, d in world.devices.items()],
    "/api/v1/end-users/": lambda world: [(k, m, oracle.allows_member) for k, m in world.members.items() if m.kind == "end_user"],
    "/api/v1/staff-users/": lambda world: [(k, m, oracle.allows_member) for k, m in world.members.items() if m.kind == "staff"],
    "/api/v1/end-user-roles/": lambda world: [(k, r, oracle.allows_role) for k, r in world.roles.items()],
    "/api/v1/groups/": lambda world: [(k, g, oracle.allows_group) for k, g in world.groups.items()],
}


def _rows(built: Built, path: str) -> dict:
    return {
        "/api/v1/devices/": built.devices,
        "/api/v1/end-users/": built.members,
        "/api/v1/staff-users/": built.members,
        "/api/v1/end-user-roles/": built.roles,
        "/api/v1/groups/": built.groups,
    }[path]


def _all_ids(client, path: str) -> set[int]:
    ids: set[int] = set()
    url = f"{path}?page_size=2"  # small pages, so following the cursor is part of the proof
    while url:
        response = client.get(url)
        assert response.status_code == 200, (path, response.status_code)
        body = response.json()
        ids |= {row["id"] for row in body["results"]}
        url = body["next"]
    return ids


@pytest.mark.django_db
@settings(
    max_examples=max(WORLDS // 7, 20), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(world=worlds())
def test_every_api_list_returns_exactly_what_the_spec_model_allows(world):
    """Lists, with their pagination, show what the model allows and nothing else (DESIGN mechanism 2)."""
    from tests.support import api_client

    with transaction.atomic():
        built = Built(world)
        for actor_key, actor in world.members.items():
            if not actor.enabled:
                continue
            client = api_client(built.members[actor_key])
            for path, objects in ENDPOINTS.items():
                rows = _rows(built, path)
                expected = {rows[k].pk for k, obj, allows in objects(world) if allows(world, actor, "view", obj)}
                assert _all_ids(client, path) == expected, (path, actor)
        transaction.set_rollback(True)
