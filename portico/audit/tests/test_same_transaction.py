"""A service's audit event is written in the same transaction as its change (DESIGN mechanism 3, AUD-1)."""

from __future__ import annotations

import pytest
from django.db import transaction

from portico.audit.models import AuditChain, AuditEvent
from portico.audit.services import verify_chain
from portico.identity import services
from portico.identity.models import Membership, Person


class Boom(Exception):
    pass


def test_aud1_change_and_event_commit_together(admin, user_org):
    services.set_enabled(admin, user_org, False)
    event = AuditEvent.objects.get(action="membership.disabled")
    assert event.object_id == str(user_org.pk)
    assert event.before["enabled"] is True and event.after["enabled"] is False


def test_aud1_change_rolled_back_by_caller_leaves_no_event(admin, user_org):
    with pytest.raises(Boom), transaction.atomic():
        services.set_enabled(admin, user_org, False)
        assert AuditEvent.objects.filter(action="membership.disabled").exists()
        raise Boom
    user_org.refresh_from_db()
    assert user_org.enabled
    assert not AuditEvent.objects.filter(action="membership.disabled").exists()
    # The chain head rolled back with it, so the next event continues the chain without a gap.
    services.set_enabled(admin, user_org, False)
    assert AuditChain.objects.get(key=admin.partner_id).seq == AuditEvent.objects.filter(chain=admin.partner_id).count()
    assert verify_chain(admin.partner_id) is None


def test_aud1_service_failing_after_it_audited_leaves_neither_change_nor_event(admin, org_a, monkeypatch):
    # invite() records "membership.created" and then queues the invitation; if queueing fails,
    # the membership, the person and the already written event all disappear together.
    def unreachable_outbox(**kwargs):
        raise Boom("outbox unavailable")

    monkeypatch.setattr(services, "queue_email", unreachable_outbox)
    with pytest.raises(Boom):
        services.invite(
            admin,
            services.InviteRequest(email="nia@contoso.test", kind="end_user", first_name="Nia", organization=org_a),
        )
    assert not Person.objects.filter(email="nia@contoso.test").exists()
    assert not Membership.objects.filter(person__email="nia@contoso.test").exists()
    assert not AuditEvent.objects.filter(action__in=["membership.created", "invitation.sent"]).exists()
    assert not AuditChain.objects.filter(key=admin.partner_id, seq__gt=0).exists()
