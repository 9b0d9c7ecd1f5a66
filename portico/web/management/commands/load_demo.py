"""Demo data that shows the product: two partners, their organizations, staff of every role, end users."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from portico import seed
from portico.access.roles import StaffRole
from portico.audit.services import record
from portico.tenancy.models import Partner

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
            for local, first, last, role in spec["staff"]:
                someone = seed.person(
                    f"{local}@{spec['domain']}", DEMO_PASSWORD, first_name=first, last_name=last, language=spec["language"]
                )
                seed.staff(someone, partner, role)
            for local, first, last, org_name, language in spec["end_users"]:
                domain = org_name.lower().replace(" ", "-") + ".example" if org_name else spec["domain"]
                someone = seed.person(f"{local}@{domain}", DEMO_PASSWORD, first_name=first, last_name=last, language=language)
                if org_name:
                    seed.end_user(someone, orgs[org_name])
                else:
                    seed.end_user(someone, of=partner)
            record("demo.loaded", partner_id=partner.pk, actor_email="demo", after={"partner": partner.name})
        email, first, last = SHARED_PERSON
        alex = seed.person(email, DEMO_PASSWORD, first_name=first, last_name=last)
        north, blue = partners[PARTNERS[0]["name"]], partners[PARTNERS[1]["name"]]
        seed.staff(alex, north, StaffRole.SUPPORT)
        seed.end_user(alex, blue.organizations.get(name="Litware Bau"))
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
