from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "portico.identity"
    label = "identity"
    verbose_name = "Identity"

    def ready(self) -> None:
        from portico.identity import signals  # noqa: F401
