"""API authentication: a personal Bearer token, or the browser session with its chosen membership."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from portico.api.models import ApiToken, hash_token
from portico.audit import context


def usable_token(key: str) -> ApiToken | None:
    """The API token `key` names, unless it is revoked or its membership or person disabled (ID-6:
    a disabled membership's tokens stop working at once)."""
    token = (
        ApiToken.objects.select_related("membership__person", "membership__partner", "membership__organization")
        .filter(key_hash=hash_token(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.membership.enabled or not token.membership.person.is_active:
        return None
    return token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1", "replace")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed(_("Use 'Authorization: Bearer <token>'."))
        token = usable_token(parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        request._request.membership = token.membership
        context.set_actor(token.membership)
        return token.membership.person, token

    def authenticate_header(self, request):
        return self.keyword


class MembershipSessionAuthentication(authentication.SessionAuthentication):
    """The browser session, once the middleware has found an active membership for it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or getattr(request._request, "membership", None) is None:
            return None
        return result
