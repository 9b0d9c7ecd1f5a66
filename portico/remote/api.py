"""The agent's enrolment over HTTPS (docs/agent-protocol.md): no session, no CSRF; the token is
the authentication."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from portico.access.catalog import OsFamily
from portico.remote import services


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
