from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "portico.reports"
    label = "reports"
