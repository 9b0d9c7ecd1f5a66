"""Portico's URL map: the portals, sign-in (allauth), and the API under /api/v1/."""

from django.http import Http404
from django.urls import include, path

from portico.api.views import healthz
from portico.notifications.admin import operator_site


def not_offered(request, *args, **kwargs):
    # Email addresses change only through the people pages (ID-10), not self-service.
    raise Http404


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/email/", not_offered),
    path("accounts/signup/", not_offered),
    path("", include("portico.identity.urls")),
    path("", include("portico.tenancy.urls")),
    path("", include("portico.access.urls")),
    path("", include("portico.devices.urls")),
    path("", include("portico.remote.urls")),
    path("", include("portico.backups.urls")),
    path("", include("portico.tickets.urls")),
    path("", include("portico.saas.urls")),
    path("", include("portico.reports.urls")),
    path("", include("portico.identity.end_users.urls")),
    path("", include("portico.identity.staff.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("portico.api.urls")),
    path("operator/", operator_site.urls),
    path("", include("portico.web.urls")),
]
