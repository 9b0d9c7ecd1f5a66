from django.urls import path

from portico.devices import views

app_name = "devices"
urlpatterns = [
    path("console/devices/", views.device_list, name="list"),
    path("console/devices/new/", views.device_edit, name="new"),
    path("console/devices/<int:pk>/", views.device_detail, name="detail"),
    path("console/devices/<int:pk>/edit/", views.device_edit, name="edit"),
    path("console/devices/<int:pk>/delete/", views.device_delete, name="delete"),
]
