"""Pages of remote access: the technician's enrolment tokens and agent revocation (RA-4), and the
end user's devices (RA-1)."""

from __future__ import annotations

from csp.decorators import csp_update
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portico.access import policy
from portico.access.catalog import CONNECTION_ACTIONS, DeviceAction
from portico.access.policy import Action
from portico.backups.models import Snapshot
from portico.devices.models import Device
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.remote import services, sessions
from portico.remote.forms import EnrolmentTokenForm, RemoteAccessSettingsForm
from portico.remote.models import RemoteAccessSettings
from portico.tenancy.models import Organization
from portico.web.pagination import page_of

PAGE_SIZE = 25


def _enrollable_organizations(request: HttpRequest):
    """The organizations the technician may add devices to."""
    reachable = policy.restrict(Organization.objects.all(), request.membership, Action.VIEW).order_by("name")
    return reachable if policy.can_create(request.membership, Device, reachable.first()) else reachable.none()


@never_cache
@membership_required(MembershipKind.STAFF)
def enrol_devices(request: HttpRequest) -> HttpResponse:
    """Make an enrolment token and show it once, with the commands that use it."""
    organizations = _enrollable_organizations(request)
    if not organizations.exists():
        raise PermissionDenied
    form = EnrolmentTokenForm(request.POST or None, organizations=organizations, initial={
        "organization": request.GET.get("organization"),
    })
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.create_enrolment_token(
                request.membership, form.cleaned_data["organization"], days=form.cleaned_data["days"],
                uses=form.cleaned_data["uses"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            server = request.build_absolute_uri("/").rstrip("/")
            return render(request, "remote/token.html", {"token": token, "raw": raw, "server": server})
    return render(request, "remote/enrol.html", {"form": form})


@require_POST
@membership_required(MembershipKind.STAFF)
def revoke_agent(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(policy.restrict(Device.objects.all(), request.membership, Action.VIEW), pk=pk)
    services.revoke_credential(request.membership, device)
    messages.success(request, _("The agent of %(name)s can no longer connect. Enrol the device again to reconnect it.")
                     % {"name": device.name})
    return redirect("devices:detail", pk=device.pk)


class MyDevicesFilter(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)


@membership_required(MembershipKind.END_USER)
def my_devices(request: HttpRequest) -> HttpResponse:
    """RA-1: the end user's assigned devices, online or not, and how each may be reached (PERM-1:
    per operating system). Asked of the policy once per kind of connection for the whole page."""
    actor = request.membership
    filters = MyDevicesFilter(request.GET)
    devices = policy.restrict(Device.objects.select_related("organization"), actor, Action.VIEW)
    if filters.is_valid() and filters.cleaned_data["q"]:
        devices = devices.filter(name__icontains=filters.cleaned_data["q"])
    page = page_of(devices.order_by("name", "id"), request.GET.get("page"), PAGE_SIZE)
    pks = [device.pk for device in page]
    allowed = {
        action: set(policy.restrict(Device.objects.filter(pk__in=pks), actor, action).values_list("pk", flat=True))
        for action in CONNECTION_ACTIONS
    }
    restorable = set(
        policy.restrict(
            Device.objects.filter(pk__in=pks).filter(Exists(Snapshot.objects.filter(device=OuterRef("pk")))),
            actor, DeviceAction.RESTORE,
        )
        .values_list("pk", flat=True)
    )
    for device in page:
        device.connections = [DeviceAction(action) for action in CONNECTION_ACTIONS if device.pk in allowed[action]]
        device.restorable = device.pk in restorable
    return render(request, "remote/my_devices.html", {"page": page, "filters": filters})


# Sessions (RA-2, RA-3): a page per device and kind, whose script asks for a one-time token.


def _session_device(request: HttpRequest, pk: int, kind: str) -> Device:
    """The device, if the actor may open `kind` on it; a 404 for everything else (out of reach)."""
    if kind not in sessions.KINDS:
        raise Http404
    reachable = policy.restrict(Device.objects.select_related("organization"), request.membership, kind)
    return get_object_or_404(reachable, pk=pk)


@never_cache
# xterm.js styles its rows and cells with <style> elements and style attributes; scripts stay 'self'.
@csp_update({"style-src": ["'unsafe-inline'"]})
@membership_required()
def session_page(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    device = _session_device(request, pk, kind)
    staff = request.membership.kind == MembershipKind.STAFF
    area = "console" if staff else "portal"
    if not request.path.startswith(f"/{area}/"):
        raise Http404
    back_url = reverse("devices:detail", args=[device.pk]) if staff else reverse("remote:my_devices")
    token_url = reverse(f"remote:{area}_session_token", args=[device.pk, kind])
    return render(request, "remote/session.html", {
        "device": device, "kind": kind, "kind_label": DeviceAction(kind).label,
        "token_url": token_url, "back_url": back_url,
    })


@require_POST
@membership_required()
def session_token(request: HttpRequest, pk: int, kind: str) -> JsonResponse:
    """A one-time token for the page's websocket, as JSON; errors as `{"detail": ...}`."""
    device = _session_device(request, pk, kind)
    try:
        _session, raw = sessions.request_session(
            request.membership, device, kind, view_only=request.POST.get("view_only") == "1"
        )
    except sessions.DeviceOffline:
        return JsonResponse({"detail": _("%(name)s is offline: its agent is not connected.") % {"name": device.name}}, status=409)
    return JsonResponse({"socket": sessions.socket_path(raw), "expires_in": sessions.TOKEN_SECONDS})


@membership_required(MembershipKind.STAFF)
def organization_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Consent and notice before sessions on the organization's devices (issue 6, item 7)."""
    organization = get_object_or_404(policy.restrict(Organization.objects.all(), request.membership, Action.VIEW), pk=pk)
    if not policy.can(request.membership, Action.CHANGE, organization):
        raise PermissionDenied
    current = RemoteAccessSettings.objects.filter(organization=organization).first()
    form = RemoteAccessSettingsForm(
        request.POST or None, instance=current or RemoteAccessSettings(organization=organization)
    )
    if request.method == "POST" and form.is_valid():
        sessions.change_consent(request.membership, organization, form.cleaned_data["consent"])
        messages.success(request, _("Remote access settings of %(name)s saved.") % {"name": organization.name})
        return redirect("remote:organization_settings", pk=organization.pk)
    return render(request, "remote/organization_settings.html", {"organization": organization, "form": form})
