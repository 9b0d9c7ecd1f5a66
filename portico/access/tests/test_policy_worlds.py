"""The policy against the independent model in `tests/access_oracle.py`, over random worlds.

Each world has two partners with organizations, staff of every rank (some managing groups with
random scopes), end-user roles (and the built-in Full Portal Access), end users of one
organization (some with devices of all organizations), roles and direct permissions, customer
users, and devices with random assignments, including assignments that break EU-4. For every
(membership, object, action), `can` and `explain` agree with the model, and `restrict` returns
exactly the model's set (EU-1 … EU-5, PERM-1 … PERM-5, DEV-2, PU-1, PU-2, GRP-1 … GRP-3, ID-6).
Worlds also hold tickets with public comments, internal notes and files, and the ticket lists,
searches, threads, downloads and open counts of the portal, the board and the API are held to the
model too (TK-2, TK-3, TK-4, TK-6). SaaS backup subscriptions in every status and accounts are
held to it as well (ORG-7, ORG-8, GRP-3, ACC-1), and so are the operator's notices (DASH-3),
exports (CSV-1) and the dashboard's figures of accounts, read from their tallies (DASH-1, DASH-2).

`PORTICO_WORLDS=2000 .venv/bin/python -m pytest portico/access/tests/test_policy_worlds.py` runs
2,000 worlds; CI runs 200.
"""

from __future__ import annotations

import os
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico import seed
from portico.access import policy
from portico.access.explain import explain
from portico.access.models import EndUserRole, full_portal_access
from portico.devices.models import Device
from portico.identity.models import Membership, Person
from portico.jobs.models import Job
from portico.notifications.models import Notice
from portico.reports import figures
from portico.reports.models import Export
from portico.saas.models import Account, Subscription
from portico.tenancy.models import Group, Organization, Partner
from portico.tickets.models import Ticket, TicketAttachment, TicketComment
from tests import access_oracle as oracle

WORLDS = int(os.environ.get("PORTICO_WORLDS", "200"))
UNKNOWN_ACTION = "frobnicate"
# A word in every ticket of every world: searching for it finds exactly what may be seen.
EVERY_TICKET = "kestrel"


@pytest.fixture(autouse=True, scope="module")
def media_root(tmp_path_factory):
    """Ticket files of the worlds are written to a directory of their own."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


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
    add_tickets(draw, world, keys, orgs_of)
    add_saas_backup(draw, world, keys)
    return world


def add_saas_backup(draw, world: oracle.World, keys) -> None:
    """Subscriptions of some organizations, in any status, mostly with an admin (a customer user of
    the organization); accounts, some at a member's own address."""
    for key in world.members:
        world.emails[key] = f"person{key}@world.test"
    for org in world.orgs.values():
        if draw(st.integers(0, 3)) == 0:
            continue
        admin = None
        if draw(st.integers(0, 3)):
            # Mostly an admin of its own, enabled or not, so ORG-7 and ORG-8 meet every staff rank.
            admin = next(keys)
            enabled = draw(st.booleans() | st.just(True))
            world.members[admin] = oracle.Member(admin, org.partner, "customer", enabled=enabled, organization=org.key)
            world.emails[admin] = f"person{admin}@world.test"
        world.subscriptions[org.key] = oracle.Subscription(
            org.key, org.partner, draw(st.sampled_from(["active", "suspended", "unsubscribed", "deleted"])), admin
        )
    for _ in range(draw(st.integers(0, 6))):
        org = world.orgs[draw(st.sampled_from(sorted(world.orgs)))]
        people = [m.key for m in world.members.values() if m.organization == org.key]
        own = draw(st.sampled_from(people)) if people and draw(st.booleans()) else None
        key = next(keys)
        address = world.emails[own] if own is not None else f"mailbox{key}@world.test"
        world.accounts[key] = oracle.Account(
            key, org.partner, org.key, address, status=draw(st.sampled_from(["active", "deactivated", "deleted"])),
            backed_up=draw(st.booleans()), days_old=draw(st.integers(0, 120)),
        )
    for _ in range(draw(st.integers(0, 2))):
        key = next(keys)
        world.notices[key] = oracle.Notice(key, draw(st.sampled_from([None, 0, 1])))
    staff = [m for m in world.members.values() if m.kind == "staff"]
    for _ in range(draw(st.integers(0, 3)) if staff else 0):
        key = next(keys)
        requester = draw(st.sampled_from(staff))
        world.exports[key] = oracle.Export(key, requester.partner, requester.key)


