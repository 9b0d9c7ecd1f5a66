from django.apps import AppConfig


class SaasConfig(AppConfig):
    name = "portico.saas"
    label = "saas"
