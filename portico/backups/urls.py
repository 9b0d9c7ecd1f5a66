from django.urls import path

from portico.backups import views

app_name = "backups"

urlpatterns = [
    # Everything under a repository reaches the view, which answers a bad name with 400.
    path("backups/v1/<int:device_id>/", views.repository, name="repository"),
    path("backups/v1/<int:device_id>/<path:path>", views.repository, name="repository_file"),
]
