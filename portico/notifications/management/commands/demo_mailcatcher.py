"""A local SMTP server for the demo: shows each email's subject and links, keeps it in var/mail/."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand

LINK = re.compile(r"https?://\S+")


class Catcher:
    def __init__(self, folder: Path, write):
        self.folder, self.write = folder, write

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"{stamp}-{abs(hash(envelope.content)) % 10**8}.eml"
        path.write_bytes(envelope.content)
        body = message.get_body(preferencelist=("plain",))
        links = LINK.findall(body.get_content()) if body else []
        self.write(f"\n  ✉  To {message['To']}: {message['Subject']}")
        for link in links:
            self.write(f"     {link}")
        return "250 OK"


class Command(BaseCommand):
    help = "Catch the demo's outgoing email on the configured SMTP port and print it."

    def handle(self, *args, **options):
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        folder = Path(settings.BASE_DIR) / "var" / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        controller = Controller(
            Catcher(folder, self.stdout.write), hostname=settings.EMAIL_HOST, port=settings.EMAIL_PORT
        )
        controller.start()
        self.stdout.write(f"Demo mail catcher on {settings.EMAIL_HOST}:{settings.EMAIL_PORT}, saving to {folder}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
