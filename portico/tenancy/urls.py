from django.urls import path

from portico.tenancy import views

app_name = "tenancy"
urlpatterns = [
    path("console/settings/", views.partner_settings, name="settings"),
    path("console/groups/", views.group_list, name="groups"),
    path("console/groups/new/", views.group_edit, name="new_group"),
    path("console/groups/<int:pk>/", views.group_edit, name="group"),
    path("console/groups/<int:pk>/delete/", views.group_delete, name="delete_group"),
]
