"""Outbox workers: send on commit, and sweep whatever is due (retries, lost queue messages)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from portico.notifications import services


@db_task()
def send_email(email_id: int) -> None:
    services.deliver(email_id)


@db_periodic_task(crontab(minute="*"))
def send_due_emails() -> None:
    for email_id in services.due_emails():
        services.deliver(email_id)
