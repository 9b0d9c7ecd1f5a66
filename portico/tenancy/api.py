"""`/api/v1/groups/`: organization-level access control (GRP-1 … GRP-3)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response

from portico.access import policy
from portico.access.policy import Action
from portico.api.viewsets import PolicyViewSetMixin, caller
from portico.identity.models import Membership
from portico.tenancy import services
from portico.tenancy.models import Group, Organization


class GroupSerializer(serializers.ModelSerializer):
    organizations = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Organization.objects.none(), required=False, help_text="Access scope; empty means all organizations"
    )
    managers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Membership.objects.none(), required=False, help_text="Admin and Support staff users only (GRP-2)"
    )

    class Meta:
        model = Group
        fields = ["id", "name", "description", "organizations", "managers"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        membership = caller(self.context)
        partner_id = membership.partner_id if membership else None
        self.fields["organizations"].child_relation.queryset = Organization.objects.filter(partner_id=partner_id)
        self.fields["managers"].child_relation.queryset = Membership.objects.filter(partner_id=partner_id, kind="staff")


@extend_schema_view(list=extend_schema(summary="Groups of the partner"))
class GroupViewSet(PolicyViewSetMixin, viewsets.ModelViewSet):
    base_queryset = Group.objects.prefetch_related("organizations", "managers")
    serializer_class = GroupSerializer

    def _args(self, data: dict, group: Group | None = None) -> tuple:
        return (
            data.get("name", group.name if group else ""),
            data.get("description", group.description if group else ""),
            list(data["organizations"]) if "organizations" in data else list(group.organizations.all()) if group else [],
            list(data["managers"]) if "managers" in data else list(group.managers.all()) if group else [],
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group = services.create_group(self.membership, *self._args(serializer.validated_data))
        return Response(self.get_serializer(group).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        group = self.get_object()
        if not policy.can(self.membership, Action.CHANGE, group):
            raise ApiPermissionDenied
        serializer = self.get_serializer(group, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        group = services.update_group(self.membership, group, *self._args(serializer.validated_data, group))
        return Response(self.get_serializer(Group.objects.get(pk=group.pk)).data)

    def destroy(self, request, *args, **kwargs):
        group = self.get_object()
        services.delete_group(self.membership, group)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    router.register("groups", GroupViewSet, basename="group")
