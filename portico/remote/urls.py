from django.urls import path

from portico.remote.api import EnrolView

app_name = "remote"

urlpatterns = [
    path("agent/v1/enrol", EnrolView.as_view(), name="enrol"),
]
