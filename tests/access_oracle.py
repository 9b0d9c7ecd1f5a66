"""An independent model of who may do what, written from SPEC.md and docs/decisions.md alone.

It imports nothing from `portico.access`: the property tests hold the real policy against it.
A world is plain data; `allows(world, actor, action, obj)` answers for one triple.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# PU-1: Owner > Super Admin > Admin > Finance = Support.
RANK = {"owner": 400, "super_admin": 300, "admin": 200, "finance": 100, "support": 100}
STAFF_ROLES = list(RANK)
# Decisions: Finance manages no people and no devices; Admin and Support may be scoped by groups.
PEOPLE_MANAGERS = {"owner", "super_admin", "admin", "support"}
ORGANIZATION_EDITORS = {"owner", "super_admin", "admin"}
GROUP_EDITORS = {"owner", "super_admin"}
SCOPABLE = {"admin", "support"}

OSES = ["windows", "mac", "linux"]
CONNECTIONS = ["remote_control", "user_cli", "system_cli"]
DEVICE_USES = CONNECTIONS + ["restore"]
# The codes as stored; "Full Portal Access" holds all of them.
CODES = ["connections", "backup.restore", "tickets.own", "tickets.organization"] + [
    f"{use}.{os}" for use in CONNECTIONS for os in OSES
]

MEMBERSHIP_ACTIONS = ["view", "change", "disable", "reset_password", "delete"]
OBJECT_ACTIONS = ["view", "change", "delete"]


@dataclass
class Org:
    key: int
    partner: int


@dataclass
class Group:
    key: int
    partner: int
    scope: set[int]  # organization keys; empty means all organizations (GRP-1)
    managers: set[int] = field(default_factory=set)  # member keys


@dataclass
class Role:
    key: int
    partner: int | None  # None: the built-in "Full Portal Access"
    codes: set[str]

    @property
    def full(self) -> bool:
        return self.partner is None


@dataclass
class Member:
    key: int
    partner: int
    kind: str  # staff | end_user | customer
    enabled: bool = True
    role: str = ""  # staff role
    organization: int | None = None  # end users and customer users always have one; staff none
    all_organizations: bool = False  # an end user's devices may be of any organization (EU-1, EU-4)
    roles: set[int] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)


@dataclass
class Device:
    key: int
    partner: int
    organization: int
    os: str
    backup: bool
    assigned: set[int] = field(default_factory=set)  # member keys


@dataclass
class Subscription:
    """An organization's SaaS backup subscription; its key is the organization's."""

    key: int
    partner: int
    status: str  # active | suspended | unsubscribed | deleted
    admin: int | None  # the member key of its customer-portal admin


@dataclass
class Account:
    key: int
    partner: int
    organization: int
    address: str
    status: str = "active"  # active | deactivated | deleted
    backed_up: bool = True
    days_old: int = 0  # added this many days ago


@dataclass
class Notice:
    key: int
    partner: int | None  # None: every partner


@dataclass
class Export:
    key: int
    partner: int
    requester: int  # member key


@dataclass
class World:
    orgs: dict[int, Org] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    devices: dict[int, Device] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    attachments: dict[int, Attachment] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    accounts: dict[int, Account] = field(default_factory=dict)
    emails: dict[int, str] = field(default_factory=dict)  # member key -> the person's email
    notices: dict[int, Notice] = field(default_factory=dict)
    exports: dict[int, Export] = field(default_factory=dict)

    # GRP-3 ------------------------------------------------------------------------------
    def reach(self, staff: Member) -> set[int]:
        """Organization keys a staff user sees."""
        everything = {o.key for o in self.orgs.values() if o.partner == staff.partner}
        if staff.role not in SCOPABLE:
            return everything
        managed = [g for g in self.groups.values() if staff.key in g.managers and g.partner == staff.partner]
        if not managed or any(not g.scope for g in managed):
            return everything
        return set().union(*(g.scope for g in managed)) & everything

    def _scoped(self, staff: Member) -> bool:
        if staff.role not in SCOPABLE:
            return False
        managed = [g for g in self.groups.values() if staff.key in g.managers and g.partner == staff.partner]
        return bool(managed) and all(g.scope for g in managed)

    # PERM-5 -----------------------------------------------------------------------------
    def permissions(self, user: Member) -> set[str]:
        held = [self.roles[r] for r in user.roles if self.roles[r].partner in (None, user.partner)]
        if any(r.full for r in held):
            return set(CODES)
        codes = set(user.codes)
        for r in held:
            codes |= r.codes
        return codes

    def organizations_of(self, user: Member) -> set[int]:
        """EU-1: the user's own organization, or all of the partner with all-organizations access."""
        if user.all_organizations:
            return {o.key for o in self.orgs.values() if o.partner == user.partner}
        return {user.organization}


