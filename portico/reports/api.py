"""`/api/v1/exports/` and `/api/v1/dashboard/`: the partner portal's CSV exports (CSV-1, CSV-2) and
dashboard figures (DASH-1, DASH-2) as an API.

An export is its requester's alone (the policy's `reports.export` rule): anyone else finds a 404.
It is asked for with the kind and the filters its page would send, validated by the kind itself,
and runs as the same background job, which emails the requester as the page's export does. Its
file is taken from `download_url`, which answers only the requester's own session or token; the
emailed link, whose token only its email holds, stays the browser's way.

The dashboard gives each staff user the figures of what the policy lets them see (GRP-3), for the
period the page offers.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from portico.api.pagination import KeysetPages
from portico.api.viewsets import MAX_ID, PolicyViewSetMixin
from portico.identity.models import MembershipKind
from portico.reports import figures, services
from portico.reports.exports import export_kind
from portico.reports.figures import PERIOD_CHOICES, Period, PeriodForm, Share, StatusCounts
from portico.reports.models import Export, ExportState
from portico.tickets.attachments import private_download

# A filter's name and value as the pages' query strings carry them; beyond these it is no filter.
PARAM_NAME_LIMIT = 64
PARAM_VALUE_LIMIT = 1000
PARAMS_LIMIT = 20


class ExportSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    params = serializers.DictField(read_only=True, help_text="The filters as the kind validated them")
    state = serializers.ChoiceField(choices=ExportState.choices, read_only=True)
    progress = serializers.IntegerField(source="job.progress", read_only=True, help_text="Percent written")
    rows = serializers.IntegerField(source="row_count", read_only=True, allow_null=True)
    filename = serializers.CharField(read_only=True)
    failure = serializers.CharField(read_only=True, help_text="Why it failed, for the requester")
    requested = serializers.DateTimeField(source="created_at", read_only=True)
    expires = serializers.DateTimeField(source="expires_at", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField(
        help_text="Once ready and until it expires: the file, for its requester alone"
    )

    def get_download_url(self, export: Export) -> str | None:
        if export.state != ExportState.READY:
            return None
        path = reverse("api:export-download", args=[export.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ExportRequestSerializer(serializers.Serializer):
    kind = serializers.CharField(
        max_length=64,
        help_text="`organizations`, `accounts`, or a dashboard widget's `dashboard.coverage`, `dashboard.seats`, "
        "`dashboard.organizations`, `dashboard.accounts`",
    )
    params = serializers.DictField(
        required=False, default=dict,
        help_text="The filters as the page's query string has them, e.g. "
        '`{"status": "active", "product_type": "email"}`; a value may be a list for a repeated parameter.',
    )

    def validate_kind(self, value: str) -> str:
        if export_kind(value) is None:
            raise serializers.ValidationError(_("There is no such export."))
        return value

    def validate_params(self, value: dict) -> QueryDict:
        """The object as the query string the page would send, for the kind's own validation."""
        if len(value) > PARAMS_LIMIT:
            raise serializers.ValidationError(_("Send at most %(count)d filters.") % {"count": PARAMS_LIMIT})
        query = QueryDict(mutable=True)
        for name, given in value.items():
            values = given if isinstance(given, list) else [given]
            if len(name) > PARAM_NAME_LIMIT or len(values) > PARAMS_LIMIT or not all(_plain(v) for v in values):
                raise serializers.ValidationError(
                    _("%(name)s: give text, a number or a list of them.") % {"name": name[:PARAM_NAME_LIMIT]}
                )
            query.setlist(name, [str(v) for v in values])
        return query


