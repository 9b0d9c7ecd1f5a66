"""The demo's real agent (make demo): a token for it, then its device assigned to a demo end user.

    manage.py demo_agent enrolled STATE_FILE   # exits 1 unless the agent's state still names a valid credential
    manage.py demo_agent token                 # prints an enrolment token of the demo organization
    manage.py demo_agent assign STATE_FILE     # assigns the enrolled device to the demo end user
                                               # and backs up a folder of demo files from it
"""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portico import seed
from portico.access.roles import StaffRole
from portico.backups import services as backups
from portico.backups.models import BackupPolicy
from portico.devices.models import Device
from portico.identity.models import Membership, MembershipKind
from portico.remote import services
from portico.tenancy.models import Organization

DEMO_ORGANIZATION = "Contoso Dental"
DEMO_END_USER = "maria.silva@contoso-dental.example"


class Command(BaseCommand):
    help = "Enrol the demo's own agent and give its device to a demo end user."

    def add_arguments(self, parser):
        parser.add_argument("step", choices=["enrolled", "token", "assign"])
        parser.add_argument("state_file", nargs="?")

    def handle(self, *args, step: str, state_file: str | None = None, **options):
        organization = Organization.objects.filter(name=DEMO_ORGANIZATION).first()
        if organization is None:
            raise CommandError("Load the demo data first (manage.py load_demo).")
        if step == "token":
            owner = Membership.objects.filter(
                partner_id=organization.partner_id, kind=MembershipKind.STAFF, staff_role=StaffRole.OWNER
            ).first()
            _token, raw = services.create_enrolment_token(owner, organization, days=1, uses=1)
            self.stdout.write(raw)
            return
        state = _state(state_file)
        if step == "enrolled":
            if not state or services.authenticate(f"Bearer {state.get('device_id')}.{state.get('credential')}") is None:
                raise CommandError("The demo agent is not enrolled here.")
            return
        device = Device.objects.filter(pk=state.get("device_id"), organization=organization).first()
        if device is None:
            raise CommandError(f"The demo agent's device is not in {DEMO_ORGANIZATION}.")
        end_user = Membership.objects.get(person__email=DEMO_END_USER, organization=organization)
        seed.assign(end_user, device)
        folder = _demo_files()
        if not BackupPolicy.objects.filter(device=device).exists():
            owner = Membership.objects.get(
                partner_id=organization.partner_id, kind=MembershipKind.STAFF, staff_role=StaffRole.OWNER
            )
            backups.set_policy(owner, device, backups.PolicyChoice(
                paths=[str(folder)], exclude=["*.tmp"], interval_hours=1, start_time=time(0, 0),
                keep_last=5, keep_daily=7, keep_weekly=4, keep_monthly=6,
            ))
        # Until it has one, the demo device's first backup starts within a minute of the demo
        # starting, once the worker's scheduler looks.
        BackupPolicy.objects.filter(device=device, last_success_at__isnull=True).update(next_run_at=timezone.now())
        self.stdout.write(
            f"Demo agent: this machine is the device \"{device.name}\" of {DEMO_ORGANIZATION}, "
            f"assigned to {DEMO_END_USER}; it backs up {folder} every hour, the first time within a minute."
        )


DEMO_FILES = {
    "Documents/Quarterly report.txt": "Contoso Dental, third quarter\n\nPatients seen: 1,284\nNew patients: 97\n",
    "Documents/Letters/Welcome letter.txt": "Dear patient,\n\nwelcome to Contoso Dental.\n",
    "Documents/Letters/Appointment reminder.txt": "Your next check-up is due. Call us to book a time.\n",
    "Spreadsheets/Supplies.csv": "item,quantity\ngloves,40\nmasks,120\nfloss,300\n",
    "Notes/To do.txt": "- order gloves\n- renew the X-ray licence\n",
}


def _demo_files() -> Path:
    """A folder of the demo device's own files to back up (made once; changes people make stay)."""
    folder = Path(settings.BASE_DIR, "var", "demo-files").resolve()
    for name, text in DEMO_FILES.items():
        path = folder / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return folder


def _state(path: str | None) -> dict:
    """The agent's state file (docs/agent-protocol.md), or nothing."""
    if not path:
        raise CommandError("Name the agent's state file.")
    try:
        with open(path, encoding="utf-8") as state:
            return json.load(state)
    except (OSError, ValueError):
        return {}
