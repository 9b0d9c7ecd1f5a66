"""What every page's layout needs: the active membership and which menu entries it may use."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from portico.access import policy
from portico.access.policy import Action


def portico(request):
    membership = getattr(request, "membership", None)
    return {
        "membership": membership,
        "LANGUAGE_CHOICES": settings.LANGUAGES,
        "can_open_settings": membership is not None and policy.can(membership, Action.CHANGE, membership.partner),
        "can_use_tickets": SimpleLazyObject(lambda: _can_use_tickets(membership)),
    }


def _can_use_tickets(membership) -> bool:
    if membership is None:
        return False
    if membership.kind == "staff":
        return membership.staff_role in policy.TICKET_HANDLERS
    return policy.can_open_ticket(membership)
