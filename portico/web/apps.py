from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "portico.web"
    label = "web"
