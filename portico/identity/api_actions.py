"""API actions every kind of person resource offers: enable, disable, reset password (ID-6, ID-7)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from portico.identity import services


class MembershipSwitchesMixin:
    """For viewsets over memberships; the services check the policy (404 beyond reach, 403 above)."""

    def _set_enabled(self, enabled: bool) -> Response:
        member = self.get_object()  # type: ignore[attr-defined]
        services.set_enabled(self.membership, member, enabled)  # type: ignore[attr-defined]
        return Response(self.get_serializer(self.get_queryset().get(pk=member.pk)).data)  # type: ignore[attr-defined]

    @extend_schema(request=None, summary="Enable the membership (ID-6)")
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        return self._set_enabled(True)

    @extend_schema(request=None, summary="Disable the membership; its sessions and tokens end (ID-6)")
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        return self._set_enabled(False)

    @extend_schema(request=None, responses={204: None}, summary="Re-send the invitation to choose a new password (ID-7)")
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        services.reset_password(self.membership, self.get_object())  # type: ignore[attr-defined]
        return Response(status=status.HTTP_204_NO_CONTENT)
