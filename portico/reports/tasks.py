"""Huey's periodic clearing of expired export files (the export jobs themselves run as job rows)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from portico.reports import services


@db_periodic_task(crontab(minute="17"))
def delete_expired_export_files() -> None:
    services.delete_expired_files()
