from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "portico.jobs"
    label = "jobs"
