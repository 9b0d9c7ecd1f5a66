"""`/api/v1/end-user-roles/`: the partner's end-user roles and the built-in one (EU-2)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response

from portico.access import catalog, policy, services
from portico.access.models import EndUserRole
from portico.access.policy import Action
from portico.api.viewsets import PolicyViewSetMixin


class EndUserRoleSerializer(serializers.ModelSerializer):
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(catalog.ALL_CODES)), required=False, max_length=50
    )
    builtin = serializers.BooleanField(source="is_builtin", read_only=True)

    class Meta:
        model = EndUserRole
        fields = ["id", "name", "description", "builtin", "full_access", "permissions"]
        read_only_fields = ["id", "builtin", "full_access"]

    def to_representation(self, instance: EndUserRole) -> dict:
        data = super().to_representation(instance)
        data["name"] = str(instance)
        data["permissions"] = sorted(catalog.ALL_CODES) if instance.full_access else sorted(g.code for g in instance.grants.all())
        return data



@extend_schema_view(list=extend_schema(summary="End-user roles: the partner's own and the built-in Full Portal Access"))
class EndUserRoleViewSet(PolicyViewSetMixin, viewsets.ModelViewSet):
    base_queryset = EndUserRole.objects.prefetch_related("grants")
    serializer_class = EndUserRoleSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        role = services.create_role(self.membership, data["name"], data.get("description", ""), set(data.get("permissions", [])))
        return Response(self.get_serializer(role).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        role = self.get_object()
        if not policy.can(self.membership, Action.CHANGE, role):
            raise ApiPermissionDenied
        serializer = self.get_serializer(role, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        codes = set(data["permissions"]) if "permissions" in data else set(role.grants.values_list("code", flat=True))
        role = services.update_role(
            self.membership, role, data.get("name", role.name), data.get("description", role.description), codes
        )
        return Response(self.get_serializer(role).data)

    def destroy(self, request, *args, **kwargs):
        role = self.get_object()
        services.delete_role(self.membership, role)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    router.register("end-user-roles", EndUserRoleViewSet, basename="end-user-role")
