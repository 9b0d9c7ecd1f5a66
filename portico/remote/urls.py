from django.urls import path

from portico.remote import views
from portico.remote.api import EnrolView

app_name = "remote"

urlpatterns = [
    path("agent/v1/enrol", EnrolView.as_view(), name="enrol"),
    path("console/devices/enrol/", views.enrol_devices, name="enrol_devices"),
    path("console/devices/<int:pk>/agent/revoke/", views.revoke_agent, name="revoke_agent"),
    path("console/organizations/<int:pk>/remote-access/", views.organization_settings, name="organization_settings"),
    path("portal/devices/", views.my_devices, name="my_devices"),
    path("portal/devices/<int:pk>/connect/<str:kind>/", views.session_page, name="portal_session"),
    path("portal/devices/<int:pk>/connect/<str:kind>/token", views.session_token, name="portal_session_token"),
    path("console/devices/<int:pk>/connect/<str:kind>/", views.session_page, name="console_session"),
    path("console/devices/<int:pk>/connect/<str:kind>/token", views.session_token, name="console_session_token"),
]
