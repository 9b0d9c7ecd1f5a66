"""Running work as a job: the row moves queued → running → succeeded/failed, never lost."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from portico.jobs.models import Job, JobState

STALE_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 3


JobBody = Callable[[Job, "Progress"], Any]
_BODIES: dict[str, JobBody] = {}


def job_kind(kind: str) -> Callable[[JobBody], JobBody]:
    """Register the body that runs jobs of `kind`."""

    def register(body: JobBody) -> JobBody:
        _BODIES[kind] = body
        return body

    return register


def start_job(kind: str, created_by=None) -> Job:
    """Create the job's row and queue it once the surrounding transaction commits."""
    from portico.jobs.tasks import execute_job

    if kind not in _BODIES:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(kind=kind, created_by=created_by)
    transaction.on_commit(lambda: execute_job(job.pk))
    return job


class Progress:
    """Handed to the job's body so it can report how far it is."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, percent: int) -> None:
        percent = max(0, min(100, int(percent)))
        Job.objects.filter(pk=self.job.pk).update(progress=percent, heartbeat_at=timezone.now())
        self.job.progress = percent


def run_job(job_id: int) -> Job:
    """Run the job's body; its return value becomes the result, an exception the error."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            return job
        now = timezone.now()
        job.state, job.started_at, job.heartbeat_at = JobState.RUNNING, now, now
        job.attempts += 1
        job.save(update_fields=["state", "started_at", "heartbeat_at", "attempts"])
    try:
        result = _BODIES[job.kind](job, Progress(job))
    except Exception as exc:  # noqa: BLE001 - a job's failure is recorded, not raised into the worker
        Job.objects.filter(pk=job.pk).update(
            state=JobState.FAILED,
            error=f"{exc.__class__.__name__}: {exc}\n{traceback.format_exc(limit=5)}",
            finished_at=timezone.now(),
        )
    else:
        Job.objects.filter(pk=job.pk).update(
            state=JobState.SUCCEEDED, progress=100, result=result, finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def recover_stale_jobs(requeue: Callable[[Job], None]) -> list[Job]:
    """Jobs whose worker died mid-run: requeue them, or fail them after MAX_ATTEMPTS."""
    cutoff = timezone.now() - STALE_AFTER
    recovered = []
    with transaction.atomic():
        for job in Job.objects.select_for_update(skip_locked=True).filter(
            state=JobState.RUNNING, heartbeat_at__lt=cutoff
        ):
            if job.attempts >= MAX_ATTEMPTS:
                job.state, job.error, job.finished_at = (
                    JobState.FAILED,
                    "The worker stopped while running this job.",
                    timezone.now(),
                )
                job.save(update_fields=["state", "error", "finished_at"])
            else:
                job.state = JobState.QUEUED
                job.save(update_fields=["state"])
                transaction.on_commit(lambda job=job: requeue(job))
            recovered.append(job)
    return recovered
