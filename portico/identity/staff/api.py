"""`/api/v1/staff-users/`: the partner's staff users, changed under the rank rule of PU-2."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from portico.access import policy
from portico.access.policy import Action
from portico.access.roles import StaffRole
from portico.api.viewsets import PolicyViewSetMixin
from portico.identity.api_actions import MembershipSwitchesMixin
from portico.identity.models import Membership
from portico.identity.staff import services
from portico.identity.staff.views import filtered_staff, staff_in_reach


class StaffUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(source="person.email", max_length=254, help_text="Cannot change after creation (ID-10)")
    first_name = serializers.CharField(source="person.first_name", max_length=100)
    last_name = serializers.CharField(source="person.last_name", max_length=100)
    staff_role = serializers.ChoiceField(choices=StaffRole.choices, help_text="Only roles beneath the caller's own (PU-2)")
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=512, style={"input_type": "password"})
    enabled = serializers.BooleanField(read_only=True)
    security_type = serializers.CharField(read_only=True)


class SsoSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


@extend_schema_view(
    list=extend_schema(
        summary="Staff users of the partner",
        parameters=[OpenApiParameter("search", str), OpenApiParameter("role", str, enum=[r.value for r in StaffRole])],
    ),
    create=extend_schema(summary="Create a staff user and send the invitation (PU-3)"),
)
class StaffUserViewSet(MembershipSwitchesMixin, PolicyViewSetMixin, viewsets.GenericViewSet):
    base_queryset = Membership.objects.none()
    serializer_class = StaffUserSerializer

    def get_queryset(self):
        queryset = staff_in_reach(self.membership)
        if self.action == "list":
            params = self.request.query_params
            queryset = filtered_staff(queryset, params.get("search", "")[:100], params.get("role", "")[:16])
        return queryset

    def _changeable(self) -> Membership:
        member = self.get_object()
        if member.pk == self.membership.pk or not policy.can(self.membership, Action.CHANGE, member):
            raise ApiPermissionDenied
        return member

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        details = services.StaffDetails(
            first_name=data["person"]["first_name"], last_name=data["person"]["last_name"],
            email=data["person"]["email"], staff_role=data["staff_role"], password=data.get("password", ""),
            language=self.membership.partner.default_language,
        )
        member = services.create_staff_user(self.membership, details)
        return Response(self.get_serializer(member).data, status=status.HTTP_201_CREATED)

    def _update(self, request, partial: bool):
        member = self._changeable()
        serializer = self.get_serializer(member, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        person = data.get("person", {})
        if "password" in data:
            raise ApiValidationError({"password": [_("A staff user's password is changed by them, or through reset password.")]})
        details = services.StaffDetails(
            first_name=person.get("first_name", member.person.first_name),
            last_name=person.get("last_name", member.person.last_name),
            email=person.get("email", member.person.email),
            staff_role=data.get("staff_role", member.staff_role),
        )
        member = services.update_staff_user(self.membership, member, details)
        return Response(self.get_serializer(member).data)

    def update(self, request, pk=None):
        return self._update(request, partial=False)

    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def destroy(self, request, pk=None):
        member = self.get_object()
        services.delete_staff_user(self.membership, member)
        return Response(status=status.HTTP_204_NO_CONTENT)


    @extend_schema(
        request=SsoSerializer,
        summary="Switch single sign-on on or off (PU-6, ID-8)",
    )
    @action(detail=True, methods=["post"])
    def sso(self, request, pk=None):
        member = self._changeable()
        body = SsoSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = services.set_sso(self.membership, member, body.validated_data["enabled"])
        return Response(self.get_serializer(member).data)


def register(router) -> None:
    router.register("staff-users", StaffUserViewSet, basename="staff-user")
