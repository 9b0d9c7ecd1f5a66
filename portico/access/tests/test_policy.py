"""The policy against an independent model of the SPEC rules (PU-1, PU-2, ID-6, EU, DESIGN
mechanism 2), over random worlds of two partners.

The model below is written from the SPEC alone; it imports nothing of `portico.access`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.access import policy
from portico.identity.models import Membership, MembershipKind, Person
from portico.tenancy.models import Organization, Partner

ROLES = ["owner", "super_admin", "admin", "finance", "support"]
ACTIONS = ["view", "change", "disable", "reset_password"]

# The model of the SPEC (PU-1): Owner > Super Admin > Admin > Finance = Support.
RANK = {"owner": 400, "super_admin": 300, "admin": 200, "finance": 100, "support": 100}
PEOPLE_MANAGERS = {"owner", "super_admin", "admin", "support"}


@dataclass(frozen=True)
class Member:
    pk: int
    partner: int
    kind: str
    role: str
    enabled: bool


def model_allows(actor: Member, target: Member, action: str) -> bool:
    if not actor.enabled or action not in ACTIONS:
        return False
    if actor.kind != "staff":
        return action == "view" and target.pk == actor.pk
    if target.partner != actor.partner:
        return False
    if target.kind == "staff":
        return action == "view" or RANK[target.role] < RANK[actor.role]
    return actor.role in PEOPLE_MANAGERS


def model_may_invite(actor: Member, kind: str, role: str, org_partner: int | None, all_organizations: bool = False) -> bool:
    if not actor.enabled or actor.kind != "staff":
        return False
    if kind == "staff":
        return role in RANK and role != "owner" and RANK[role] < RANK[actor.role]
    if kind in ("end_user", "customer"):
        # EU-1, EU-5: always one organization; all-organizations access widens an end user's devices.
        if org_partner is None or (all_organizations and kind != "end_user"):
            return False
        return actor.role in PEOPLE_MANAGERS and org_partner == actor.partner
    return False


# Worlds: memberships drawn from a small pool of people, so one person often holds several.
# (kind, partner, staff role, organization, enabled, person, devices of all organizations)
staff_spec = st.tuples(
    st.just("staff"), st.integers(0, 1), st.sampled_from(ROLES), st.none(), st.booleans(), st.integers(0, 5), st.just(False)
)
end_user_spec = st.tuples(
    st.just("end_user"), st.integers(0, 1), st.just(""), st.integers(0, 2), st.booleans(), st.integers(0, 5), st.booleans()
)
customer_spec = st.tuples(
    st.just("customer"), st.integers(0, 1), st.just(""), st.integers(0, 2), st.booleans(), st.integers(0, 5), st.just(False)
)
worlds = st.tuples(
    st.tuples(st.integers(1, 3), st.integers(1, 3)),
    st.lists(st.one_of(staff_spec, end_user_spec, customer_spec), min_size=1, max_size=12),
)


def build(world) -> tuple[list[Partner], list[list[Organization]], list[tuple[Membership, Member]]]:
    org_counts, specs = world
    partners = [Partner.objects.create(name=f"Partner {i}") for i in range(2)]
    orgs = [
        [Organization.objects.create(partner=partner, name=f"Org {i}.{j}") for j in range(count)]
        for i, (partner, count) in enumerate(zip(partners, org_counts, strict=True))
    ]
    people: dict[int, Person] = {}
    taken: set[tuple] = set()
    built = []
    for kind, p, role, org_index, enabled, person_index, all_organizations in specs:
        org = orgs[p][org_index % len(orgs[p])] if org_index is not None else None
        place = org.pk if kind == "customer" and org is not None else p
        keys: set[tuple] = {(kind, person_index, place)}
        if kind == "staff" and role == "owner":
            keys.add(("owner", p))
        if keys & taken:
            continue  # one staff / end-user membership per person and partner, one Owner per partner
        taken |= keys
        if person_index not in people:
            people[person_index] = Person.objects.create_user(f"person{person_index}@world.test")
        membership = Membership.objects.create(
            person=people[person_index],
            partner=partners[p],
            kind=kind,
            staff_role=role,
            organization=org if kind != "staff" else None,
            all_organizations=all_organizations,
            enabled=enabled,
        )
        built.append((membership, Member(membership.pk, p, kind, role, enabled)))
    return partners, orgs, built


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds)
def test_pu2_id6_restrict_and_can_follow_the_spec_model(world):
    with transaction.atomic():
        _partners, _orgs, built = build(world)
        for actor, actor_model in built:
            for action in ACTIONS + ["frobnicate"]:
                expected = {m.pk for _, m in built if model_allows(actor_model, m, action)}
                restricted = set(policy.restrict(Membership.objects.all(), actor, action).values_list("pk", flat=True))
                assert restricted == expected, (actor_model, action)
                for target, target_model in built:
                    assert policy.can(actor, action, target) is (target_model.pk in expected), (
                        actor_model,
                        target_model,
                        action,
                    )
        transaction.set_rollback(True)


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds)
def test_pu2_can_invite_only_roles_strictly_beneath_and_never_owner(world):
    with transaction.atomic():
        _partners, orgs, built = build(world)
        for actor, actor_model in built:
            for role in ROLES + ["", "platform_operator"]:
                assert policy.can_invite(actor, "staff", role) is model_may_invite(actor_model, "staff", role, None), (
                    actor_model,
                    role,
                )
            for kind in ("end_user", "customer", "bogus"):
                for p, partner_orgs in enumerate(orgs):
                    org = partner_orgs[0]
                    for wide in (False, True):
                        assert policy.can_invite(actor, kind, "", org, wide) is model_may_invite(
                            actor_model, kind, "", p, wide
                        ), (actor_model, kind, p, wide)
            assert not policy.can_invite(actor, "end_user", "", None, True)  # EU-5: never without an organization
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_policy_denies_without_an_actor(admin, user_org):
    for action in ACTIONS:
        assert not policy.restrict(Membership.objects.all(), None, action).exists()
        assert not policy.can(None, action, user_org)
    assert not policy.can_invite(None, "end_user")
    unsaved = Membership(person=admin.person, partner=admin.partner, kind=MembershipKind.STAFF, staff_role="owner")
    assert not policy.restrict(Membership.objects.all(), unsaved, "view").exists()
