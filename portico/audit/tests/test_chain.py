"""Every audit event hashes the one before it, one chain per partner (AUD-2, DESIGN mechanism 4)."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest
from django.db import connection, connections, transaction

from portico.audit.models import GENESIS_HASH, AuditChain, AuditEvent
from portico.audit.services import record, verify_all, verify_chain


def test_aud2_each_event_hashes_the_previous_one(partner):
    events = [record("test.event", partner_id=partner.pk, after={"n": n}) for n in range(5)]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.hash
    for event in AuditEvent.objects.filter(chain=partner.pk):
        assert event.hash == event.compute_hash()
    head = AuditChain.objects.get(key=partner.pk)
    assert (head.seq, head.head_hash) == (5, events[-1].hash)


def test_aud2_hash_covers_what_was_recorded(partner, org_a, admin):
    event = record(
        "test.event", partner_id=partner.pk, organization_id=org_a.pk, actor=admin, before={"a": 1}, after={"a": 2}
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.hash == stored.compute_hash()
    for field, value in [
        ("action", "test.other"),
        ("organization_id", org_a.pk + 1),
        ("actor_email", "x@y.test"),
        ("after", {"a": 3}),
    ]:
        copy = AuditEvent.objects.get(pk=event.pk)
        setattr(copy, field, value)
        assert copy.compute_hash() != stored.hash, field


def test_aud2_partners_have_separate_chains(partner, other_partner):
    record("test.event", partner_id=partner.pk)
    record("test.event", partner_id=other_partner.pk)
    record("test.event", partner_id=partner.pk)
    record("test.platform")
    assert list(AuditEvent.objects.filter(chain=partner.pk).order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert list(AuditEvent.objects.filter(chain=other_partner.pk).values_list("seq", flat=True)) == [1]
    assert list(AuditEvent.objects.filter(chain=0).values_list("seq", flat=True)) == [1]
    assert verify_all() == {0: None, partner.pk: None, other_partner.pk: None}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need a server database (PostgreSQL)")
def test_aud2_concurrent_writers_never_fork_a_partner_chain(transactional_db, partner, other_partner):
    assert not connection.in_atomic_block, "the writers must see committed rows and leave none behind"
    threads, per_thread = 8, 15
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    record("test.concurrent", partner_id=partner.pk, after={"writer": n, "i": i})
                    if i % 5 == 0:
                        record("test.concurrent", partner_id=other_partner.pk, after={"writer": n, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    for key, expected in [(partner.pk, threads * per_thread), (other_partner.pk, threads * 3)]:
        seqs = list(AuditEvent.objects.filter(chain=key).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, expected + 1))
        prev_hashes = list(AuditEvent.objects.filter(chain=key).values_list("prev_hash", flat=True))
        assert len(set(prev_hashes)) == len(prev_hashes), "two events claim the same predecessor: the chain forked"
        assert verify_chain(key) is None
        assert AuditChain.objects.get(key=key).seq == expected
