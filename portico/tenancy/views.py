"""Partner settings (PS-1: Owner and Super Admin only) and groups (GRP-1 … GRP-3)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.access import policy
from portico.access.policy import SCOPED_ROLES, Action
from portico.identity.models import Membership, MembershipKind
from portico.identity.views import membership_required
from portico.tenancy import services
from portico.tenancy.forms import GroupForm, PartnerSettingsForm
from portico.tenancy.models import Group, Organization
from portico.web.forms import add_service_errors


@membership_required(MembershipKind.STAFF)
def partner_settings(request: HttpRequest) -> HttpResponse:
    partner = request.membership.partner
    if not policy.can(request.membership, Action.CHANGE, partner):
        raise Http404
    form = PartnerSettingsForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        services.update_partner_settings(
            request.membership, partner, **{f: form.cleaned_data[f] for f in form.changed_data}
        )
        messages.success(request, _("Settings saved."))
        return redirect("tenancy:settings")
    return render(request, "tenancy/settings.html", {"form": form})


PAGE_SIZE = 25


def groups_in_reach(actor: Membership):
    return policy.restrict(Group.objects.all(), actor, Action.VIEW).prefetch_related(
        Prefetch("organizations", queryset=Organization.objects.only("id", "name")),
        Prefetch("managers", queryset=Membership.objects.select_related("person")),
    )


@membership_required(MembershipKind.STAFF)
def group_list(request: HttpRequest) -> HttpResponse:
    groups = groups_in_reach(request.membership).order_by("name", "id")
    q = request.GET.get("q", "")[:100].replace("\x00", "").strip()
    if q:
        groups = groups.filter(name__icontains=q)
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tenancy/groups/list.html",
        {"page": page, "q": q, "can_create": policy.can_create(request.membership, Group)},
    )


@membership_required(MembershipKind.STAFF)
def group_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = request.membership
    group = get_object_or_404(groups_in_reach(actor), pk=pk) if pk is not None else None
    can_change = policy.can(actor, Action.CHANGE, group) if group else policy.can_create(actor, Group)
    if group is None and not can_change:
        raise PermissionDenied
    initial = {}
    if group is not None:
        initial = {
            "name": group.name, "description": group.description,
            "organizations": list(group.organizations.all()), "managers": list(group.managers.all()),
        }
    form = GroupForm(
        request.POST or None,
        initial=initial,
        organizations=Organization.objects.filter(partner_id=actor.partner_id).order_by("name"),
        managers=Membership.objects.filter(
            partner_id=actor.partner_id, kind=MembershipKind.STAFF, staff_role__in=SCOPED_ROLES
        ).select_related("person").order_by("person__last_name", "person__first_name"),
    )
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            args = (data["name"], data["description"], list(data["organizations"]), list(data["managers"]))
            try:
                group = services.create_group(actor, *args) if group is None else services.update_group(actor, group, *args)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The group %(name)s is saved.") % {"name": group.name})
                return redirect("tenancy:group", pk=group.pk)
    return render(
        request,
        "tenancy/groups/edit.html",
        {"group": group, "form": form, "can_change": can_change, "can_delete": group is not None and policy.can(actor, Action.DELETE, group)},
    )


@require_POST
@membership_required(MembershipKind.STAFF)
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(groups_in_reach(request.membership), pk=pk)
    services.delete_group(request.membership, group)
    messages.success(request, _("The group %(name)s is deleted.") % {"name": group.name})
    return redirect("tenancy:groups")
