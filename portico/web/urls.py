from django.urls import path

from portico.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.console, name="console"),
    path("portal/", views.portal, name="portal"),
    path("customer/", views.customer, name="customer"),
]
