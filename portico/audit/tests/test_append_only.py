"""On PostgreSQL the database itself refuses to edit or delete audit events (AUD-2)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from portico.audit.models import AuditEvent
from portico.audit.services import record, verify_chain

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger exists on PostgreSQL only; SQLite relies on the hash chain alone",
)


@pytest.fixture
def event(partner):
    record("test.event", partner_id=partner.pk)
    return record("test.event", partner_id=partner.pk, after={"n": 1})


def refused(sql: str, params: list) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


def test_aud2_plain_update_is_refused(event):
    assert "append-only (UPDATE refused)" in refused(
        "UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.rewritten", event.pk]
    )
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_aud2_plain_delete_is_refused(event):
    assert "append-only (DELETE refused)" in refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert "append-only (DELETE refused)" in refused("DELETE FROM audit_auditevent", [])
    assert AuditEvent.objects.filter(chain=event.chain).count() == 2
    assert verify_chain(event.chain) is None


def test_aud2_orm_update_and_delete_are_refused_too(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_email="x@y.test")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).actor_email == ""
