from django.urls import path

from portico.remote import views
from portico.remote.api import EnrolView

app_name = "remote"

urlpatterns = [
    path("agent/v1/enrol", EnrolView.as_view(), name="enrol"),
    path("console/devices/enrol/", views.enrol_devices, name="enrol_devices"),
    path("console/devices/<int:pk>/agent/revoke/", views.revoke_agent, name="revoke_agent"),
    path("portal/devices/", views.my_devices, name="my_devices"),
]
