"""The world of the tickets benchmark: 1,000,000 tickets with comments over 10,000 organizations of
four partners, written with COPY (see bench/README.md).

Distributions (fixed random seed, so every run builds the same world):
- organizations get tickets by a Zipf law (s = 1): the largest has about 10 % of all tickets,
  the median one about 20; 60 % of organizations (and their tickets) belong to the first partner;
- each organization has one end user per 25 tickets (at least one), who report its tickets by a
  Zipf law too (s = 0.8): a few people report most of them. Nine in ten end users have ticketing
  for their own tickets, one in ten for the whole organization, both through end-user roles;
- tickets are created over three years, more recently than long ago; old ones are almost all
  closed, recent ones new, open or waiting; 85 % are assigned to one of the partner's technicians;
- 2.5 comments a ticket on average (none on most new tickets), one in five an internal note;
- `search_text` is subject, description and the public comments, as the services write it.

The measured people, all in the first partner ("Bench Tickets MSP"):
- orgwide@bench.test: organization-wide ticketing in the largest organization;
- own@bench.test: own tickets only, the largest organization's most frequent reporter;
- owner@bench.test: the Owner, who sees every ticket of the partner;
- admin@bench.test: an Admin who manages 5 groups scoping 1,000 organizations, the largest among them.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from datetime import UTC, datetime, timedelta

from django.db import connection

from portico import seed
from portico.access.catalog import TICKETS_ORGANIZATION, TICKETS_OWN
from portico.access.models import RoleAssignment
from portico.identity.models import Membership, MembershipKind, Person
from portico.tenancy.models import Organization
from tests.support import PASSWORD

PARTNERS = [("Bench Tickets MSP", 6_000), ("Bench Tickets B", 2_500), ("Bench Tickets C", 1_000), ("Bench Tickets D", 500)]
MAIN = PARTNERS[0][0]
TICKETS_PER_USER = 25
SCOPE_GROUPS, SCOPE_GROUP_SIZE = 5, 200
TECHNICIANS = 10
BATCH = 5_000

THINGS = [
    "printer", "Outlook", "VPN", "laptop", "password", "Teams", "monitor", "scanner", "Wi-Fi", "SharePoint",
    "OneDrive", "phone", "keyboard", "server", "backup", "firewall", "mailbox", "Excel", "licence", "account",
    "docking station", "headset", "webcam", "calendar", "network drive", "ERP", "invoice template", "Drucker",
    "imprimante", "router",
]
PROBLEMS = [
    "{t} not working", "Cannot connect to {t}", "{t} is very slow", "Error message in {t}", "Please install {t}",
    "New {t} for {name}", "{t} keeps disconnecting", "Question about {t}", "Access to {t} for {name}",
    "{t} broken after update", "{t} on {host} does not start", "Urgent: {t} down",
]
SENTENCES = [
    "Since this morning the {t} does not respond.", "It worked fine yesterday.",
    "I already restarted {host} twice.", "The error code is {code}.", "Several colleagues have the same problem.",
    "Could you please have a look today?", "It happens every time I open {t}.", "{name} needs it for a customer meeting.",
    "The screen shows a warning about the {t}.", "We are in the office on floor {floor}.",
    "I tried another {t} and it is the same.", "Nothing changed on our side.",
]
PUBLIC_REPLIES = [
    "Thank you, we are looking into it.", "Could you restart {host} and try again?",
    "I connected remotely and updated the {t} driver.", "Please send us a screenshot of the error {code}.",
    "It works again, thank you!", "Still the same problem, the {t} shows {code}.",
    "We replaced the {t}; please confirm it works.", "I will be on site on Tuesday.",
    "The {t} licence has been renewed.", "Can we close this ticket?",
]
INTERNAL_NOTES = [
    "Checked the logs on {host}: disk almost full.", "Vendor case opened for {t}, reference {code}.",
    "Customer is on the old {t} contract, check billing.", "Escalated to second level.",
    "Same issue as last month on {host}.",
]
FIRST_NAMES = ["Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Klara", "Luca",
               "Mia", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Ugo"]
LAST_NAMES = ["Meier", "Rossi", "Dubois", "Novak", "Schmidt", "Jansen", "Moreau", "Keller", "Bianchi", "Weber",
              "Fischer", "Lambert", "Costa", "Berger", "Wagner", "Ricci", "Roux", "Huber", "Marino", "Braun"]


def zipf_cumulative(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1 / (rank + 1) ** s for rank in range(n)))


class Text:
    """Subjects, descriptions and comments from a small vocabulary; host names and codes are the rare words."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.things = zipf_cumulative(len(THINGS), 1.0)

    def fill(self, template: str) -> str:
        rng = self.rng
        return template.format(
            t=THINGS[bisect.bisect(self.things, rng.random() * self.things[-1])],
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            host=f"PC-{rng.randrange(100_000):05}",
            code=f"0x{rng.randrange(16**6):06X}",
            floor=rng.randrange(1, 12),
        )

    def subject(self) -> str:
        return self.fill(self.rng.choice(PROBLEMS))

    def description(self) -> str:
        return " ".join(self.fill(self.rng.choice(SENTENCES)) for _ in range(self.rng.randint(2, 5)))


