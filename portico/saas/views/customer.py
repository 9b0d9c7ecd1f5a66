"""The customer portal's home: the organization's backed-up accounts and how their backups are doing."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portico.identity.models import MembershipKind
from portico.identity.views import membership_required


@membership_required(MembershipKind.CUSTOMER)
def customer_home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/customer.html")
