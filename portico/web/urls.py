from django.urls import path

from portico.reports.views.dashboard import dashboard
from portico.saas.views.customer import customer_home
from portico.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    # The technician console opens on the partner dashboard; the customer portal on its accounts.
    path("console/", dashboard, name="console"),
    path("portal/", views.portal, name="portal"),
    path("customer/", customer_home, name="customer"),
]
