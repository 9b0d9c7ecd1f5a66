from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "portico.reports"
    label = "reports"

    def ready(self) -> None:
        # The export kinds register themselves when their catalog module is imported.
        from portico.reports import catalog  # noqa: F401
