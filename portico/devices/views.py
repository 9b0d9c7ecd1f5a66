"""Technician pages for devices (DEV-2): list, detail, create, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.access import policy
from portico.access.catalog import CONNECTION_ACTIONS, DeviceAction
from portico.access.policy import Action
from portico.backups import pages as backup_pages
from portico.devices import services
from portico.devices.forms import DeviceFilterForm, DeviceForm
from portico.devices.models import Device
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.remote import sessions as remote_sessions
from portico.remote.models import AgentCredential, Consent
from portico.tenancy.forms import filter_by_organization
from portico.tenancy.models import Organization
from portico.web.pagination import page_of

PAGE_SIZE = 25


def _organizations(request: HttpRequest):
    return policy.restrict(Organization.objects.all(), request.membership, Action.VIEW).order_by("name")


def _visible(request: HttpRequest, pk: int) -> Device:
    return get_object_or_404(
        policy.restrict(Device.objects.select_related("organization"), request.membership, Action.VIEW), pk=pk
    )


def filtered_devices(queryset, data: dict):
    q = (data.get("q") or "").strip()
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(last_user__icontains=q) | Q(ip_address__startswith=q))
    queryset = filter_by_organization(queryset, data.get("organization"))
    if data.get("os_family"):
        queryset = queryset.filter(os_family=data["os_family"])
    if data.get("online") in ("0", "1"):
        queryset = queryset.filter(online=data["online"] == "1")
    if data.get("backup") == "problem":
        queryset = queryset.filter(backup_enabled=True, backup_policy__last_result__in=backup_pages.PROBLEMS)
    elif data.get("backup") == "on":
        queryset = queryset.filter(backup_enabled=True)
    elif data.get("backup") == "off":
        queryset = queryset.filter(backup_enabled=False)
    return queryset


@membership_required(MembershipKind.STAFF)
def device_list(request: HttpRequest) -> HttpResponse:
    filters = DeviceFilterForm(request.GET or None, organizations=_organizations(request))
    devices = policy.restrict(
        Device.objects.select_related("organization", "backup_policy"), request.membership, Action.VIEW
    )
    if filters.is_valid():
        devices = filtered_devices(devices, filters.cleaned_data)
    page = page_of(devices.order_by("name", "id"), request.GET.get("page"), PAGE_SIZE)
    can_create = policy.can_create(request.membership, Device, _organizations(request).order_by().first())
    return render(request, "devices/list.html", {"page": page, "filters": filters, "can_create": can_create})


@membership_required(MembershipKind.STAFF)
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    device = _visible(request, pk)
    assigned = policy.restrict(
        device.assigned_to.select_related("person", "organization"), request.membership, Action.VIEW
    ).order_by("person__last_name", "person__first_name")
    device.connections = [
        DeviceAction(kind) for kind in CONNECTION_ACTIONS if policy.can(request.membership, kind, device)
    ]
    return render(
        request,
        "devices/detail.html",
        {
            "device": device,
            "assigned": assigned,
            "can_change": policy.can(request.membership, Action.CHANGE, device),
            "can_delete": policy.can(request.membership, Action.DELETE, device),
            "agent": AgentCredential.objects.filter(device=device).first(),
            "consent_label": Consent(remote_sessions.consent_of(device.organization_id)).label,
            "can_change_consent": policy.can(request.membership, Action.CHANGE, device.organization),
            "remote_sessions": remote_sessions.recent_of(device),
            **backup_pages.device_card(device),
        },
    )


@membership_required(MembershipKind.STAFF)
def device_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    device = _visible(request, pk) if pk is not None else None
    if device is not None and not policy.can(request.membership, Action.CHANGE, device):
        raise PermissionDenied
    if device is None and not policy.can_create(request.membership, Device, _organizations(request).order_by().first()):
        raise PermissionDenied
    form = DeviceForm(request.POST or None, instance=device, organizations=_organizations(request))
    if request.method == "POST" and form.is_valid():
        details = services.DeviceDetails(**{name: form.cleaned_data[name] for name in form.Meta.fields})
        try:
            if device is None:
                device = services.create_device(request.membership, details)
            else:
                device = services.update_device(request.membership, device, details)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": device.name})
            return redirect("devices:detail", pk=device.pk)
    return render(request, "devices/edit.html", {"form": form, "device": device})


@require_POST
@membership_required(MembershipKind.STAFF)
def device_delete(request: HttpRequest, pk: int) -> HttpResponse:
    device = _visible(request, pk)
    services.delete_device(request.membership, device)
    messages.success(request, _("%(name)s is deleted.") % {"name": device.name})
    return redirect("devices:list")
