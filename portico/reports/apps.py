from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "portico.reports"
    label = "reports"

    def ready(self) -> None:
        # The export kinds register themselves when their catalog module is imported, and the
        # export job's body when the services are: both in the web process and in the worker.
        from portico.reports import catalog, dashboard_exports, services  # noqa: F401
