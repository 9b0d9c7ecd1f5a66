"""`/api/v1/organizations/`, `/api/v1/plans/` and `/api/v1/accounts/`: the partner portal's SaaS
backup pages as an API (ORG-1 … ORG-9, ACC-1 … ACC-3, GRP-3).

Lists read the very rows the pages and their CSV exports read (`portico.saas.filters`), validated by
the pages' own filter forms, except that a filter value the page would show as an error and leave
out is a 400 here. What a caller sees is what the one policy lets them see; anything else is a 404.
A visible organization the caller may not act on (Finance or Support sending a reset password, a
deleted organization) is a 403. Changes go through `portico.saas.services`. No list counts its rows.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from portico.access import policy
from portico.access.policy import Action
from portico.api.pagination import KeysetPages
from portico.api.viewsets import MAX_ID, PolicyViewSetMixin
from portico.saas import services
from portico.saas.filters import (
    AccountFilterForm,
    OrganizationFilterForm,
    account_status_worst,
    accounts_for,
    seats_used,
    storage_used,
    subscriptions_for,
)
from portico.saas.models import (
    Account,
    AccountSection,
    AccountStatus,
    CredentialStatus,
    EmailKind,
    Plan,
    PlanType,
    ProductType,
    Section,
    Subscription,
    SubscriptionStatus,
)
from portico.saas.serializers import (
    AccountDetailSerializer,
    AccountSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
    PlanSerializer,
    ResetPasswordSentSerializer,
)
from portico.tenancy.models import Organization
from portico.web.pagination import MAX_PAGE, page_of


def _checked(form) -> dict:
    """The form's filters, or a 400 naming each field whose value does not fit."""
    if not form.is_valid():
        raise ApiValidationError({name: list(messages) for name, messages in form.errors.items()})
    return form.filters()


def _object_id(viewset) -> int:
    """The id in the URL; the route takes any digits, the database does not compare past 64 bits."""
    pk = int(viewset.kwargs["pk"])
    if pk > MAX_ID:
        raise Http404
    return pk


class OrganizationPages(KeysetPages):
    """ORG-5's pages by number, in the page's order (by name), without a count: a page's rows and
    one more tell whether there is a next page (`portico.web.pagination`). A partner has some
    thousands of organizations at most, so an offset stays cheap where a name keyset could not
    follow the organization's name across the join."""

    page_size = 20

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        raw = request.query_params.get("page", "1")
        if not (raw.isascii() and raw.isdigit() and len(raw) < 6 and 1 <= int(raw) <= MAX_PAGE):
            raise ApiValidationError({"page": [_("Enter a page number from 1 to %(last)d.") % {"last": MAX_PAGE}]})
        self.page = page_of(queryset, int(raw), self._size(request))
        return self.page.object_list

    def _page_link(self, number: int) -> str:
        url = self.request.build_absolute_uri()
        return remove_query_param(url, "page") if number == 1 else replace_query_param(url, "page", number)

    def get_paginated_response(self, data):
        page = self.page
        return Response({
            "next": self._page_link(page.next_page_number()) if page.has_next else None,
            "previous": self._page_link(page.previous_page_number()) if page.has_previous else None,
            "results": data,
        })

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page", "required": False, "in": "query",
                "description": f"The page number, from 1 to {MAX_PAGE}.", "schema": {"type": "integer"},
            },
            {
                "name": "page_size", "required": False, "in": "query",
                "description": f"Results per page (at most {self.max_page_size}).", "schema": {"type": "integer"},
            },
        ]


class AccountPages(KeysetPages):
    page_size = 25


def _in_reach(actor) -> QuerySet[Subscription]:
    """The subscriptions `actor` sees, with their usage, as a row of the list reads them."""
    return (
        policy.restrict(Subscription.objects.select_related("organization", "plan", "admin__person"), actor, Action.VIEW)
        .annotate(seats_used=seats_used(), storage_used=storage_used())
    )


ORGANIZATION_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The organization's id")
ORGANIZATION_FILTERS = [
    OpenApiParameter(
        "status", str, enum=SubscriptionStatus.values, description="The status tab (ORG-1). Default: active."
    ),
    OpenApiParameter("q", str, description="Part of the name, or the id (ORG-2); at most 200 characters."),
    OpenApiParameter("plan_type", str, enum=PlanType.values, description="ORG-3. Default: every plan type."),
    OpenApiParameter(
        "credential_status", str, enum=[CredentialStatus.NEED_AUTHENTICATION],
        description="ORG-3: only those whose credentials need authentication.",
    ),
    OpenApiParameter("added_from", OpenApiTypes.DATE, description="Subscribed on or after this day"),
    OpenApiParameter("added_to", OpenApiTypes.DATE, description="Subscribed on or before this day"),
]