def add_tickets(draw, world: oracle.World, keys, orgs_of) -> None:
    """Tickets of random end users, mostly in the requester's home organization and sometimes in
    another of the partner (the requester moved since); public comments and internal notes; files
    on tickets and on comments of both kinds."""
    end_users = [m for m in world.members.values() if m.kind == "end_user"]
    if not end_users:
        return
    for _ in range(draw(st.integers(0, 6))):
        requester = draw(st.sampled_from(end_users))
        elsewhere = draw(st.integers(0, 3)) == 0
        organization = draw(st.sampled_from(orgs_of[requester.partner])) if elsewhere else requester.organization
        assert organization is not None
        key = next(keys)
        world.tickets[key] = oracle.Ticket(
            key, requester.partner, organization, requester.key, draw(st.sampled_from(oracle.TICKET_STATUSES))
        )
        for _ in range(draw(st.integers(0, 2))):
            comment = next(keys)
            world.comments[comment] = oracle.Comment(comment, key, draw(st.booleans()))
    for _ in range(draw(st.integers(0, 4)) if world.tickets else 0):
        ticket = draw(st.sampled_from(sorted(world.tickets)))
        on = [None] + [c.key for c in world.comments.values() if c.ticket == ticket]
        key = next(keys)
        world.attachments[key] = oracle.Attachment(key, ticket, draw(st.sampled_from(on)))


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
        self._build_tickets(world)
        self._build_saas_backup(world)

    def _build_saas_backup(self, world: oracle.World) -> None:
        plans = {}
        self.subscriptions: dict[int, Subscription] = {}
        for k, sub in world.subscriptions.items():
            org = self.orgs[k]
            if org.partner_id not in plans:
                plans[org.partner_id] = seed.plan(org.partner, "Plan")
            admin = self.members[sub.admin] if sub.admin is not None else None
            self.subscriptions[k] = seed.subscription(org, plans[org.partner_id], status=sub.status, admin=admin)
        now = timezone.now()
        self.accounts = {
            k: seed.account(
                self.orgs[a.organization], a.address, external_id=str(k), status=a.status, backed_up=a.backed_up,
                added_at=now - timedelta(days=a.days_old),
            )
            for k, a in world.accounts.items()
        }
        partners = {0: Partner.objects.get(name="Partner 0"), 1: Partner.objects.get(name="Partner 1")}
        self.notices = {
            k: Notice.objects.create(title=f"Notice {k}", partner=partners[n.partner] if n.partner is not None else None)
            for k, n in world.notices.items()
        }
        self.exports = {
            k: Export.objects.create(
                partner=partners[e.partner], requested_by=self.members[e.requester], kind="accounts",
                job=Job.objects.create(kind="reports.export"), title="Accounts",
            )
            for k, e in world.exports.items()
        }

    def _build_tickets(self, world: oracle.World) -> None:
        self.tickets: dict[int, Ticket] = {}
        for k, t in world.tickets.items():
            subject = f"Ticket {k} {EVERY_TICKET}"
            org = self.orgs[t.organization]
            self.tickets[k] = Ticket.objects.create(
                partner_id=org.partner_id, organization=org, requester=self.members[t.requester],
                subject=subject, description=subject, status=t.status, search_text=subject,
            )
        self.comments = {
            k: TicketComment.objects.create(
                ticket=self.tickets[c.ticket], author_name="Someone", body=f"Comment {k}", internal=c.internal
            )
            for k, c in world.comments.items()
        }
        self.attachments: dict[int, TicketAttachment] = {}
        for k, a in world.attachments.items():
            row = TicketAttachment(
                ticket=self.tickets[a.ticket], comment=self.comments[a.comment] if a.comment is not None else None,
                original_name=f"file{k}.txt", content_type="text/plain", size=len(str(k)),
            )
            row.file.save(row.original_name, ContentFile(str(k).encode()), save=False)
            row.save()
            self.attachments[k] = row


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


