"""Demo data that shows the product: two partners, their organizations, staff of every role, end users."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portico import seed
from portico.access import catalog
from portico.access.models import full_portal_access
from portico.access.roles import StaffRole
from portico.audit.services import record
from portico.tenancy.models import Partner
from portico.tickets.models import Ticket, TicketComment, TicketPriority, TicketStatus

DEMO_PASSWORD = "portico-demo-2026"

PARTNERS = [
    {
        "name": "Northwind IT Services",
        "domain": "northwind.example",
        "country": "US",
        "language": "en",
        "organizations": ["Contoso Dental", "Fabrikam Logistics", "Tailspin Toys", "Adatum Legal"],
        "staff": [
            ("owner", "Olivia", "Ortega", StaffRole.OWNER),
            ("superadmin", "Samuel", "Adeyemi", StaffRole.SUPER_ADMIN),
            ("admin", "Ana", "Duarte", StaffRole.ADMIN),
            ("finance", "Felix", "Hoffmann", StaffRole.FINANCE),
            ("support", "Sofia", "Rossi", StaffRole.SUPPORT),
        ],
        "end_users": [
            ("maria.silva", "Maria", "Silva", "Contoso Dental", "pt-br"),
            ("kenji.tanaka", "Kenji", "Tanaka", "Fabrikam Logistics", "ja"),
            ("claire.martin", "Claire", "Martin", "Tailspin Toys", "fr"),
            ("jonas.weber", "Jonas", "Weber", "Adatum Legal", "de"),
            ("it.roamer", "Riley", "Quinn", None, "en"),
            ("lucas.souza", "Lucas", "Souza", "Contoso Dental", "en"),
        ],
    },
    {
        "name": "Bluewave Managed Services",
        "domain": "bluewave.example",
        "country": "DE",
        "language": "de",
        "organizations": ["Litware Bau", "Proseware Medical", "Wingtip Hotels"],
        "staff": [
            ("owner", "Lena", "Krause", StaffRole.OWNER),
            ("superadmin", "Pierre", "Laurent", StaffRole.SUPER_ADMIN),
            ("admin", "Yuki", "Sato", StaffRole.ADMIN),
            ("finance", "Marta", "Nowak", StaffRole.FINANCE),
            ("support", "Tom", "Becker", StaffRole.SUPPORT),
        ],
        "end_users": [
            ("paul.schmidt", "Paul", "Schmidt", "Litware Bau", "de"),
            ("ines.costa", "Ines", "Costa", "Proseware Medical", "pt-br"),
            ("hana.kobayashi", "Hana", "Kobayashi", "Wingtip Hotels", "ja"),
        ],
    },
]

# Devices of each organization: (name suffix, OS family, OS version, online).
DEVICES = [
    ("RECEPTION", "windows", "Windows 11 Pro 24H2", True),
    ("LT-014", "windows", "Windows 11 Pro 23H2", False),
    ("MBP-07", "mac", "macOS 15.1 Sequoia", True),
    ("srv-files", "linux", "Ubuntu 24.04 LTS", True),
    ("LT-022", "windows", "Windows 10 Pro 22H2", False),
]
CONNECT_ALL = [catalog.CONNECTIONS] + [
    catalog.connection_code(action, os) for os in catalog.OsFamily.values for action in ("remote_control", "user_cli")
]
ROLES = [
    ("Remote support", "Reach assigned computers: screen and user command line.", CONNECT_ALL),
    ("Helpdesk requester", "Open and follow own tickets.", [catalog.TICKETS_OWN]),
    (
        "IT lead",
        "Everything on assigned computers, restores, and the organization's tickets.",
        sorted(catalog.ALL_CODES - {catalog.TICKETS_OWN}),
    ),
]

# Demo tickets: (subject, description, status, priority, [(author, comment, internal)]).
TICKETS = [
    ("Printer on the 2nd floor jams", "The HP printer near reception jams on every double-sided job.",
     TicketStatus.OPEN, TicketPriority.NORMAL,
     [("support", "Thanks, we are looking at it. Could you send a photo of the error on the display?", False),
      ("support", "Firmware 2.3 known to misfeed duplex; schedule update after hours.", True),
      ("requester", "Photo attached to the next email, it says 'Paper jam tray 2'.", False)]),
    ("VPN disconnects every hour", "Since Monday the VPN drops every hour and I have to sign in again.",
     TicketStatus.PENDING, TicketPriority.HIGH,
     [("support", "Please restart your laptop and tell us if it still happens.", False)]),
    ("New employee laptop", "We have a new colleague starting on the 1st. Please prepare a laptop.",
     TicketStatus.NEW, TicketPriority.LOW, []),
    ("Shared drive is slow", "Opening files on the shared drive takes more than a minute.",
     TicketStatus.CLOSED, TicketPriority.NORMAL,
     [("admin", "We moved the share to the new file server; it should be fast again.", False),
      ("requester", "Much better, thank you!", False)]),
    ("Email bounces from a supplier", "Mails to our supplier come back with 'mailbox unavailable'.",
     TicketStatus.OPEN, TicketPriority.URGENT,
     [("support", "Supplier's MX changed; waiting for their DNS TTL.", True)]),
]

# SaaS backup plans of each partner: (name, plan type, price per seat and month).
PLANS = [("Personal", "personal", "1.50"), ("Business Backup", "backup", "3.50"), ("Archiver 10y", "archiver", "5.90")]
# More customers of the first partner's backup service, one of each kind a partner meets: (name, plan, status, credential status, accounts); a Personal plan's organization is named
# after its contact (ORG-9).
EXTRA_SUBSCRIBERS = [
    ("Northwind Pharmacy", "Business Backup", "active", "need_auth", 14),
    ("Blue Yonder Airlines", "Archiver 10y", "active", "ok", 24),
    ("Coho Winery", "Business Backup", "suspended", "ok", 8),
    ("Lucerne Publishing", "Business Backup", "unsubscribed", "ok", 6),
    ("Trey Research", "Business Backup", "deleted", "ok", 0),
    ("jamie.lee@personal.example", "Personal", "active", "ok", 3),
]
# Accounts of an organization, cycled: (local part or site name, product type, email kind, sections).
ACCOUNT_SHAPES = [
    ("ceo", "email", "mailbox", ("email", "calendar", "contact", "tasks")),
    ("reception", "email", "shared_mailbox", ("email", "calendar")),
    ("finance", "drive", "", ("drive",)),
    ("Projects", "sharepoint", "", ("files",)),
    ("office", "email", "mailbox", ("email", "calendar", "contact")),
    ("All staff", "group_team", "", ("files",)),
    ("archive", "email", "public_folder", ("email",)),
    ("design", "shared_drive", "", ("drive",)),
]
# Most backups succeed; now and then one warns or fails, and a new account waits for its first.
RESULTS = ["success"] * 9 + ["warning", "success", "failed", "success", "never"]

# One person with memberships at both partners shows the account picker (ID-5).
SHARED_PERSON = ("alex.morgan@consultants.example", "Alex", "Morgan")


class Command(BaseCommand):
    help = "Load the demo data (once; running it again changes nothing)."

    @transaction.atomic
    def handle(self, *args, **options):
        if Partner.objects.filter(name=PARTNERS[0]["name"]).exists():
            self.stdout.write("Demo data is already loaded.")
            return
        partners = {}
        for spec in PARTNERS:
            partner = seed.partner(spec["name"], country=spec["country"], default_language=spec["language"])
            partners[spec["name"]] = partner
            orgs = {name: seed.organization(partner, name) for name in spec["organizations"]}
            staff = {}
            for local, first, last, role in spec["staff"]:
                someone = seed.person(
                    f"{local}@{spec['domain']}", DEMO_PASSWORD, first_name=first, last_name=last, language=spec["language"]
                )
                staff[role] = seed.staff(someone, partner, role)
            end_users = []
            for local, first, last, org_name, language in spec["end_users"]:
                domain = org_name.lower().replace(" ", "-") + ".example" if org_name else spec["domain"]
                someone = seed.person(f"{local}@{domain}", DEMO_PASSWORD, first_name=first, last_name=last, language=language)
                if org_name:
                    end_users.append(seed.end_user(someone, orgs[org_name]))
                else:
                    # The partner's own IT person: at home in the first organization, devices of all.
                    first = orgs[spec["organizations"][0]]
                    end_users.append(seed.end_user(someone, first, all_organizations=True))
            self._devices_and_access(partner, list(orgs.values()), end_users, staff[StaffRole.SUPPORT])
            self._tickets(end_users, staff)
            self._saas_backup(partner, spec, orgs)
            record("demo.loaded", partner_id=partner.pk, actor_email="demo", after={"partner": partner.name})
        email, first, last = SHARED_PERSON
        alex = seed.person(email, DEMO_PASSWORD, first_name=first, last_name=last)
        north, blue = partners[PARTNERS[0]["name"]], partners[PARTNERS[1]["name"]]
        seed.staff(alex, north, StaffRole.SUPPORT)
        seed.end_user(alex, blue.organizations.get(name="Litware Bau"))
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    def _saas_backup(self, partner, spec, orgs) -> None:
        """Plans, a subscription for every organization and a few more, with backed-up accounts whose
        last results vary; each organization's admin can sign in to its customer portal (ORG-7)."""
        now = timezone.now()
        plans = {name: seed.plan(partner, name, plan_type, price) for name, plan_type, price in PLANS}
        subscribers = [(name, "Business Backup", "active", "ok", 10 + 3 * n) for n, name in enumerate(orgs)]
        if spec is PARTNERS[0]:
            subscribers += EXTRA_SUBSCRIBERS
        for n, (name, plan_name, status, credentials, count) in enumerate(subscribers):
            org = orgs.get(name) or seed.organization(partner, name)
            domain = name.lower().replace(" ", "-") + ".example" if "@" not in name else name.split("@")[1]
            contact = name if "@" in name else f"it.admin@{domain}"
            admin = None
            if status != "deleted":
                someone = seed.person(contact, DEMO_PASSWORD, first_name="IT", last_name="Admin", language=spec["language"])
                admin = seed.customer_user(someone, org)
            seats = max(5, count + (4 if n % 3 else -2))  # one organization runs over its paid seats
            subscription = seed.subscription(
                org, plans[plan_name], paid_seats=seats, storage_gib=50 * seats, admin=admin,
                contact_email=contact, status=status, credential_status=credentials,
                credential_error="The Microsoft 365 consent was revoked by a tenant admin." if credentials == "need_auth" else "",
                journaling_enabled=plan_name.startswith("Archiver"),
                journaling_address=f"journal@{domain}" if plan_name.startswith("Archiver") else "",
            )
            type(subscription).objects.filter(pk=subscription.pk).update(created_at=now - timedelta(days=3 + 11 * n))
            for k in range(count):
                local, product, kind, sections = ACCOUNT_SHAPES[k % len(ACCOUNT_SHAPES)]
                round_ = k // len(ACCOUNT_SHAPES)
                address = f"{local}{round_ or ''}@{domain}" if product not in ("sharepoint", "group_team") else f"{local} {round_ + 1}"
                added = now - timedelta(days=2 + 5 * k + n)
                results = [RESULTS[(n + k + i) % len(RESULTS)] for i in range(len(sections))]
                account = seed.account(
                    org, address, product, email_kind=kind, external_id=f"{n:02d}{k:04d}-{product[:3]}",
                    domain=domain if product in ("sharepoint", "group_team") else "",
                    status="deactivated" if k % 11 == 10 else "active", backed_up=k % 13 != 12, added_at=added,
                    sections=[(section, result, 40 * (k + 3) * (i + 1), (k + 1) * (i + 2) * 37_000_000)
                              for i, (section, result) in enumerate(zip(sections, results, strict=True))],
                )
                account.sections.exclude(last_backup_at=None).update(last_backup_at=now - timedelta(hours=3 + k))

    def _tickets(self, end_users, staff) -> None:
        """A few tickets per end user, with replies, an internal note and a closed one (TK-1 … TK-6)."""
        now = timezone.now()
        support, admin = staff[StaffRole.SUPPORT], staff[StaffRole.ADMIN]
        for n, member in enumerate(end_users):
            for k, (subject, description, status, priority, replies) in enumerate(TICKETS[n % 2 :: 2] or TICKETS):
                ticket = seed.ticket(
                    member, subject, description, status=status, priority=priority,
                    assignee=support if k % 2 == 0 else None,
                    closed_at=now - timedelta(days=2) if status == TicketStatus.CLOSED else None,
                )
                when = now - timedelta(days=3 * (k + 1) + n)
                for hours, (author, body, internal) in enumerate(replies, start=1):
                    written = seed.comment(
                        ticket, {"support": support, "admin": admin, "requester": member}[author], body, internal=internal
                    )
                    TicketComment.objects.filter(pk=written.pk).update(created_at=when + timedelta(hours=hours))
                Ticket.objects.filter(pk=ticket.pk).update(
                    created_at=when, updated_at=when + timedelta(hours=len(replies), minutes=5)
                )

    def _backup_health(self, devices, now) -> None:
        """The demo's devices without an agent show the backup health technicians meet: most
        backed up last night, a laptop that was off when its backup was due, one that failed."""
        from portico.backups.models import BackupPolicy, RunState
        from portico.notifications import secrets

        outcomes = {
            "LT-014": (RunState.MISSED, "The device was offline when its backup was due."),
            "LT-022": (RunState.FAILED, "Fatal: unable to save snapshot: no space left on the device's disk for restic's cache"),
        }
        for device in devices:
            if not device.backup_enabled:
                continue
            result, message = outcomes.get(device.name.split("-", 1)[1], (RunState.SUCCEEDED, ""))
            last_run = now - timedelta(hours=7)
            BackupPolicy.objects.create(
                device=device, paths=["/Users"] if device.os_family == "mac" else ["C:\\Users"],
                exclude=["*.tmp"], password_sealed=secrets.encrypt(f"demo-{device.pk}"),
                next_run_at=now.replace(hour=1, minute=0, second=0, microsecond=0) + timedelta(days=1),
                last_run_at=last_run, last_result=result, last_message=message,
                last_success_at=last_run if result == RunState.SUCCEEDED else last_run - timedelta(days=3),
                source_bytes=48_000_000_000 + device.pk * 1_000_000, stored_bytes=31_000_000_000 + device.pk * 700_000,
            )

    def _devices_and_access(self, partner, orgs, end_users, support) -> None:
        """Devices in every organization, assigned to its end users; roles; a scoped Support user."""
        now = timezone.now()
        prefix = {org.pk: "".join(word[0] for word in org.name.split()).upper() for org in orgs}
        devices = {}
        for index, org in enumerate(orgs):
            devices[org.pk] = [
                seed.device(
                    org,
                    f"{prefix[org.pk]}-{suffix}",
                    os_family,
                    os_version=version,
                    last_user=f"{org.name.split()[0].lower()}\\user{n}",
                    ip_address=f"10.{index + 10}.0.{20 + n}",
                    online=online,
                    last_seen_at=now - (timedelta(minutes=1) if online else timedelta(hours=5 + 7 * n)),
                    backup_enabled=os_family != "linux",
                )
                for n, (suffix, os_family, version, online) in enumerate(DEVICES)
            ]
        self._backup_health([device for org_devices in devices.values() for device in org_devices], now)
        roles = [seed.role(partner, name, *codes, description=text) for name, text, codes in ROLES]
        for n, member in enumerate(end_users):
            if member.all_organizations:
                # The roaming IT person reaches a computer in each organization, with full access.
                seed.assign(member, *(devices[org.pk][n % len(DEVICES)] for org in orgs))
                seed.give_roles(member, full_portal_access())
            else:
                seed.assign(member, *devices[member.organization_id][:3])
                seed.give_roles(member, roles[n % 2], roles[1])
                if n == 0:
                    seed.give_roles(member, roles[2])
        seed.group(partner, "Front desk", organizations=orgs[:2], managers=[support],
                   description="Support for the first two customers.")