def _status(rng: random.Random, age_days: float) -> str:
    roll = rng.random()
    if age_days < 3:
        table = ((0.30, "new"), (0.70, "open"), (0.85, "pending"))
    elif age_days < 30:
        table = ((0.05, "new"), (0.30, "open"), (0.45, "pending"))
    else:
        table = ((0.002, "new"), (0.02, "open"), (0.03, "pending"))
    return next((status for limit, status in table if roll < limit), "closed")


def _people(partner, orgs: list[Organization], tickets_per_org: list[int], roles: dict[str, object],
            measured: dict[int, list[Membership]], rng: random.Random) -> list[list[tuple[int, str]]]:
    """End users of each organization, most frequent reporter first: [(membership id, name), ...]."""
    users: list[list[tuple[int, str]]] = []
    index = {o.pk: i for i, o in enumerate(orgs)}
    pending_people, pending_orgs = [], []
    for org, count in zip(orgs, tickets_per_org, strict=True):
        mine = [(m.pk, f"{m.person.first_name} {m.person.last_name}") for m in measured.get(org.pk, [])]
        users.append(mine)
        for _ in range(max(1, count // TICKETS_PER_USER) - len(mine)):
            n = len(pending_people)
            pending_people.append(Person(
                email=f"eu{partner.pk}-{n:06}@bench.test", first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES), password="!",
            ))
            pending_orgs.append(org)
    for start in range(0, len(pending_people), BATCH):
        people = Person.objects.bulk_create(pending_people[start:start + BATCH])
        members = Membership.objects.bulk_create([
            Membership(person=p, partner=partner, kind=MembershipKind.END_USER, organization=o)
            for p, o in zip(people, pending_orgs[start:start + BATCH], strict=True)
        ])
        RoleAssignment.objects.bulk_create([
            RoleAssignment(membership=m, role=roles["organization" if rng.random() < 0.1 else "own"]) for m in members
        ])
        for m, p in zip(members, people, strict=True):
            users[index[m.organization_id]].append((m.pk, f"{p.first_name} {p.last_name}"))
    return users


def build(tickets: int) -> None:
    rng = random.Random(20261122)
    text = Text(rng)
    started = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)

    # Organizations of every partner, ranked by a Zipf law over all 10,000; the largest is the
    # first partner's first organization, the others are ranked at random.
    all_orgs: list[tuple[object, Organization]] = []
    partners = []
    for name, count in PARTNERS:
        partner = seed.partner(name)
        partners.append(partner)
        made = Organization.objects.bulk_create(
            [Organization(partner=partner, name=f"{name[-1] if name != MAIN else 'M'}-Org {i:05}") for i in range(count)],
            batch_size=BATCH,
        )
        all_orgs += [(partner, o) for o in made]
    ranks = list(range(1, len(all_orgs)))
    rng.shuffle(ranks)
    ranks = [0] + ranks
    weights = [1 / (r + 1) for r in ranks]
    cumulative = list(itertools.accumulate(weights))
    per_org = [0] * len(all_orgs)
    ticket_org = [bisect.bisect(cumulative, rng.random() * cumulative[-1]) for _ in range(tickets)]
    for i in ticket_org:
        per_org[i] += 1
    biggest = all_orgs[0][1]

    # People: the measured ones with passwords (and TOTP for staff), everyone else in bulk.
    roles_of = {}
    staff_of: dict[int, list[tuple[int, str]]] = {}
    measured: dict[int, list[Membership]] = {}
    for partner in partners:
        roles_of[partner.pk] = {
            "own": seed.role(partner, "Tickets: own", TICKETS_OWN),
            "organization": seed.role(partner, "Tickets: organization", TICKETS_ORGANIZATION),
        }
        owner_person = (seed.person("owner@bench.test", PASSWORD, first_name="Olga", last_name="Owner")
                        if partner.name == MAIN else Person(email=f"owner{partner.pk}@bench.test", password="!"))
        if owner_person.pk is None:
            owner_person.save()
        techs = [seed.staff(owner_person, partner, "owner")]
        if partner.name == MAIN:
            techs.append(seed.staff(seed.person("admin@bench.test", PASSWORD, first_name="Adam", last_name="Admin"),
                                    partner, "admin"))
        people = Person.objects.bulk_create([
            Person(email=f"tech{partner.pk}-{i}@bench.test", first_name=rng.choice(FIRST_NAMES),
                   last_name=rng.choice(LAST_NAMES), password="!")
            for i in range(TECHNICIANS)
        ])
        techs += Membership.objects.bulk_create(
            [Membership(person=p, partner=partner, kind=MembershipKind.STAFF, staff_role="support") for p in people]
        )
        staff_of[partner.pk] = [(t.pk, f"{t.person.first_name} {t.person.last_name}".strip() or "Owner") for t in techs]
    main = partners[0]
    own = seed.end_user(seed.person("own@bench.test", PASSWORD, first_name="Otto", last_name="Own"), biggest)
    wide = seed.end_user(seed.person("orgwide@bench.test", PASSWORD, first_name="Wanda", last_name="Wide"), biggest)
    seed.give_roles(own, roles_of[main.pk]["own"])
    seed.give_roles(wide, roles_of[main.pk]["organization"])
    measured[biggest.pk] = [own, wide]

    # GRP-3: the Admin manages 5 groups of 200 organizations (the largest among them); 45 more
    # groups of 20 organizations have no manager.
    admin = Membership.objects.get(person__email="admin@bench.test", partner=main)
    main_orgs = [o for p, o in all_orgs if p.pk == main.pk]
    scoped = [biggest] + rng.sample(main_orgs[1:], SCOPE_GROUPS * SCOPE_GROUP_SIZE - 1)
    for g in range(SCOPE_GROUPS):
        seed.group(main, f"Scope {g}", organizations=scoped[g * SCOPE_GROUP_SIZE:(g + 1) * SCOPE_GROUP_SIZE], managers=[admin])
    for g in range(45):
        seed.group(main, f"Team {g:02}", organizations=rng.sample(main_orgs, 20))

    users: list[list[tuple[int, str]]] = []
    for partner in partners:
        idx = [i for i, (p, _o) in enumerate(all_orgs) if p.pk == partner.pk]
        users += _people(partner, [all_orgs[i][1] for i in idx], [per_org[i] for i in idx], roles_of[partner.pk],
                         measured, rng)
    print(f"  organizations and {sum(map(len, users)):,} end users in {time.monotonic() - started:.0f} s", flush=True)

    reporter_weights: dict[int, list[float]] = {}
    span = timedelta(days=3 * 365).total_seconds()
    created = sorted(span * (1 - rng.random() ** 0.5) for _ in range(tickets))  # seconds before now, more recent ones
    _copy(tickets, ticket_org, created, all_orgs, users, staff_of, reporter_weights, text, rng, now)
    print(f"  tickets and comments copied in {time.monotonic() - started:.0f} s", flush=True)


