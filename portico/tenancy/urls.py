from django.urls import path

from portico.tenancy import views

app_name = "tenancy"
urlpatterns = [path("console/settings/", views.partner_settings, name="settings")]
