from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "portico.devices"
    label = "devices"