def _plain(value: object) -> bool:
    """Text or a number, as a query string could carry it (a boolean is neither)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return len(value) <= PARAM_VALUE_LIMIT and "\x00" not in value
    return isinstance(value, int | float)


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "expired"


class NotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_ready"


class ExportPages(KeysetPages):
    page_size = 20


EXPORT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The export's id")


@extend_schema_view(
    list=extend_schema(summary="Your exports, newest first (CSV-1)"),
    retrieve=extend_schema(summary="One of your exports: its state, progress and, once ready, its file", parameters=[EXPORT_ID]),
    create=extend_schema(
        summary="Export a list or a dashboard widget as CSV (CSV-1, CSV-2); you are emailed when it is ready",
        request=ExportRequestSerializer,
        responses={201: ExportSerializer},
    ),
)
class ExportViewSet(PolicyViewSetMixin, viewsets.GenericViewSet):
    """The caller's own exports; nobody else's, whoever may see the same rows (CSV-1)."""

    base_queryset = Export.objects.select_related("job")
    serializer_class = ExportSerializer
    pagination_class = ExportPages  # type: ignore[assignment]
    keyset_ordering = ["-created_at", "-id"]  # the `export_mine_newest` index

    def get_object(self) -> Export:
        pk = int(self.kwargs["pk"])
        if pk > MAX_ID:
            raise Http404
        return get_object_or_404(self.get_queryset(), pk=pk)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        actor = self.membership
        if not services.may_export(actor):
            raise ApiPermissionDenied
        body = ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        kind = export_kind(body.validated_data["kind"])
        assert kind is not None  # validate_kind
        try:
            params = kind.params(actor, body.validated_data["params"])
        except ValidationError as exc:
            raise ApiValidationError({"params": exc.messages}) from exc
        export = services.request_export(actor, kind.key, params)
        return Response(self.get_serializer(self.get_queryset().get(pk=export.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The CSV file, for its requester, until the export expires",
        parameters=[EXPORT_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The file"),
            404: OpenApiResponse(description="No such export of yours"),
            409: OpenApiResponse(description="The file is not written yet, or the export failed"),
            410: OpenApiResponse(description="The export has expired; export again"),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        export = self.get_object()
        if export.expired:
            raise Gone(_("This export has expired and its file is deleted. Please export again."))
        if not export.ready:
            raise NotReady(_("The file is not ready: the export is %(state)s.") % {"state": export.state.label.lower()})
        try:
            handle = export.file.open("rb")
        except OSError:
            raise Http404 from None
        services.record_download(self.membership, export)
        return private_download(
            FileResponse(handle, as_attachment=True, filename=export.filename, content_type="text/csv; charset=utf-8")
        )


# The dashboard (DASH-1, DASH-2)


class PeriodSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=PERIOD_CHOICES, read_only=True)
    label = serializers.CharField(read_only=True)
    first_day = serializers.DateField(read_only=True, allow_null=True, help_text="Null for all time")
    last_day = serializers.DateField(read_only=True, allow_null=True, help_text="Null for all time")


class CoverageSerializer(serializers.Serializer):
    backed_up = serializers.IntegerField(source="part", read_only=True)
    accounts = serializers.IntegerField(source="whole", read_only=True, help_text="Active accounts")
    percent = serializers.IntegerField(read_only=True)


class SeatsSerializer(serializers.Serializer):
    used = serializers.IntegerField(source="part", read_only=True)
    paid = serializers.IntegerField(source="whole", read_only=True)
    percent = serializers.IntegerField(read_only=True, help_text="May pass 100 when more seats are used than paid")


class OrganizationCountsSerializer(serializers.Serializer):
    active = serializers.IntegerField(read_only=True)
    suspended = serializers.IntegerField(read_only=True)
    unsubscribed = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)


class AccountCountsSerializer(serializers.Serializer):
    active = serializers.IntegerField(read_only=True)
    deactivated = serializers.IntegerField(read_only=True)
    deleted = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)


# One object, though the router reaches it as the `list` of its viewset.
@extend_schema_serializer(many=False)
class DashboardSerializer(serializers.Serializer):
    period = PeriodSerializer(read_only=True)
    protection_coverage = CoverageSerializer(read_only=True, help_text="Today")
    seat_usage = SeatsSerializer(read_only=True, help_text="Today, over the active organizations")
    organizations = OrganizationCountsSerializer(read_only=True, help_text="Added in the period, by status")
    accounts = AccountCountsSerializer(read_only=True, help_text="Added in the period, by status")


def _counts(counts: StatusCounts) -> dict[str, int]:
    return {**counts.counts, "total": counts.total}


class DashboardViewSet(viewsets.ViewSet):
    """The partner dashboard's figures; each staff user's are those of what they see (GRP-3)."""

    @extend_schema(
        summary="The dashboard's figures for a period (DASH-1, DASH-2)",
        parameters=[
            OpenApiParameter(
                "period", str, enum=[key for key, _label in PERIOD_CHOICES],
                description="Default: this_month, from the 1st of the month to today",
            )
        ],
        responses={200: DashboardSerializer, 403: OpenApiResponse(description="Not a staff user of a partner")},
    )
    def list(self, request):
        actor = request._request.membership
        if actor.kind != MembershipKind.STAFF:
            raise ApiPermissionDenied(_("The dashboard is for the partner's staff."))
        form = PeriodForm(request.query_params)
        if not form.is_valid():
            raise ApiValidationError({name: list(messages) for name, messages in form.errors.items()})
        period: Period = form.chosen()
        coverage: Share = figures.protection_coverage(actor)
        answer = {
            "period": {
                "key": period.key, "label": period.label, "first_day": period.first_day, "last_day": period.last_day,
            },
            "protection_coverage": coverage,
            "seat_usage": figures.seat_usage(actor),
            "organizations": _counts(figures.organizations_by_status(actor, period)),
            "accounts": _counts(figures.accounts_by_status(actor, period)),
        }
        return Response(DashboardSerializer(answer).data)


def register(router) -> None:
    router.register("exports", ExportViewSet, basename="export")
    router.register("dashboard", DashboardViewSet, basename="dashboard")