TICKET_COLUMNS = ("id", "partner_id", "organization_id", "requester_id", "assignee_id", "subject", "description",
                  "status", "priority", "created_at", "updated_at", "closed_at", "search_text")
COMMENT_COLUMNS = ("id", "ticket_id", "author_id", "author_name", "body", "internal", "source", "created_at")


def _copy(tickets, ticket_org, created, all_orgs, users, staff_of, reporter_weights, text, rng, now) -> None:
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )
    indexes = _drop_indexes(["tickets_ticket", "tickets_ticketcomment"])
    comment_id = 0
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor under Django's wrapper
        cursor.execute("SET session_replication_role = replica")  # the rows are consistent: skip FK triggers
        other.execute("SET session_replication_role = replica")
        with (
            cursor.copy(f"COPY tickets_ticket ({', '.join(TICKET_COLUMNS)}) FROM STDIN") as ticket_copy,
            other.cursor().copy(f"COPY tickets_ticketcomment ({', '.join(COMMENT_COLUMNS)}) FROM STDIN") as comment_copy,
        ):
            for n in range(tickets):
                ticket_id = n + 1
                partner, org = all_orgs[ticket_org[n]]
                reporters = users[ticket_org[n]]
                weights = reporter_weights.get(len(reporters))
                if weights is None:
                    weights = reporter_weights[len(reporters)] = zipf_cumulative(len(reporters), 0.8)
                requester_id, requester_name = reporters[bisect.bisect(weights, rng.random() * weights[-1])]
                techs = staff_of[partner.pk]
                opened = now - timedelta(seconds=created[tickets - 1 - n])
                age_days = (now - opened).total_seconds() / 86400
                status = _status(rng, age_days)
                assignee = None if status == "new" or rng.random() < 0.15 else rng.choice(techs)
                updated = min(now, opened + timedelta(seconds=rng.expovariate(1 / (2 * 86400))))
                subject = text.subject()
                description = text.description()
                search = [subject, description]
                count = 0 if status == "new" and rng.random() < 0.8 else rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6))
                for c in range(count):
                    comment_id += 1
                    internal = rng.random() < 0.2
                    at = opened + (updated - opened) * ((c + 1) / count)
                    if internal or rng.random() < 0.5:
                        author = assignee or rng.choice(techs)
                        body = text.fill(rng.choice(INTERNAL_NOTES if internal else PUBLIC_REPLIES))
                    else:
                        author = (requester_id, requester_name)
                        body = text.fill(rng.choice(PUBLIC_REPLIES))
                    if not internal:
                        search.append(body)
                    comment_copy.write_row((comment_id, ticket_id, author[0], author[1], body, internal, "web", at))
                ticket_copy.write_row((
                    ticket_id, partner.pk, org.pk, requester_id, assignee[0] if assignee else None, subject, description,
                    status, rng.choices((1, 2, 3, 4), (15, 60, 20, 5))[0], opened, updated,
                    updated if status == "closed" else None, "\n".join(search),
                ))
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s)", [tickets])
        cursor.execute("SELECT setval(pg_get_serial_sequence('tickets_ticketcomment', 'id'), %s)", [max(comment_id, 1)])
    other.commit()
    other.close()
    _create_indexes(indexes)


def _drop_indexes(tables: list[str]) -> list[str]:
    """Drop the secondary indexes of `tables` (rebuilt after the COPY, much faster than kept up row by row)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [tables],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def _create_indexes(definitions: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for definition in definitions:
            started = time.monotonic()
            cursor.execute(definition)
            print(f"  {definition.split(' ON ')[0]} in {time.monotonic() - started:.0f} s", flush=True)
        cursor.execute("RESET maintenance_work_mem")
