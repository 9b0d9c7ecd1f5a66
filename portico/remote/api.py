"""The agent's enrolment over HTTPS (docs/agent-protocol.md): no session, no CSRF; the token is
the authentication. And the API's session tokens, under the same policy as the pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from portico.access.catalog import OsFamily
from portico.devices.models import Device
from portico.remote import services, sessions


class EnrolmentSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    hostname = serializers.CharField(max_length=255)
    os_family = serializers.ChoiceField(choices=OsFamily.values)
    os_version = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")
    agent_version = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")


class EnrolThrottle(AnonRateThrottle):
    rate = "30/minute"


class EnrolView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [EnrolThrottle]

    def post(self, request: Request) -> Response:
        given = EnrolmentSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            device, credential = services.enrol(services.Enrolment(**given.validated_data))
        except ValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"device_id": device.pk, "credential": credential, "heartbeat_seconds": services.heartbeat_seconds()},
            status=status.HTTP_201_CREATED,
        )


class SessionRequestSerializer(serializers.Serializer):
    device = serializers.IntegerField(min_value=1, max_value=2**62)
    kind = serializers.ChoiceField(choices=sorted(sessions.KINDS))
    view_only = serializers.BooleanField(required=False, default=False)


class SessionTokenSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    socket = serializers.CharField(help_text="Open this path as a websocket within `expires_in` seconds, once.")
    expires_in = serializers.IntegerField()


class SessionRequestView(APIView):
    """A one-time session token (RA-2, RA-3), for a device the caller may reach with this kind.

    The websocket then needs the same membership: the browser's signed-in session, or this API
    token in its Authorization header."""

    @extend_schema(request=SessionRequestSerializer, responses={201: SessionTokenSerializer})
    def post(self, request: Request) -> Response:
        given = SessionRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        actor = request._request.membership  # type: ignore[attr-defined]
        device = Device.objects.filter(pk=given.validated_data["device"]).first()
        if device is None:
            raise Http404
        try:
            session, raw = sessions.request_session(
                actor, device, given.validated_data["kind"], view_only=given.validated_data["view_only"]
            )
        except sessions.DeviceOffline:
            return Response({"detail": _("The device is offline: its agent is not connected.")}, status=status.HTTP_409_CONFLICT)
        return Response(
            {"session": session.pk, "socket": sessions.socket_path(raw), "expires_in": sessions.TOKEN_SECONDS},
            status=status.HTTP_201_CREATED,
        )
