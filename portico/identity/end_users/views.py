"""Technician pages for end users (EU-1 … EU-5): the list and the editor's tabs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.access import policy
from portico.access.catalog import DeviceAction
from portico.access.explain import explain
from portico.access.forms import PermissionsForm
from portico.access.models import EndUserRole, Grant, RoleAssignment
from portico.access.policy import Action
from portico.devices.models import Device
from portico.identity.end_users import services
from portico.identity.end_users.forms import AddDevicesForm, EndUserFilterForm, EndUserForm, RolesForm
from portico.identity.models import Membership, MembershipKind
from portico.identity.views import membership_required
from portico.tenancy.forms import filter_by_organization
from portico.tenancy.models import Organization
from portico.web.forms import add_service_errors
from portico.web.pagination import page_of

PAGE_SIZE = 25
ACCESS_PAGE_SIZE = 20


def _posted(request: HttpRequest):
    """The submitted form, even one whose checkboxes are all cleared (an empty POST is still a POST)."""
    return request.POST if request.method == "POST" else None


def _organizations(request: HttpRequest):
    return policy.restrict(Organization.objects.all(), request.membership, Action.VIEW).order_by("name")


def end_users_in_reach(actor: Membership):
    return policy.restrict(
        Membership.objects.filter(kind=MembershipKind.END_USER).select_related("person", "organization"),
        actor,
        Action.VIEW,
    )


def filtered_end_users(queryset, q: str, organization):
    q = q.strip()
    if q:
        queryset = queryset.filter(
            Q(person__email__icontains=q) | Q(person__first_name__icontains=q) | Q(person__last_name__icontains=q)
        )
    return filter_by_organization(queryset, organization)


def _end_user(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(end_users_in_reach(request.membership), pk=pk)


def _roles_of(end_user: Membership) -> list[EndUserRole]:
    return list(EndUserRole.objects.filter(assignments__membership=end_user).order_by("name"))


def _holds_full_access(end_user: Membership) -> bool:
    return RoleAssignment.objects.filter(membership=end_user, role__full_access=True).exists()


def _tab_context(request: HttpRequest, end_user: Membership, tab: str) -> dict:
    return {
        "end_user": end_user,
        "tab": tab,
        "full_access": _holds_full_access(end_user),
        "can_change": policy.can(request.membership, Action.CHANGE, end_user),
    }


@membership_required(MembershipKind.STAFF)
def end_user_list(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    filters = EndUserFilterForm(request.GET or None, organizations=_organizations(request))
    end_users = end_users_in_reach(actor)
    if filters.is_valid():
        end_users = filtered_end_users(end_users, filters.cleaned_data["q"], filters.cleaned_data["organization"])
    end_users = end_users.order_by("person__last_name", "person__first_name", "id").prefetch_related(
        Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("role"))
    )
    page = page_of(end_users, request.GET.get("page"), PAGE_SIZE)
    manageable = set(
        policy.restrict(Membership.objects.filter(pk__in=[m.pk for m in page]), actor, Action.DISABLE).values_list("pk", flat=True)
    )
    can_create = policy.can_invite(actor, MembershipKind.END_USER, organization=_organizations(request).order_by().first())
    return render(
        request,
        "identity/end_users/list.html",
        {"page": page, "filters": filters, "manageable": manageable, "can_create": can_create},
    )


@membership_required(MembershipKind.STAFF)
def end_user_general(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = request.membership
    end_user = _end_user(request, pk) if pk is not None else None
    some_organization = _organizations(request).order_by().first()
    initial = {"language": actor.partner.default_language}
    if end_user is not None:
        person = end_user.person
        initial = {
            "enabled": end_user.enabled,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "phone": person.phone,
            "organization": end_user.organization_id,
            "all_organizations": end_user.all_organizations,
            "language": person.language,
            "security_type": end_user.security_type,
        }
    elif not policy.can_invite(actor, MembershipKind.END_USER, organization=some_organization):
        raise PermissionDenied
    form = EndUserForm(
        _posted(request), initial=initial, organizations=_organizations(request), editing=end_user is not None,
        may_give_all_organizations=policy.can_invite(
            actor, MembershipKind.END_USER, organization=some_organization, all_organizations=True
        ),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        details = services.EndUserDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            phone=data["phone"],
            language=data["language"],
            organization=data["organization"],
            all_organizations=data.get("all_organizations", False),
            security_type=data["security_type"],
            enabled=data["enabled"],
            email=data["email"],
        )
        try:
            if end_user is None:
                end_user = services.create_end_user(actor, details)
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": end_user.person.email})
            else:
                services.update_end_user(actor, end_user, details)
                messages.success(request, _("Saved."))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("end_users:edit", pk=end_user.pk)
    context = _tab_context(request, end_user, "general") if end_user else {"tab": "general", "can_change": True}
    return render(request, "identity/end_users/general.html", {**context, "form": form})



@membership_required(MembershipKind.STAFF)
def end_user_roles(request: HttpRequest, pk: int) -> HttpResponse:
    end_user = _end_user(request, pk)
    roles = policy.restrict(EndUserRole.objects.all(), request.membership, Action.VIEW).order_by("-full_access", "name")
    form = RolesForm(_posted(request), roles=roles, initial={"roles": _roles_of(end_user)})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_end_user_roles(request.membership, end_user, list(form.cleaned_data["roles"]))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Roles saved."))
            return redirect("end_users:roles", pk=pk)
    return render(request, "identity/end_users/roles.html", {**_tab_context(request, end_user, "roles"), "form": form})


@membership_required(MembershipKind.STAFF)
def end_user_permissions(request: HttpRequest, pk: int) -> HttpResponse:
    end_user = _end_user(request, pk)
    if _holds_full_access(end_user):
        # EU-2: nothing can be added to Full Portal Access.
        return redirect("end_users:roles", pk=pk)
    codes = set(Grant.objects.filter(membership=end_user).values_list("code", flat=True))
    form = PermissionsForm(_posted(request), codes=codes)
    if request.method == "POST" and form.is_valid():
        services.set_direct_permissions(request.membership, end_user, form.codes())
        messages.success(request, _("Permissions saved."))
        return redirect("end_users:permissions", pk=pk)
    return render(
        request, "identity/end_users/permissions.html", {**_tab_context(request, end_user, "permissions"), "form": form}
    )


def _assignable(request: HttpRequest, end_user: Membership):
    """EU-4: devices in the technician's reach and within the user's organization access."""
    devices = policy.assignable_devices(request.membership, end_user, Device.objects.select_related("organization"))
    return devices.exclude(assignments__membership=end_user).order_by("name", "id")


@membership_required(MembershipKind.STAFF)
def end_user_devices(request: HttpRequest, pk: int) -> HttpResponse:
    end_user = _end_user(request, pk)
    # Each cell of the access table is explained on its own, so the table pages like a list.
    assigned = page_of(
        policy.restrict(Device.objects.select_related("organization"), request.membership, Action.VIEW)
        .filter(assignments__membership=end_user)
        .order_by("name", "id"),
        request.GET.get("page"),
        ACCESS_PAGE_SIZE,
    )
    q = request.GET.get("q", "")[:100].replace("\x00", "")
    candidates = _assignable(request, end_user)
    if q.strip():
        candidates = candidates.filter(name__icontains=q.strip())
    if request.method != "POST":
        # Offer the first page of matches; a POST validates against every assignable device.
        candidates = candidates.filter(pk__in=list(candidates.values_list("pk", flat=True)[:50]))
    form = AddDevicesForm(_posted(request), devices=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            services.assign_devices(request.membership, end_user, list(form.cleaned_data["devices"]))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Devices assigned."))
            return redirect("end_users:devices", pk=pk)
    actions = [DeviceAction(a) for a in DeviceAction.values]
    access = [(device, [explain(end_user, action, device) for action in actions]) for device in assigned]
    return render(
        request,
        "identity/end_users/devices.html",
        {
            **_tab_context(request, end_user, "devices"),
            "form": form, "access": access, "actions": actions, "q": q, "page": assigned,
        },
    )


@require_POST
@membership_required(MembershipKind.STAFF)
def end_user_unassign(request: HttpRequest, pk: int, device_pk: int) -> HttpResponse:
    end_user = _end_user(request, pk)
    device = get_object_or_404(policy.restrict(Device.objects.all(), request.membership, Action.VIEW), pk=device_pk)
    services.unassign_device(request.membership, end_user, device)
    messages.success(request, _("%(name)s is no longer assigned.") % {"name": device.name})
    return redirect("end_users:devices", pk=pk)
