"""API endpoints of the foundation: who am I, and my personal tokens."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portico.api import services
from portico.api.models import ApiToken


class PersonSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    language = serializers.CharField()


class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    partner = serializers.CharField(source="partner.name")
    organization = serializers.CharField(source="organization.name", allow_null=True, default=None)
    all_organizations = serializers.BooleanField()
    staff_role = serializers.CharField()
    security_type = serializers.CharField()
    enabled = serializers.BooleanField()


class MeSerializer(serializers.Serializer):
    person = PersonSerializer()
    membership = MembershipSerializer()


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in person and the membership the call runs as")
    def get(self, request: Request) -> Response:
        membership = request._request.membership
        return Response(MeSerializer({"person": membership.person, "membership": membership}).data)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ApiTokenSerializer.Meta.fields + ["token"]


class NewestFirst(CursorPagination):
    # CursorPagination ignores a view's `ordering` and defaults to a `created` field we do not have.
    ordering = "-created_at"


class ApiTokenViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Personal API tokens of the membership the call runs as."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()
    lookup_value_regex = r"[0-9]+"
    pagination_class = NewestFirst

    def get_queryset(self):
        return ApiToken.objects.filter(membership=self.request._request.membership, revoked_at__isnull=True)

    def get_object(self) -> ApiToken:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = services.create_token(request._request.membership, serializer.validated_data["name"])
        data = NewApiTokenSerializer(token).data
        data["token"] = raw
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.revoke_token(self.request._request.membership, instance)


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
