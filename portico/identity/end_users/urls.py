from django.urls import path

from portico.identity.end_users import views

app_name = "end_users"
urlpatterns = [
    path("console/end-users/", views.end_user_list, name="list"),
    path("console/end-users/new/", views.end_user_general, name="new"),
    path("console/end-users/<int:pk>/", views.end_user_general, name="edit"),
    path("console/end-users/<int:pk>/roles/", views.end_user_roles, name="roles"),
    path("console/end-users/<int:pk>/permissions/", views.end_user_permissions, name="permissions"),
    path("console/end-users/<int:pk>/devices/", views.end_user_devices, name="devices"),
    path("console/end-users/<int:pk>/devices/<int:device_pk>/remove/", views.end_user_unassign, name="unassign"),
]