def _check_dashboard(world: oracle.World, built: Built) -> None:
    """DASH-1's figures, read from the accounts' tallies, count exactly the accounts each staff
    user may see (GRP-3), by status and by the days of DASH-2's periods."""
    today = timezone.localdate()
    for actor_key, actor in world.members.items():
        if actor.kind != "staff":
            continue
        member = built.members[actor_key]
        seen = [a for a in world.accounts.values() if oracle.allows_account(world, actor, "view", a)]
        active = [a for a in seen if a.status == "active"]
        assert figures.protection_coverage(member) == figures.Share(
            sum(a.backed_up for a in active), len(active)
        ), actor
        paying = {
            key for key, sub in world.subscriptions.items()
            if sub.status == "active" and oracle.allows_subscription(world, actor, "view", sub)
        }
        used = sum(a.backed_up for a in active if a.organization in paying)
        assert figures.seat_usage(member).part == used, actor
        for key in (figures.THIS_MONTH, figures.LAST_MONTH, figures.LAST_3_MONTHS, figures.ALL_TIME):
            period = figures.Period.of(key, today)
            added = [
                a for a in seen
                if period.first_day is None or period.first_day <= today - timedelta(days=a.days_old) <= period.last_day
            ]
            expected = {status: sum(a.status == status for a in added) for status in ("active", "deactivated", "deleted")}
            assert figures.accounts_by_status(member, period).counts == expected, (actor, key)


@pytest.mark.django_db
@settings(max_examples=WORLDS, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds(), scope_by_id=st.sampled_from([policy.SCOPE_BY_ID, 0]))
def test_policy_equals_the_spec_model_in_random_worlds(world, scope_by_id):
    # GRP-3: a group scope is named by id up to SCOPE_BY_ID organizations, by a subquery beyond;
    # the worlds' scopes are small, so half of them are checked as large scopes are.
    with mock.patch.object(policy, "SCOPE_BY_ID", scope_by_id), transaction.atomic():
        built = Built(world)
        _check(world, built, Membership, built.members, world.members, oracle.allows_member, oracle.MEMBERSHIP_ACTIONS)
        _check(world, built, Organization, built.orgs, world.orgs, oracle.allows_org, oracle.OBJECT_ACTIONS)
        _check(world, built, Group, built.groups, world.groups, oracle.allows_group, oracle.OBJECT_ACTIONS)
        _check(world, built, EndUserRole, built.roles, world.roles, oracle.allows_role, oracle.OBJECT_ACTIONS)
        _check(
            world, built, Device, built.devices, world.devices, oracle.allows_device,
            oracle.OBJECT_ACTIONS + oracle.DEVICE_USES,
        )
        # TK-2 … TK-4, TK-6, EU-5: seeing, changing, commenting, closing; notes and files through their ticket.
        _check(world, built, Ticket, built.tickets, world.tickets, oracle.allows_ticket, oracle.TICKET_ACTIONS)
        _check(world, built, TicketComment, built.comments, world.comments, oracle.allows_comment, ["view", "change"])
        _check(
            world, built, TicketAttachment, built.attachments, world.attachments, oracle.allows_attachment,
            ["view", "change"],
        )
        # ORG-7, ORG-8, GRP-3, ACC-1: subscriptions and accounts of the SaaS backup service.
        _check(
            world, built, Subscription, built.subscriptions, world.subscriptions, oracle.allows_subscription,
            oracle.SUBSCRIPTION_ACTIONS + ["delete"],
        )
        _check(world, built, Account, built.accounts, world.accounts, oracle.allows_account, oracle.OBJECT_ACTIONS)
        # DASH-3, CSV-1: notices to one's partner or all; an export to its requester alone.
        _check(world, built, Notice, built.notices, world.notices, oracle.allows_notice, oracle.OBJECT_ACTIONS)
        _check(world, built, Export, built.exports, world.exports, oracle.allows_export, oracle.OBJECT_ACTIONS)
        _check_dashboard(world, built)
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
    "/api/v1/tickets/": lambda world: [(k, t, oracle.allows_ticket) for k, t in world.tickets.items()],
}


