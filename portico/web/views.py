"""The home redirect and the end-user portal's entry page; the other portals open in their own apps."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from portico.identity.models import MembershipKind
from portico.identity.views import membership_required


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    if request.membership is None:
        return redirect("identity:pick")
    return redirect(request.membership.portal_url_name)


@membership_required(MembershipKind.END_USER)
def portal(request: HttpRequest) -> HttpResponse:
    return render(request, "web/portal.html")
