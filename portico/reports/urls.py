from django.urls import path

from portico.reports.views import dashboard, exports

app_name = "reports"
urlpatterns = [
    path("console/exports/", exports.export_list, name="exports"),
    path("console/exports/new/", exports.request_export, name="request_export"),
    path("console/exports/<int:pk>/", exports.export_detail, name="export"),
    path("console/exports/<int:pk>/download/<str:token>/", exports.export_download, name="download"),
    path("console/notices/<int:pk>/dismiss/", dashboard.dismiss_notice, name="dismiss_notice"),
    path("console/welcome/done/", dashboard.welcome_done, name="welcome_done"),
]