def _rows(built: Built, path: str) -> dict:
    return {
        "/api/v1/devices/": built.devices,
        "/api/v1/end-users/": built.members,
        "/api/v1/staff-users/": built.members,
        "/api/v1/end-user-roles/": built.roles,
        "/api/v1/groups/": built.groups,
        "/api/v1/tickets/": built.tickets,
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


def page_client(member: Membership):
    """A browser session acting as `member`, past sign-in and MFA, without walking the sign-in pages."""
    import time

    from django.test import Client

    client = Client()
    client.force_login(member.person)
    session = client.session
    session["membership_id"] = member.pk
    session["membership_chosen_at"] = time.time()
    session["account_authentication_methods_user"] = str(member.person.pk)
    session["account_authentication_methods"] = [{"method": "mfa", "type": "totp", "at": time.time()}]
    session.save()
    return client


def _page_ids(client, path: str, params: dict, link: str) -> set[int]:
    """Ticket ids linked from a list page (the worlds hold fewer tickets than a page)."""
    import re

    response = client.get(path, params)
    assert response.status_code == 200, (path, params, response.status_code)
    return {int(pk) for pk in re.findall(rf'href="{link}(\d+)/"', response.content.decode())}


def _walk(client, path: str, params: dict) -> set[int]:
    ids: set[int] = set()
    response = client.get(path, {**params, "page_size": 2})
    while True:
        assert response.status_code == 200, (path, params, response.status_code)
        body = response.json()
        ids |= {row["id"] for row in body["results"]}
        if not body["next"]:
            return ids
        response = client.get(body["next"])


@pytest.mark.django_db
@settings(
    max_examples=max(WORLDS // 10, 20), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(world=worlds())
def test_tickets_in_every_list_search_thread_download_and_count_equal_the_spec_model(world):
    """TK-2, TK-3, TK-4, TK-6, EU-5, GRP-3 seen from outside: the portal's and the board's lists,
    searches, the API's tickets, threads and files, downloads and open counts show exactly what the
    model allows; internal notes and their files never reach an end user."""
    from portico.tickets.search import search_tickets
    from portico.tickets.views.portal import open_ticket_count
    from tests.support import api_client

    with transaction.atomic():
        built = Built(world)
        pk_of = {k: row.pk for k, row in built.tickets.items()}
        for actor_key, actor in world.members.items():
            member = built.members[actor_key]
            visible = {pk_of[k] for k, t in world.tickets.items() if oracle.allows_ticket(world, actor, "view", t)}
            searched = search_tickets(policy.restrict(Ticket.objects.all(), member, "view"), EVERY_TICKET)
            assert set(searched.values_list("pk", flat=True)) == visible, actor
            assert open_ticket_count(member) == oracle.open_ticket_count(world, actor), actor
            if not actor.enabled:
                continue
            api = api_client(member)
            assert _walk(api, "/api/v1/tickets/", {"q": EVERY_TICKET}) == visible, actor
            for k, ticket in world.tickets.items():
                path = f"/api/v1/tickets/{pk_of[k]}/"
                if pk_of[k] not in visible:
                    assert api.get(path).status_code == 404, (actor, ticket)
                    assert api.get(f"{path}comments/").status_code == 404, (actor, ticket)
                    continue
                assert api.get(path).status_code == 200, (actor, ticket)
                thread = {built.comments[c].pk for c, comment in world.comments.items()
                          if comment.ticket == k and oracle.allows_comment(world, actor, "view", comment)}
                assert _walk(api, f"{path}comments/", {}) == thread, (actor, ticket)
                files = {built.attachments[a].pk for a, attachment in world.attachments.items()
                         if attachment.ticket == k and oracle.allows_attachment(world, actor, "view", attachment)}
                assert _walk(api, f"{path}attachments/", {}) == files, (actor, ticket)
            browser = page_client(member)
            for k, attachment in world.attachments.items():
                row = built.attachments[k]
                expected = 200 if oracle.allows_attachment(world, actor, "view", attachment) else 404
                assert api.get(f"/api/v1/tickets/{row.ticket_id}/attachments/{row.pk}/").status_code == expected
                assert browser.get(f"/tickets/{row.ticket_id}/attachments/{row.pk}/").status_code == expected
            if actor.kind == "end_user":
                scope = oracle.ticket_scope(world, actor)
                if not scope:
                    assert browser.get("/portal/tickets/").status_code == 404, actor
                    continue
                link = "/portal/tickets/"
                listed = _page_ids(browser, link, {"tab": "open"}, link) | _page_ids(browser, link, {"tab": "closed"}, link)
                assert listed == visible, actor
                reported = {pk_of[k] for k, t in world.tickets.items() if t.requester == actor_key} & visible
                assert _page_ids(browser, link, {"tab": "mine"}, link) == reported, actor
                if scope == "organization":
                    assert _page_ids(browser, link, {"tab": "organization", "q": EVERY_TICKET}, link) == visible, actor
            elif actor.kind == "staff":
                link = "/console/tickets/"
                if actor.role not in oracle.TICKET_HANDLERS:
                    assert browser.get(link).status_code == 404, actor
                    continue
                assert _page_ids(browser, link, {"status": "all"}, link) == visible, actor
                assert _page_ids(browser, link, {"status": "all", "q": EVERY_TICKET}, link) == visible, actor
        transaction.set_rollback(True)
