"""`/api/v1/end-users/`: end users in reach, their roles, permissions, devices and access table."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from portico.access import catalog, policy
from portico.access.catalog import DeviceAction
from portico.access.explain import explain
from portico.access.models import EndUserRole, Grant, RoleAssignment
from portico.access.policy import Action
from portico.api.viewsets import ById, PolicyViewSetMixin, caller, id_param
from portico.devices.models import Device
from portico.identity.api_actions import MembershipSwitchesMixin
from portico.identity.end_users import services
from portico.identity.end_users.views import end_users_in_reach, filtered_end_users
from portico.identity.models import Membership, SecurityType
from portico.tenancy.models import Organization


class EndUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(source="person.email", max_length=254)
    first_name = serializers.CharField(source="person.first_name", max_length=100)
    last_name = serializers.CharField(source="person.last_name", max_length=100)
    phone = serializers.RegexField(r"^\+[1-9][0-9]{6,14}$", source="person.phone", max_length=16, required=False, allow_blank=True)
    language = serializers.ChoiceField(source="person.language", choices=settings.LANGUAGES, required=False)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        help_text="The organization the end user belongs to; their tickets are always of it (TK-2, EU-5)",
    )
    all_organizations = serializers.BooleanField(
        required=False, default=False,
        help_text="Devices of every organization of the partner may be assigned; connections and restores only (EU-1, EU-4)",
    )
    enabled = serializers.BooleanField(required=False, default=True)
    security_type = serializers.ChoiceField(choices=SecurityType.choices, required=False, default=SecurityType.NATIVE)
    roles = serializers.PrimaryKeyRelatedField(many=True, queryset=EndUserRole.objects.none(), required=False)
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(catalog.ALL_CODES)), required=False, max_length=50,
        help_text="Direct permissions, on top of the roles (EU-3)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        membership = caller(self.context)
        self.fields["organization"].queryset = policy.restrict(Organization.objects.all(), membership, Action.VIEW)
        self.fields["roles"].child_relation.queryset = policy.restrict(EndUserRole.objects.all(), membership, Action.VIEW)

    def to_representation(self, instance: Membership) -> dict:
        data = super().to_representation(instance)
        data["roles"] = [a.role_id for a in instance.role_assignments.all()]
        data["permissions"] = sorted(g.code for g in instance.direct_grants.all())
        return data


class DeviceIdsSerializer(serializers.Serializer):
    devices = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)


ReasonSerializer = inline_serializer(
    "Reason", {"kind": serializers.CharField(), "text": serializers.CharField(), "grants": serializers.BooleanField()},
    many=True,
)
AccessRowSerializer = inline_serializer(
    "DeviceAccess",
    many=True,
    fields={
        "device": serializers.IntegerField(),
        "name": serializers.CharField(),
        "actions": serializers.DictField(
            child=inline_serializer("Answer", {"allowed": serializers.BooleanField(), "reasons": ReasonSerializer})
        ),
    },
)


AccessPageSerializer = inline_serializer(
    "DeviceAccessPage",
    {
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": AccessRowSerializer,
    },
)


class AccessPages(ById):
    """Each cell of the access table is explained on its own, so the table pages like a list."""

    page_size = 20
    max_page_size = 50


@extend_schema_view(
    list=extend_schema(
        summary="End users in reach",
        parameters=[
            OpenApiParameter("organization", int, description="Only end users of this organization"),
            OpenApiParameter("search", str, description="Part of the name or email"),
        ],
    ),
    create=extend_schema(summary="Create an end user and send the invitation (EU-1)"),
)
class EndUserViewSet(MembershipSwitchesMixin, PolicyViewSetMixin, viewsets.GenericViewSet):
    base_queryset = Membership.objects.none()
    serializer_class = EndUserSerializer

    def get_queryset(self):
        queryset = end_users_in_reach(self.membership).prefetch_related(
            Prefetch("role_assignments", queryset=RoleAssignment.objects.only("id", "role_id", "membership_id")),
            Prefetch("direct_grants", queryset=Grant.objects.only("id", "code", "membership_id")),
        )
        if self.action == "list":
            params = self.request.query_params
            queryset = filtered_end_users(queryset, params.get("search", "")[:100], id_param(params, "organization"))
        return queryset

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def _details(self, data: dict, email: str = "") -> services.EndUserDetails:
        person = data.get("person", {})
        return services.EndUserDetails(
            first_name=person.get("first_name", ""),
            last_name=person.get("last_name", ""),
            phone=person.get("phone", ""),
            language=person.get("language", self.membership.partner.default_language),
            organization=data["organization"],
            all_organizations=data.get("all_organizations", False),
            security_type=data.get("security_type", SecurityType.NATIVE),
            enabled=data.get("enabled", True),
            email=email or person.get("email", ""),
        )

    def _set_access(self, end_user: Membership, data: dict) -> None:
        if "roles" in data:
            services.set_end_user_roles(self.membership, end_user, list(data["roles"]))
        if "permissions" in data:
            services.set_direct_permissions(self.membership, end_user, set(data["permissions"]))

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():  # all of it or nothing
            end_user = services.create_end_user(self.membership, self._details(serializer.validated_data))
            self._set_access(end_user, serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=end_user.pk)).data, status=status.HTTP_201_CREATED)

    def _update(self, request, partial: bool):
        end_user = self.get_object()
        if not policy.can(self.membership, Action.CHANGE, end_user):
            raise ApiPermissionDenied
        serializer = self.get_serializer(end_user, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("person", {}).get("email", end_user.person.email).lower() != end_user.person.email:
            raise ApiValidationError({"email": [_("The email address is the person's sign-in and is not changed here.")]})
        current = {
            "person": {
                "first_name": end_user.person.first_name, "last_name": end_user.person.last_name,
                "phone": end_user.person.phone, "language": end_user.person.language,
            },
            "organization": end_user.organization,
            "all_organizations": end_user.all_organizations,
            "security_type": end_user.security_type,
            "enabled": end_user.enabled,
        }
        current["person"].update(data.get("person", {}))
        for key in ("organization", "all_organizations", "security_type", "enabled"):
            if key in data:
                current[key] = data[key]
        with transaction.atomic():
            services.update_end_user(self.membership, end_user, self._details(current, end_user.person.email))
            self._set_access(end_user, data)
        return Response(self.get_serializer(self.get_queryset().get(pk=end_user.pk)).data)

    def update(self, request, pk=None):
        return self._update(request, partial=False)

    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)


    @extend_schema(
        methods=["GET"], responses=DeviceIdsSerializer, summary="Devices assigned to the end user (EU-4)"
    )
    @extend_schema(
        methods=["PUT"], request=DeviceIdsSerializer, responses=DeviceIdsSerializer,
        summary="Replace the devices assigned to the end user (EU-4)",
    )
    @action(detail=True, methods=["get", "put"])
    def devices(self, request, pk=None):
        end_user = self.get_object()
        visible = policy.restrict(Device.objects.all(), self.membership, Action.VIEW)
        if request.method == "PUT":
            body = DeviceIdsSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            wanted_ids = set(body.validated_data["devices"])
            wanted = list(visible.filter(pk__in=wanted_ids))
            if len(wanted) != len(wanted_ids):
                raise ApiValidationError({"devices": [_("Some devices do not exist.")]})
            with transaction.atomic():  # all of it or nothing
                current = list(visible.filter(assignments__membership=end_user))
                services.assign_devices(self.membership, end_user, [d for d in wanted if d not in current])
                for device in current:
                    if device.pk not in wanted_ids:
                        services.unassign_device(self.membership, end_user, device)
        ids = sorted(visible.filter(assignments__membership=end_user).values_list("pk", flat=True))
        return Response({"devices": ids})

    @extend_schema(
        responses=AccessPageSerializer,
        parameters=[
            OpenApiParameter("cursor", str, description="The pagination cursor value."),
            OpenApiParameter("page_size", int, description="Devices per page (at most 50)."),
        ],
        summary="Why the end user may or may not use each assigned device, a page of devices at a time",
    )
    @action(detail=True, methods=["get"], pagination_class=AccessPages)
    def access(self, request, pk=None):
        end_user = self.get_object()
        devices = self.paginate_queryset(
            policy.restrict(Device.objects.select_related("organization"), self.membership, Action.VIEW).filter(
                assignments__membership=end_user
            )
        )
        rows = []
        for device in devices:
            answers = {}
            for device_action in DeviceAction.values:
                why = explain(end_user, device_action, device)
                answers[device_action] = {
                    "allowed": why.allowed,
                    "reasons": [{"kind": r.kind, "text": r.text, "grants": r.grants} for r in why.reasons],
                }
            rows.append({"device": device.pk, "name": device.name, "actions": answers})
        return self.get_paginated_response(rows)


def register(router) -> None:
    router.register("end-users", EndUserViewSet, basename="end-user")
