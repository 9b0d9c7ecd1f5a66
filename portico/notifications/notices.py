"""In-app notices (DASH-3) and the first-login welcome (DASH-5): what the dashboard shows a staff
user, and the changes to them — publishing by the platform operator, dismissing, "Get started".

Each change checks who acts, writes in one transaction and records its audit event there (AUD-1).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from portico.access import policy
from portico.access.policy import Action
from portico.audit.services import record
from portico.identity.models import Membership, MembershipKind, Person
from portico.notifications.models import Notice, NoticeDismissal, Welcome


def _published_to(actor: Membership) -> QuerySet[Notice]:
    """The notices published now that the actor may read (the policy: staff, their partner's or every partner's)."""
    now = timezone.now()
    return policy.restrict(Notice.objects.all(), actor, Action.VIEW).filter(
        Q(published_until__isnull=True) | Q(published_until__gt=now),
        published_from__lte=now,
    )


def visible_notices(actor: Membership) -> list[Notice]:
    """What the dashboard shows: published now, for the actor's partner, not dismissed by the person."""
    dismissed = NoticeDismissal.objects.filter(notice=OuterRef("pk"), person_id=actor.person_id)
    return list(_published_to(actor).filter(~Exists(dismissed)).order_by("-published_from", "-id"))


def dismiss_notice(actor: Membership, notice_id: int) -> Notice:
    """The person closes a notice for good, whichever membership they use later.

    A notice not published to them is a 404; closing one twice changes nothing.
    """
    notice = _published_to(actor).filter(pk=notice_id).first()
    if notice is None:
        raise Http404
    with transaction.atomic():
        _dismissal, created = NoticeDismissal.objects.get_or_create(notice=notice, person_id=actor.person_id)
        if created:
            record("notice.dismissed", obj=notice, partner_id=actor.partner_id, actor=actor)
    return notice


def needs_welcome(actor: Membership) -> bool:
    """DASH-5: a staff membership sees the welcome until it chose "Get started"."""
    return actor.kind == MembershipKind.STAFF and not Welcome.objects.filter(membership_id=actor.pk).exists()


def finish_welcome(actor: Membership) -> None:
    if actor.kind != MembershipKind.STAFF:
        raise Http404
    with transaction.atomic():
        _welcome, created = Welcome.objects.get_or_create(membership_id=actor.pk)
        if created:
            record("welcome.done", obj=actor, partner_id=actor.partner_id, actor=actor)


# Publishing: the platform operator works in the Django admin (portico/notifications/admin.py).


def _operator(person: Person) -> None:
    if not (person.is_active and person.is_platform_operator):
        raise PermissionDenied


def notice_snapshot(notice: Notice) -> dict:
    return {
        "title": notice.title,
        "body": notice.body,
        "level": notice.level,
        "partner": notice.partner_id,
        "published_from": notice.published_from,
        "published_until": notice.published_until,
    }


def save_notice(operator: Person, notice: Notice, before: dict | None) -> Notice:
    """Publish a new notice, or change one (`before` is its state as it was read)."""
    _operator(operator)
    with transaction.atomic():
        notice.full_clean()
        notice.save()
        record(
            "notice.changed" if before is not None else "notice.published",
            obj=notice,
            partner_id=notice.partner_id,
            before=before,
            after=notice_snapshot(notice),
            actor_email=operator.email,
        )
    return notice


def delete_notice(operator: Person, notice: Notice) -> None:
    _operator(operator)
    with transaction.atomic():
        before = notice_snapshot(notice)
        record("notice.deleted", obj=notice, partner_id=notice.partner_id, before=before, actor_email=operator.email)
        notice.delete()
