"""`/api/v1/devices/`: the devices the caller may see, changed through the same services as the pages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response

from portico.access import policy
from portico.access.policy import Action
from portico.api.viewsets import PolicyViewSetMixin, caller, id_param
from portico.devices import services
from portico.devices.models import Device
from portico.devices.views import filtered_devices
from portico.tenancy.models import Organization


class DeviceSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none())

    class Meta:
        model = Device
        fields = [
            "id", "organization", "name", "os_family", "os_version", "last_user", "ip_address",
            "last_seen_at", "online", "backup_enabled",
        ]
        read_only_fields = ["id", "last_seen_at", "online", "backup_enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        membership = caller(self.context)
        # Only organizations in reach can be named; any other id is "does not exist".
        self.fields["organization"].queryset = policy.restrict(Organization.objects.all(), membership, Action.VIEW)



@extend_schema_view(
    list=extend_schema(
        summary="Devices in reach",
        parameters=[
            OpenApiParameter("organization", int, description="Only devices of this organization"),
            OpenApiParameter("os_family", str, enum=["windows", "mac", "linux"]),
            OpenApiParameter("online", bool),
            OpenApiParameter("search", str, description="Part of the name, last user or IP address"),
        ],
    ),
)
class DeviceViewSet(PolicyViewSetMixin, viewsets.ModelViewSet):
    base_queryset = Device.objects.all()
    serializer_class = DeviceSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        params = self.request.query_params
        online = {"true": "1", "false": "0", "1": "1", "0": "0"}.get(params.get("online", "").lower(), "")
        return filtered_devices(
            queryset,
            {
                "q": params.get("search", "")[:200],
                "organization": id_param(params, "organization"),
                "os_family": params.get("os_family", "")[:16],
                "online": online,
            },
        )

    def _details(self, serializer, instance=None) -> services.DeviceDetails:
        data = {name: serializer.validated_data.get(name, getattr(instance, name, None)) for name in (
            "organization", "name", "os_family", "os_version", "last_user", "ip_address")}
        data["os_version"] = data["os_version"] or ""
        data["last_user"] = data["last_user"] or ""
        return services.DeviceDetails(**data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device = services.create_device(self.membership, self._details(serializer))
        return Response(self.get_serializer(device).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        device = self.get_object()
        if not policy.can(self.membership, Action.CHANGE, device):
            raise ApiPermissionDenied
        serializer = self.get_serializer(device, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        device = services.update_device(self.membership, device, self._details(serializer, device))
        return Response(self.get_serializer(device).data)

    def destroy(self, request, *args, **kwargs):
        device = self.get_object()
        services.delete_device(self.membership, device)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    router.register("devices", DeviceViewSet, basename="device")
