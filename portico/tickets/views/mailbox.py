"""Partner settings: the support mailbox that replies to ticket notices arrive in (TK-7)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import MembershipKind
from portico.identity.views import membership_required
from portico.tickets import imap, mailin
from portico.tickets.mailbox_forms import SupportMailboxForm
from portico.tickets.models import SupportMailbox


@membership_required(MembershipKind.STAFF)
def support_mailbox(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    if not policy.can(actor, Action.CHANGE, actor.partner):
        raise Http404
    mailbox = SupportMailbox.objects.filter(partner_id=actor.partner_id).first()
    form = SupportMailboxForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = mailin.save_support_mailbox(
            actor,
            mailin.MailboxDetails(
                address=data["address"], host=data["host"], port=data["port"], use_tls=data["use_tls"],
                username=data["username"], folder=data["folder"] or "INBOX", enabled=data["enabled"],
                password=data["password"] or None,
            ),
        )
        if "test" in request.POST:
            try:
                imap.check_connection(mailin.server_of(saved))
            except Exception as exc:  # noqa: BLE001 - the reason is what the person needs to see
                messages.error(request, _("Saved, but the mailbox could not be reached: %(error)s") % {"error": exc})
            else:
                messages.success(request, _("Saved. The mailbox answers."))
        else:
            messages.success(request, _("Support mailbox saved."))
        return redirect("tickets:support_mailbox")
    return render(request, "tickets/mailbox.html", {"form": form, "mailbox": mailbox})


urlpatterns = [
    path("console/settings/support-mailbox/", support_mailbox, name="support_mailbox"),
]
