from django.urls import path

from portico.backups import pages, views

app_name = "backups"

urlpatterns = [
    # Everything under a repository reaches the view, which answers a bad name with 400.
    path("backups/v1/<int:device_id>/", views.repository, name="repository"),
    path("backups/v1/<int:device_id>/<path:path>", views.repository, name="repository_file"),
    path("console/devices/<int:pk>/backup/", pages.policy_page, name="policy"),
    path("console/devices/<int:pk>/backup/disable/", pages.disable, name="disable"),
    path("console/devices/<int:pk>/backup/run/", pages.back_up_now, name="back_up_now"),
]
for area in ("portal", "console"):
    urlpatterns += [
        path(f"{area}/devices/<int:pk>/backups/", pages.browse, name=f"{area}_browse"),
        path(f"{area}/devices/<int:pk>/backups/restores/<int:run>/", pages.run_page, name=f"{area}_run"),
        path(f"{area}/devices/<int:pk>/backups/<str:snapshot>/zip", pages.download, name=f"{area}_download"),
    ]
