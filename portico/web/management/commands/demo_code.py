"""Print the current TOTP code of a demo person (`make demo-code EMAIL=...`)."""

from __future__ import annotations

import pyotp
from django.core.management.base import BaseCommand, CommandError

from portico import seed
from portico.identity.models import Person


class Command(BaseCommand):
    help = "Print the current authenticator code of a person whose TOTP secret the demo knows."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, **options):
        someone = Person.objects.filter(email=options["email"].strip().lower()).first()
        secret = seed.totp_secret(someone) if someone else None
        if not secret:
            raise CommandError(f"No authenticator app is set up for {options['email']!r}.")
        self.stdout.write(pyotp.TOTP(secret).now())
