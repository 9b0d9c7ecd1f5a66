from django.urls import path

from portico.identity.staff import views

app_name = "staff"
urlpatterns = [
    path("console/staff/", views.staff_list, name="list"),
    path("console/staff/new/", views.staff_edit, name="new"),
    path("console/staff/<int:pk>/", views.staff_edit, name="edit"),
    path("console/staff/<int:pk>/sso/", views.staff_sso, name="sso"),
    path("console/staff/<int:pk>/delete/", views.staff_delete, name="delete"),
]
