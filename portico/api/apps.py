from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "portico.api"
    label = "api"

    def ready(self) -> None:
        from portico.api import schema  # noqa: F401
