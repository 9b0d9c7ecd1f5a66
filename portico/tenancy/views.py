"""Partner settings page (PS-1): Owner and Super Admin only."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.tenancy import services
from portico.tenancy.forms import PartnerSettingsForm


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
