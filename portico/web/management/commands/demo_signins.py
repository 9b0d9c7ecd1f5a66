"""Print the demo sign-ins with their TOTP secrets and current codes."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portico import seed
from portico.identity.models import Person
from portico.web.management.commands.load_demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "List the demo people: email, password, TOTP secret."

    def handle(self, *args, **options):
        self.stdout.write("")
        self.stdout.write("Demo sign-ins — password for everyone: " + DEMO_PASSWORD)
        self.stdout.write("Current code: make demo-code EMAIL=<email>  (or add the secret to an authenticator app)")
        self.stdout.write("")
        people = Person.objects.prefetch_related("memberships__partner", "memberships__organization").order_by("email")
        for someone in people:
            memberships = list(someone.memberships.all())
            if not memberships:
                continue
            secret = seed.totp_secret(someone) or "-"
            places = "; ".join(m.place_label for m in memberships)
            self.stdout.write(f"  {someone.email:<42} TOTP {secret}  [{places}]")
        self.stdout.write("")


