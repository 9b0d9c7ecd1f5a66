"""Technician pages for end-user roles (EU-2): list and editor with the permission editor."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.access import policy, services
from portico.access.forms import EndUserRoleForm, PermissionsForm
from portico.access.models import EndUserRole
from portico.access.policy import Action
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.web.forms import add_service_errors

PAGE_SIZE = 25


def _posted(request: HttpRequest):
    """The submitted form, even one whose checkboxes are all cleared (an empty POST is still a POST)."""
    return request.POST if request.method == "POST" else None


def _visible_roles(request: HttpRequest):
    return policy.restrict(EndUserRole.objects.all(), request.membership, Action.VIEW)


@membership_required(MembershipKind.STAFF)
def role_list(request: HttpRequest) -> HttpResponse:
    roles = _visible_roles(request).annotate(holders=Count("assignments")).order_by("-full_access", "name", "id")
    q = request.GET.get("q", "")[:100].replace("\x00", "").strip()
    if q:
        roles = roles.filter(name__icontains=q)
    page = Paginator(roles, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "access/role_list.html",
        {"page": page, "q": q, "can_create": policy.can_create(request.membership, EndUserRole)},
    )


@membership_required(MembershipKind.STAFF)
def role_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = request.membership
    role = get_object_or_404(_visible_roles(request), pk=pk) if pk is not None else None
    if role is None and not policy.can_create(actor, EndUserRole):
        raise PermissionDenied
    can_change = role is None or policy.can(actor, Action.CHANGE, role)
    codes = set(role.grants.values_list("code", flat=True)) if role else set()
    form = EndUserRoleForm(_posted(request), instance=role)
    permissions = PermissionsForm(_posted(request), codes=codes)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid() and permissions.is_valid():
            try:
                if role is None:
                    role = services.create_role(actor, form.cleaned_data["name"], form.cleaned_data["description"], permissions.codes())
                else:
                    role = services.update_role(
                        actor, role, form.cleaned_data["name"], form.cleaned_data["description"], permissions.codes()
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The role %(name)s is saved.") % {"name": role.name})
                return redirect("access:role", pk=role.pk)
    return render(
        request,
        "access/role_edit.html",
        {
            "role": role,
            "form": form,
            "permissions": permissions,
            "can_change": can_change and not (role and role.is_builtin),
            "can_delete": role is not None and policy.can(actor, Action.DELETE, role),
        },
    )


@require_POST
@membership_required(MembershipKind.STAFF)
def role_delete(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(_visible_roles(request), pk=pk)
    services.delete_role(request.membership, role)
    messages.success(request, _("The role %(name)s is deleted.") % {"name": role.name})
    return redirect("access:roles")
