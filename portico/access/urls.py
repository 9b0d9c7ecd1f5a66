from django.urls import path

from portico.access import views

app_name = "access"
urlpatterns = [
    path("console/end-user-roles/", views.role_list, name="roles"),
    path("console/end-user-roles/new/", views.role_edit, name="new_role"),
    path("console/end-user-roles/<int:pk>/", views.role_edit, name="role"),
    path("console/end-user-roles/<int:pk>/delete/", views.role_delete, name="delete_role"),
]
