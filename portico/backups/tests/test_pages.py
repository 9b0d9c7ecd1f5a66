"""Who reaches a device's backups, and what bad input gets (PERM-2, PERM-4, FR-1 … FR-3): the
pages over an index written directly, no restic needed."""

from __future__ import annotations

from datetime import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portico import seed
from portico.access.catalog import BACKUP_RESTORE
from portico.access.models import Grant
from portico.audit.models import AuditEvent
from portico.backups import index, services
from portico.backups.models import BackupPolicy, BackupRun, RunKind, Snapshot, SnapshotEntry
from tests.support import sign_in

pytestmark = pytest.mark.django_db


def policy_choice(**changes) -> services.PolicyChoice:
    values = dict(paths=["/home"], exclude=[], interval_hours=24, start_time=time(1), keep_last=3, keep_daily=7,
                  keep_weekly=0, keep_monthly=0)
    return services.PolicyChoice(**(values | changes))


def indexed(device, *paths: str, seq: int = 1) -> Snapshot:
    """A snapshot of `device` holding these files (and their folders), as indexing writes it."""
    snapshot = Snapshot.objects.create(device=device, snapshot_id=f"{seq:02d}{device.pk:02d}".ljust(64, "a"), seq=seq,
                                       taken_at=timezone.now(), paths=["/home"])
    folders = {folder for path in paths for folder in _ancestors(path)}
    for path in sorted(folders) + list(paths):
        kind = "dir" if path in folders else "file"
        index.Node(path, kind, 0 if kind == "dir" else 100, timezone.now()).entry(device.pk, seq).save()
    return snapshot


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


@pytest.fixture
def backed_up(admin, user_org, device_a):
    device = device_a
    services.set_policy(admin, device, policy_choice())
    seed.assign(user_org, device)
    seed.grant(user_org, BACKUP_RESTORE)
    snapshot = indexed(device, "/home/emma/report.odt", "/home/emma/letters/dear.txt")
    return device, snapshot


def browse_url(device, area: str = "portal") -> str:
    return reverse(f"backups:{area}_browse", args=[device.pk])


def test_perm2_perm4_only_assigned_devices_with_the_right_and_backup_on(backed_up, user_org, org_a, device_b, signed_in):
    device, snapshot = backed_up
    client = signed_in(user_org)
    assert client.get(browse_url(device)).status_code == 200
    # PERM-4: a device not assigned is out of reach, even with the right.
    indexed(device_b, "/srv/data.db")
    assert client.get(browse_url(device_b)).status_code == 404
    # The console's address is not the end user's.
    assert client.get(browse_url(device, "console")).status_code == 404
    # PERM-2: without the right, or with backup off, nothing.
    Grant.objects.filter(membership=user_org, code=BACKUP_RESTORE).delete()
    assert client.get(browse_url(device)).status_code == 404
    assert client.get(reverse("backups:portal_download", args=[device.pk, snapshot.snapshot_id]),
                      {"path": "/home/emma"}).status_code == 404
    seed.grant(user_org, BACKUP_RESTORE)
    device.backup_enabled = False
    device.save()
    assert client.get(browse_url(device)).status_code == 404


def test_another_devices_snapshot_and_odd_input_are_answered_clearly(backed_up, user_org, admin, device_b, signed_in):
    device, snapshot = backed_up
    services.set_policy(admin, device_b, policy_choice())
    foreign = indexed(device_b, "/srv/data.db")
    client = signed_in(user_org)
    assert client.get(browse_url(device), {"snapshot": foreign.snapshot_id}).status_code == 404
    assert client.get(reverse("backups:portal_download", args=[device.pk, foreign.snapshot_id]),
                      {"path": "/srv/data.db"}).status_code == 404
    assert client.get(reverse("backups:portal_download", args=[device.pk, snapshot.snapshot_id]),
                      {"path": "/etc/shadow"}).status_code == 404
    for text in ["%", "_", "'\"", "\\", "📁", "x" * 10_000, "\x00%"]:
        answer = client.get(browse_url(device), {"q": text})
        assert answer.status_code == 200
        assert list(answer.context["page"]) == [], text
    for path in ["../../etc", "/home/../etc", "relative", "/home/emma/\x00", "//"]:
        answer = client.get(browse_url(device), {"path": path, "snapshot": snapshot.snapshot_id})
        assert answer.status_code == 200 and answer.context["path"] == "/"
    assert client.get(browse_url(device), {"page": "99999", "path": "/home/emma"}).status_code in (200, 404)
    assert [e.name for e in client.get(browse_url(device), {"path": "/home/emma"}).context["page"]] == [
        "letters", "report.odt",
    ]