@extend_schema_view(
    list=extend_schema(
        summary="Organizations with their subscription, as the organizations page filters them (ORG-1 … ORG-5)",
        parameters=ORGANIZATION_FILTERS,
        responses=OrganizationSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One organization with its subscription; a deleted one too, as the list shows it",
        parameters=[ORGANIZATION_ID],
        responses=OrganizationSerializer,
    ),
    create=extend_schema(
        summary="A new organization with its subscription; its contact is invited as its admin (ORG-9)",
        request=OrganizationCreateSerializer,
        responses={201: OrganizationSerializer},
    ),
)
class OrganizationViewSet(PolicyViewSetMixin, viewsets.GenericViewSet):
    """The organizations of the partner that the caller sees (GRP-3), each with its subscription.

    A deleted organization is in the `status=deleted` list and can be retrieved with the same
    fields: the API holds no more about an organization than its list row, so nothing of ORG-8's
    details page (login accounts, credentials, journaling), which is not viewable for deleted
    organizations, is exposed through it.
    """

    base_queryset = Subscription.objects.all()
    serializer_class = OrganizationSerializer
    pagination_class = OrganizationPages  # type: ignore[assignment]

    def list(self, request):
        filters = _checked(OrganizationFilterForm(request.query_params))
        page = self.paginate_queryset(subscriptions_for(self.membership, filters))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self) -> Subscription:
        return get_object_or_404(_in_reach(self.membership), pk=_object_id(self))

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        actor = self.membership
        if not policy.can_create(actor, Subscription):
            raise ApiPermissionDenied
        body = OrganizationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        plan = policy.restrict(Plan.objects.filter(pk=data["plan"]), actor, Action.VIEW).first()
        if plan is None:
            raise ApiValidationError({"plan": [_("Choose one of your plans.")]})
        subscription = services.create_organization(
            actor,
            plan=plan,
            name=data["name"],
            contact_email=data["contact_email"],
            contact_first_name=data["contact_first_name"],
            contact_last_name=data["contact_last_name"],
            paid_seats=data["paid_seats"],
            storage_quota_gib=data["storage_quota_gib"],
            country=data["country"].upper() or None,  # PS-2: the partner's country when left out
        )
        created = get_object_or_404(_in_reach(actor), pk=subscription.pk)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send the organization's admin, its contact, a link to choose a new password (ORG-8, ID-7)",
        parameters=[ORGANIZATION_ID],
        request=None,
        responses={
            202: ResetPasswordSentSerializer,
            403: OpenApiResponse(description="Not for your role, or the organization is deleted or has no admin"),
            404: OpenApiResponse(description="No such organization in reach"),
        },
    )
    @action(detail=True, methods=["post"], url_path="send-reset-password", url_name="send-reset-password")
    def send_reset_password(self, request, pk=None):
        subscription = self.get_object()
        services.send_reset_password(self.membership, subscription)
        return Response(
            ResetPasswordSentSerializer({"sent_to": subscription.admin.person.email}).data, status=status.HTTP_202_ACCEPTED
        )


@extend_schema_view(
    list=extend_schema(summary="The partner's plans, to subscribe new organizations to (ORG-9)"),
    retrieve=extend_schema(
        summary="One plan", parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The plan's id")]
    ),
)
class PlanViewSet(PolicyViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """What the partner sells; staff of the partner see every plan of it."""

    base_queryset = Plan.objects.all()
    serializer_class = PlanSerializer

    def get_object(self) -> Plan:
        return get_object_or_404(self.get_queryset(), pk=_object_id(self))


ACCOUNT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The account's id")
PRODUCT_TYPE_FILTERS = [ProductType.EMAIL.value] + [f"email:{kind}" for kind in EmailKind.values] + [
    value for value in ProductType.values if value != ProductType.EMAIL
]
ACCOUNT_FILTERS = [
    OpenApiParameter(
        "organization", str,
        description="An organization's id (ACC-1). Past 200 organizations in reach, part of a name is accepted too.",
    ),
    OpenApiParameter(
        "product_type", str, enum=PRODUCT_TYPE_FILTERS, description="A product type, or `email:<kind>` for one email kind"
    ),
    OpenApiParameter("status", str, enum=AccountStatus.values),
    OpenApiParameter("q", str, description="Part of the email, account id or organization name; at most 200 characters."),
    OpenApiParameter("added_from", OpenApiTypes.DATE, description="Added on or after this day"),
    OpenApiParameter("added_to", OpenApiTypes.DATE, description="Added on or before this day"),
]


@extend_schema_view(
    list=extend_schema(
        summary="Backed-up accounts, newest first, as the accounts page filters them (ACC-1, ACC-2)",
        parameters=ACCOUNT_FILTERS,
        responses=AccountSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One account with its sections (ACC-3)", parameters=[ACCOUNT_ID], responses=AccountDetailSerializer
    ),
)
class AccountViewSet(PolicyViewSetMixin, viewsets.GenericViewSet):
    """The accounts of the organizations the caller sees (GRP-3); every staff role reads them."""

    base_queryset = Account.objects.all()
    serializer_class = AccountSerializer
    pagination_class = AccountPages  # type: ignore[assignment]
    keyset_ordering = ["-id"]  # newest first, as the page: the `account_page` index serves it filtered

    def list(self, request):
        actor = self.membership
        organizations = policy.restrict(Organization.objects.all(), actor, Action.VIEW).order_by("name", "pk")
        filters = _checked(AccountFilterForm(request.query_params, organizations=organizations))
        accounts = accounts_for(actor, filters).annotate(backup_status=account_status_worst())
        page = self.paginate_queryset(accounts)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        actor = self.membership
        account = get_object_or_404(
            self.get_queryset().select_related("organization").annotate(backup_status=account_status_worst()),
            pk=_object_id(self),
        )
        order = {value: rank for rank, value in enumerate(Section.values)}
        account.shown_sections = sorted(
            policy.restrict(AccountSection.objects.filter(account=account), actor, Action.VIEW),
            key=lambda section: order[section.section],
        )
        return Response(AccountDetailSerializer(account, context=self.get_serializer_context()).data)


def register(router) -> None:
    router.register("organizations", OrganizationViewSet, basename="organization")
    router.register("plans", PlanViewSet, basename="plan")
    router.register("accounts", AccountViewSet, basename="account")