def allows_member(world: World, actor: Member, action: str, target: Member) -> bool:
    if not actor.enabled or action not in MEMBERSHIP_ACTIONS:
        return False
    if actor.kind != "staff":
        return action == "view" and target.key == actor.key
    if target.partner != actor.partner:
        return False
    if target.kind == "staff":
        # PU-2: everyone sees the partner's staff; changes only strictly beneath.
        return action == "view" or RANK[target.role] < RANK[actor.role]
    if actor.role not in PEOPLE_MANAGERS:
        return False
    if target.all_organizations:
        # Decisions: their devices reach beyond any group scope, whatever their own organization.
        return not world._scoped(actor)
    return target.organization in world.reach(actor)


def allows_org(world: World, actor: Member, action: str, org: Org) -> bool:
    if not actor.enabled or action not in OBJECT_ACTIONS or org.partner != actor.partner:
        return False
    if actor.kind == "staff":
        if action != "view" and actor.role not in ORGANIZATION_EDITORS:
            return False
        return org.key in world.reach(actor)
    if action != "view":
        return False
    if actor.kind == "end_user":
        return org.key in world.organizations_of(actor)
    return org.key == actor.organization


def allows_device(world: World, actor: Member, action: str, device: Device) -> bool:
    if not actor.enabled or device.partner != actor.partner:
        return False
    if actor.kind == "staff":
        # Technicians who manage devices connect to them too; restoring is the end user's.
        uses = OBJECT_ACTIONS + CONNECTIONS
        return action in uses and actor.role in PEOPLE_MANAGERS and device.organization in world.reach(actor)
    if actor.kind != "end_user":
        return False
    # PERM-4: assigned, and within the user's organization access.
    if actor.key not in device.assigned or device.organization not in world.organizations_of(actor):
        return False
    if action == "view":
        return True
    codes = world.permissions(actor)
    if action == "restore":
        return "backup.restore" in codes and device.backup  # PERM-2
    if action in CONNECTIONS:
        return "connections" in codes and f"{action}.{device.os}" in codes  # PERM-1
    return False


def allows_group(world: World, actor: Member, action: str, group: Group) -> bool:
    if not actor.enabled or actor.kind != "staff" or action not in OBJECT_ACTIONS or group.partner != actor.partner:
        return False
    return action == "view" or actor.role in GROUP_EDITORS


def allows_role(world: World, actor: Member, action: str, role: Role) -> bool:
    if not actor.enabled or actor.kind != "staff" or action not in OBJECT_ACTIONS:
        return False
    if actor.role not in PEOPLE_MANAGERS:
        return False
    if action == "view":
        return role.partner in (None, actor.partner)
    return role.partner == actor.partner and actor.role in ORGANIZATION_EDITORS


# Tickets (TK-2, TK-3, TK-4, TK-6, EU-5) ---------------------------------------------------

# Decisions: the staff roles that manage people work tickets; Finance does not.
TICKET_HANDLERS = PEOPLE_MANAGERS
TICKET_ACTIONS = ["view", "change", "comment", "close"]
OPEN_STATUSES = {"new", "open", "pending"}
TICKET_STATUSES = sorted(OPEN_STATUSES | {"closed"})


@dataclass
class Ticket:
    key: int
    partner: int
    organization: int
    requester: int  # member key: an end user of the partner, at home here or (moved since) elsewhere
    status: str = "new"


@dataclass
class Comment:
    key: int
    ticket: int
    internal: bool  # TK-6: an internal note


@dataclass
class Attachment:
    key: int
    ticket: int
    comment: int | None  # None: a file of the ticket itself


def ticket_scope(world: World, user: Member) -> str:
    """PERM-3: "organization", "own", or "" (no ticketing)."""
    codes = world.permissions(user)
    if "tickets.organization" in codes:
        return "organization"
    return "own" if "tickets.own" in codes else ""


