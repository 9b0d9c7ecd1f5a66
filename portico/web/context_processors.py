"""What every page's layout needs: the active membership and which menu entries it may use."""

from django.conf import settings

from portico.access import policy
from portico.access.policy import Action


def portico(request):
    membership = getattr(request, "membership", None)
    return {
        "membership": membership,
        "LANGUAGE_CHOICES": settings.LANGUAGES,
        "can_open_settings": membership is not None and policy.can(membership, Action.CHANGE, membership.partner),
    }
