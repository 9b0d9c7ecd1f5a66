"""`manage.py verify_audit` finds tampering: altered, removed or missing events (AUD-2)."""

from __future__ import annotations

import pytest
from django.core.management import ManagementUtility
from django.db import connection

from portico.audit.models import AuditChain, AuditEvent
from portico.audit.services import record


def verify_audit(capsys) -> tuple[int, str, str]:
    """Run the command as `manage.py verify_audit` would: exit status, stdout, stderr."""
    try:
        ManagementUtility(["manage.py", "verify_audit"]).execute()
        status = 0
    except SystemExit as exit_:
        status = exit_.code or 0
    out, err = capsys.readouterr()
    return status, out, err


def raw_sql(sql: str, params: list) -> None:
    """Write past the product, as someone with database access would.

    On PostgreSQL the append-only trigger refuses this, so the attacker (a superuser here)
    switches it off first; the hash chain must still tell.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


@pytest.fixture
def log(partner, other_partner, admin, org_a):
    """Five events in Northwind's chain, two in Bluewave's, one platform event."""
    events = [
        record("test.event", partner_id=partner.pk, organization_id=org_a.pk, actor=admin, after={"n": n})
        for n in range(5)
    ]
    record("test.event", partner_id=other_partner.pk)
    record("test.event", partner_id=other_partner.pk)
    record("test.platform")
    return events


def test_aud2_intact_log_passes(log, capsys):
    status, out, err = verify_audit(capsys)
    assert status == 0, err
    assert out.count("intact") == 3
    assert "All audit chains verified." in out


def test_aud2_altered_field_reports_that_exact_event(log, capsys):
    altered = log[2]
    raw_sql("UPDATE audit_auditevent SET actor_email = %s WHERE id = %s", ["someone.else@northwind.test", altered.pk])
    status, out, err = verify_audit(capsys)
    assert status != 0
    assert f"event #{altered.seq} (id {altered.pk}, test.event)" in out
    assert "1 audit chain(s) failed verification" in err
    # The other partner's chain and the platform chain are untouched.
    assert out.count("intact") == 2


@pytest.mark.parametrize(
    "column, value",
    [
        ("action", "test.harmless"),
        ("after", '{"n": 99}'),
        ("ip", "198.51.100.7"),
        ("organization_id", 999999),
        ("created_at", "2020-01-01 00:00:00"),
    ],
)
def test_aud2_any_recorded_field_altered_is_detected(log, capsys, column, value):
    altered = log[3]
    raw_sql(f"UPDATE audit_auditevent SET {column} = %s WHERE id = %s", [value, altered.pk])
    status, out, _ = verify_audit(capsys)
    assert status != 0
    assert f"event #{altered.seq} (id {altered.pk}," in out


def test_aud2_first_of_several_altered_events_is_reported(log, capsys):
    for event in (log[3], log[1]):
        raw_sql("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.rewritten", event.pk])
    status, out, _ = verify_audit(capsys)
    assert status != 0
    assert f"event #{log[1].seq} (id {log[1].pk}, test.rewritten)" in out


def test_aud2_rehashed_event_still_breaks_the_link_to_the_next(log, capsys):
    # Recomputing the altered event's own hash does not help: the next event names the old one.
    altered = AuditEvent.objects.get(pk=log[1].pk)
    altered.actor_email = "someone.else@northwind.test"
    raw_sql(
        "UPDATE audit_auditevent SET actor_email = %s, hash = %s WHERE id = %s",
        [altered.actor_email, altered.compute_hash(), altered.pk],
    )
    status, out, _ = verify_audit(capsys)
    assert status != 0
    assert f"event #{log[2].seq} (id {log[2].pk}," in out


def test_aud2_event_deleted_from_the_middle_is_detected(log, capsys):
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [log[2].pk])
    status, out, _ = verify_audit(capsys)
    assert status != 0
    # The event after the gap is the first one out of place.
    assert f"event #{log[3].seq} (id {log[3].pk}," in out


def test_aud2_event_deleted_from_the_end_is_detected(log, capsys):
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [log[4].pk])
    status, out, _ = verify_audit(capsys)
    assert status != 0
    assert "events at the end of the chain were removed" in out


def test_aud2_deleting_a_chain_head_does_not_hide_its_altered_events(log, partner, capsys):
    # The head row is not append-only; without it the chain must still be found and checked.
    raw_sql("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.rewritten", log[1].pk])
    AuditChain.objects.filter(key=partner.pk).delete()
    status, out, _ = verify_audit(capsys)
    assert status != 0
    assert f"event #{log[1].seq} (id {log[1].pk}, test.rewritten)" in out


def test_aud2_deleting_a_chain_head_alone_is_detected(log, partner, capsys):
    AuditChain.objects.filter(key=partner.pk).delete()
    status, out, _ = verify_audit(capsys)
    assert status != 0
    assert "events at the end of the chain were removed" in out