@pytest.mark.parametrize(("changes", "error"), [
    ({"paths": ["/etc/shadow"]}, "is not in this snapshot"),
    ({"paths": []}, "Choose at least one file or folder."),
    ({"destination": "folder", "target": "relative/folder"}, "must be a full path"),
    ({"destination": "folder", "target": "/home/emma/../../etc"}, "must be a full path"),
    ({"destination": "folder", "target": ""}, "Name the folder"),
    ({"conflict": "merge"}, "Select a valid choice"),
])
def test_restore_refusals_keep_the_choices(backed_up, user_org, signed_in, changes, error):
    device, snapshot = backed_up
    client = signed_in(user_org)
    data = {"snapshot": snapshot.snapshot_id, "path": "/home/emma", "paths": ["/home/emma/report.odt"],
            "destination": "original", "target": "", "conflict": "keep_both"} | changes
    answer = client.post(browse_url(device), data)
    assert answer.status_code == 200
    assert error in answer.content.decode()
    assert set(answer.context["selected"]) == set(data["paths"])
    assert not BackupRun.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["backup.restore_started", "backup.restore_finished"]).exists()
    if changes.get("paths"):  # refused by the service, past the form: audited with the reason
        refused = AuditEvent.objects.get(action="backup.restore_refused")
        assert refused.actor == user_org and "not in this snapshot" in refused.after["reason"]


def test_a_restore_asked_of_a_device_out_of_reach_is_audited_and_404(backed_up, user_org, admin, device_b, signed_in):
    services.set_policy(admin, device_b, policy_choice())
    foreign = indexed(device_b, "/srv/data.db")
    answer = signed_in(user_org).post(browse_url(device_b), {
        "snapshot": foreign.snapshot_id, "paths": ["/srv/data.db"], "destination": "original", "conflict": "overwrite",
    })
    assert answer.status_code == 404
    refused = AuditEvent.objects.get(action="backup.restore_refused")
    assert refused.actor == user_org and refused.after == {"device": device_b.pk, "reason": "out of reach"}
    assert not BackupRun.objects.exists()


def test_a_restore_needs_the_device_online(backed_up, user_org, signed_in):
    device, snapshot = backed_up
    answer = signed_in(user_org).post(browse_url(device), {
        "snapshot": snapshot.snapshot_id, "path": "/home/emma", "paths": ["/home/emma/report.odt"],
        "destination": "original", "conflict": "skip",
    })
    assert "is offline" in answer.content.decode()
    assert not BackupRun.objects.exists()


def test_an_end_user_follows_only_their_own_restores(backed_up, user_org, org_a, signed_in):
    device, _snapshot = backed_up
    colleague = seed.end_user(seed.person("liam@contoso.test", "portico-demo-2026!", first_name="Liam"), org_a)
    seed.assign(colleague, device)
    seed.grant(colleague, BACKUP_RESTORE)
    theirs = BackupRun.objects.create(device=device, kind=RunKind.RESTORE, requested_by=colleague)
    url = reverse("backups:portal_run", args=[device.pk, theirs.pk])
    assert signed_in(user_org).get(url).status_code == 404


def test_fr1_the_policy_form_refuses_what_restic_could_not_use(admin, device_a, signed_in):
    client = signed_in(admin)
    url = reverse("backups:policy", args=[device_a.pk])
    base = {"paths_text": "/home\nC:\\Users", "exclude_text": "*.tmp", "interval_hours": "24", "start_time": "01:00",
            "keep_last": "3", "keep_daily": "7", "keep_weekly": "4", "keep_monthly": "12"}
    for changes, error in [
        ({"paths_text": "home/emma"}, "Not a full path"),
        ({"paths_text": "/home/../etc"}, "Not a full path"),
        ({"paths_text": ""}, "This field is required."),
        ({"keep_last": "0", "keep_daily": "0", "keep_weekly": "0", "keep_monthly": "0"}, "Keep at least one snapshot"),
        ({"keep_daily": "5000"}, "At most 1,000."),
        ({"interval_hours": "5"}, "Select a valid choice"),
        ({"start_time": "25:00"}, "Enter a valid time."),
    ]:
        answer = client.post(url, base | changes)
        assert answer.status_code == 200, changes
        assert error in answer.content.decode(), changes
    assert not BackupPolicy.objects.exists()
    assert client.post(url, base).status_code == 302
    policy = BackupPolicy.objects.get(device=device_a)
    assert policy.paths == ["/home", "C:\\Users"] and policy.next_run_at is not None
    device_a.refresh_from_db()
    assert device_a.backup_enabled
    changed = AuditEvent.objects.get(action="backup.policy_changed")
    assert changed.actor == admin and changed.after["paths"] == ["/home", "C:\\Users"]
    assert "password" not in str(changed.after)


def test_technicians_outside_their_groups_or_roles_get_nothing(admin_scoped, finance, device_b, signed_in):
    for who in (admin_scoped, finance):
        client = sign_in(Client(), who)
        assert client.get(reverse("backups:policy", args=[device_b.pk])).status_code in (403, 404)
        assert client.post(reverse("backups:back_up_now", args=[device_b.pk])).status_code in (403, 404)
        assert client.get(browse_url(device_b, "console")).status_code == 404
    assert not BackupPolicy.objects.exists()


def test_unchanged_files_are_one_row_however_many_snapshots(backed_up):
    device, snapshot = backed_up
    assert SnapshotEntry.objects.filter(device=device, name="report.odt").count() == 1
