from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from portico.identity.models import MembershipKind
from portico.identity.views import membership_required


def _not_built_yet(request, *args, **kwargs):
    raise Http404


dismiss_notice = welcome_done = _not_built_yet


@membership_required(MembershipKind.STAFF)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "web/console.html")
