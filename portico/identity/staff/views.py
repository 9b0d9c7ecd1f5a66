"""Technician pages for the partner's staff users (PU-1 … PU-3, PU-6, ID-10)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.access import policy
from portico.access.policy import Action
from portico.access.roles import StaffRole
from portico.identity.models import Membership, MembershipKind
from portico.identity.staff import services
from portico.identity.staff.forms import StaffFilterForm, StaffForm
from portico.identity.views import membership_required
from portico.tenancy.models import Group
from portico.web.forms import add_service_errors
from portico.web.pagination import page_of

PAGE_SIZE = 25


def staff_in_reach(actor: Membership):
    return policy.restrict(
        Membership.objects.filter(kind=MembershipKind.STAFF).select_related("person"), actor, Action.VIEW
    )


def filtered_staff(queryset, q: str, role: str):
    q = q.strip()
    if q:
        queryset = queryset.filter(
            Q(person__email__icontains=q) | Q(person__first_name__icontains=q) | Q(person__last_name__icontains=q)
        )
    if role:
        queryset = queryset.filter(staff_role=role)
    return queryset



@membership_required(MembershipKind.STAFF)
def staff_list(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    filters = StaffFilterForm(request.GET or None)
    staff = staff_in_reach(actor)
    if filters.is_valid():
        staff = filtered_staff(staff, filters.cleaned_data["q"], filters.cleaned_data["role"])
    staff = staff.order_by("person__last_name", "person__first_name", "id").prefetch_related(
        Prefetch("managed_groups", queryset=Group.objects.only("id", "name"))
    )
    page = page_of(staff, request.GET.get("page"), PAGE_SIZE)
    manageable = set(
        policy.restrict(Membership.objects.filter(pk__in=[m.pk for m in page]), actor, Action.CHANGE).values_list("pk", flat=True)
    )
    return render(
        request,
        "identity/staff/list.html",
        {"page": page, "filters": filters, "manageable": manageable, "can_create": bool(policy.invitable_staff_roles(actor))},
    )


@membership_required(MembershipKind.STAFF)
def staff_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = request.membership
    member = get_object_or_404(staff_in_reach(actor), pk=pk) if pk is not None else None
    roles = policy.invitable_staff_roles(actor)
    if member is None:
        can_change = bool(roles)
    else:
        can_change = member.pk != actor.pk and policy.can(actor, Action.CHANGE, member)
    if member is None and not can_change:
        raise PermissionDenied
    initial = {}
    if member is not None:
        initial = {
            "first_name": member.person.first_name, "last_name": member.person.last_name,
            "email": member.person.email, "staff_role": member.staff_role,
        }
        if not can_change:
            roles = [member.staff_role]
    form = StaffForm(request.POST or None, initial=initial, roles=roles, editing=member is not None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            details = services.StaffDetails(
                first_name=data["first_name"], last_name=data["last_name"], staff_role=data["staff_role"],
                email=data["email"], password=data.get("password", ""), language=actor.partner.default_language,
            )
            try:
                if member is None:
                    member = services.create_staff_user(actor, details)
                    messages.success(request, _("Invitation sent to %(email)s.") % {"email": member.person.email})
                else:
                    services.update_staff_user(actor, member, details)
                    messages.success(request, _("Saved."))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("staff:edit", pk=member.pk)
    return render(
        request,
        "identity/staff/edit.html",
        {
            "member": member,
            "form": form,
            "can_change": can_change,
            "can_delete": member is not None and member.pk != actor.pk and policy.can(actor, Action.DELETE, member),
            "is_owner": member is not None and member.staff_role == StaffRole.OWNER,
        },
    )


@require_POST
@membership_required(MembershipKind.STAFF)
def staff_sso(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(staff_in_reach(request.membership), pk=pk)
    try:
        services.set_sso(request.membership, member, request.POST.get("enabled") == "1")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(email)s signs in with a password and a second factor.") % {"email": member.person.email})
    return redirect("staff:list")


@require_POST
@membership_required(MembershipKind.STAFF)
def staff_delete(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(staff_in_reach(request.membership), pk=pk)
    services.delete_staff_user(request.membership, member)
    messages.success(request, _("%(email)s is no longer a staff user.") % {"email": member.person.email})
    return redirect("staff:list")
