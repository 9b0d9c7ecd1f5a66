"""Huey tasks that run job rows and recover the ones a dead worker left running."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from portico.jobs import services


@db_task()
def execute_job(job_id: int) -> None:
    services.run_job(job_id)


@db_periodic_task(crontab(minute="*/5"))
def recover_stale_jobs() -> None:
    services.recover_stale_jobs(lambda job: execute_job(job.pk))
