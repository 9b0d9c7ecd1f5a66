from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from portico.access import api as access_api
from portico.api import views
from portico.devices import api as devices_api
from portico.identity.end_users import api as end_users_api
from portico.identity.staff import api as staff_api
from portico.remote.api import SessionRequestView
from portico.reports import api as reports_api
from portico.saas import api as saas_api
from portico.tenancy import api as tenancy_api
from portico.tickets import api as tickets_api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tokens", views.ApiTokenViewSet, basename="token")
for area in (access_api, devices_api, end_users_api, reports_api, saas_api, staff_api, tenancy_api, tickets_api):
    area.register(router)

app_name = "api"
urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("remote-sessions/", SessionRequestView.as_view(), name="remote_sessions"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]), name="schema"),
    path(
        "docs/",
        # Swagger UI sets inline style attributes; scripts stay 'self' only.
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", permission_classes=[AllowAny], authentication_classes=[]
            )
        ),
        name="docs",
    ),
    path("", include(router.urls)),
]