def allows_ticket(world: World, actor: Member, action: str, ticket: Ticket) -> bool:
    if not actor.enabled or action not in TICKET_ACTIONS or ticket.partner != actor.partner:
        return False
    if actor.kind == "staff":
        # TK-4, TK-6: technicians get every change, within the organizations they see (GRP-3).
        return actor.role in TICKET_HANDLERS and ticket.organization in world.reach(actor)
    if actor.kind != "end_user" or action == "change":
        return False
    scope = ticket_scope(world, actor)
    # TK-2, EU-5: only the home organization's tickets, whatever the user's device access.
    if not scope or ticket.organization != actor.organization:
        return False
    reported = ticket.requester == actor.key
    if action == "comment":
        return reported  # TK-3
    return reported or scope == "organization"  # seeing, and TK-4's close and reopen


def allows_comment(world: World, actor: Member, action: str, comment: Comment) -> bool:
    """Comments are seen through their ticket; internal notes by technicians only (TK-6)."""
    if action != "view" or not allows_ticket(world, actor, "view", world.tickets[comment.ticket]):
        return False
    return actor.kind == "staff" or not comment.internal


def allows_attachment(world: World, actor: Member, action: str, attachment: Attachment) -> bool:
    """Files are seen through their ticket; an internal note's files by technicians only (TK-6)."""
    if action != "view" or not allows_ticket(world, actor, "view", world.tickets[attachment.ticket]):
        return False
    on_note = attachment.comment is not None and world.comments[attachment.comment].internal
    return actor.kind == "staff" or not on_note


def open_ticket_count(world: World, actor: Member) -> int | None:
    """The open tickets an end user sees (the portal's home); None without ticketing (TK-1, PERM-3)."""
    if not actor.enabled or actor.kind != "end_user" or not ticket_scope(world, actor):
        return None
    return sum(
        1 for t in world.tickets.values() if t.status in OPEN_STATUSES and allows_ticket(world, actor, "view", t)
    )


# SaaS backup (ORG, ACC) ----------------------------------------------------------------------

SUBSCRIPTION_ACTIONS = ["view", "change", "view_details", "log_in_as_client", "send_reset_password"]


def _manages_a_group(world: World, staff: Member) -> bool:
    return any(staff.key in g.managers and g.partner == staff.partner for g in world.groups.values())


def allows_subscription(world: World, actor: Member, action: str, sub: Subscription) -> bool:
    if not actor.enabled or action not in SUBSCRIPTION_ACTIONS or sub.partner != actor.partner:
        return False
    if actor.kind == "customer":
        return action == "view" and sub.key == actor.organization
    if actor.kind != "staff" or sub.key not in world.reach(actor):
        return False
    admin = world.members.get(sub.admin) if sub.admin is not None else None
    if action == "view":
        return True  # GRP-3: Finance too sees every organization
    if action == "view_details":
        return sub.status != "deleted"  # ORG-8
    if action == "log_in_as_client":
        # ORG-7, GRP-3; decisions: Finance never; an Admin or Support user managing no group neither.
        if actor.role not in PEOPLE_MANAGERS or (actor.role in SCOPABLE and not _manages_a_group(world, actor)):
            return False
        return sub.status != "deleted" and admin is not None and admin.enabled
    if actor.role not in ORGANIZATION_EDITORS:
        return False
    if action == "send_reset_password":
        return sub.status != "deleted" and admin is not None
    return True  # change


def allows_account(world: World, actor: Member, action: str, account: Account) -> bool:
    if not actor.enabled or action not in OBJECT_ACTIONS or account.partner != actor.partner:
        return False
    if actor.kind == "customer":
        # Decision until the customer roles (CP-2): the organization's admin sees all its
        # accounts, anyone else only the account of their own address.
        if action != "view" or account.organization != actor.organization:
            return False
        sub = world.subscriptions.get(account.organization)
        return (sub is not None and sub.admin == actor.key) or account.address == world.emails.get(actor.key)
    if actor.kind != "staff" or account.organization not in world.reach(actor):
        return False
    return action == "view" or actor.role in ORGANIZATION_EDITORS


# DASH-3: the operator's notices are read by staff of the partner they name, or of every partner.
def allows_notice(world: World, actor: Member, action: str, notice: Notice) -> bool:
    return actor.enabled and actor.kind == "staff" and action == "view" and notice.partner in (None, actor.partner)


# CSV-1: an export's file is its requester's alone.
def allows_export(world: World, actor: Member, action: str, export: Export) -> bool:
    return (
        actor.enabled and actor.kind == "staff" and action == "view"
        and export.requester == actor.key and export.partner == actor.partner
    )
