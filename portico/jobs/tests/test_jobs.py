"""Long work runs as a job row: queued → running → succeeded/failed, never lost (DESIGN mechanism 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portico.jobs import services, tasks
from portico.jobs.models import Job, JobState
from portico.jobs.services import MAX_ATTEMPTS, job_kind, start_job
from portico.tenancy.models import Partner

seen_progress: list[int] = []


@job_kind("test.count")
def count(job: Job, progress) -> dict:
    for percent in (25, 50, 75):
        progress(percent)
        seen_progress.append(Job.objects.get(pk=job.pk).progress)
    return {"counted": 3, "by": job.created_by_id}


@job_kind("test.fail_midway")
def fail_midway(job: Job, progress) -> None:
    progress(40)
    with transaction.atomic():
        Partner.objects.create(name="Half-written partner")
        raise ValueError("the source went away")


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Commit the surrounding work so the queued Huey task (inline in tests) runs."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_job_runs_to_succeeded_with_progress_and_result(admin, run_on_commit):
    seen_progress.clear()
    with run_on_commit():
        job = start_job("test.count", created_by=admin)
        assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.progress == 100
    assert job.result == {"counted": 3, "by": admin.pk}
    assert job.error == ""
    assert job.attempts == 1
    assert job.started_at <= job.heartbeat_at <= job.finished_at
    assert seen_progress == [25, 50, 75]


def test_job_is_not_queued_when_the_transaction_that_started_it_rolls_back(db, run_on_commit):
    with run_on_commit() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        start_job("test.count")
        raise RuntimeError
    assert callbacks == []
    assert not Job.objects.exists()


def test_failing_job_is_failed_with_its_error_and_its_writes_rolled_back(db, run_on_commit):
    with run_on_commit():
        job = start_job("test.fail_midway")
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error.startswith("ValueError: the source went away")
    assert job.progress == 40
    assert job.result is None
    assert job.finished_at is not None
    assert not Partner.objects.filter(name="Half-written partner").exists()


def test_finished_job_is_not_run_again(db, run_on_commit):
    with run_on_commit():
        job = start_job("test.count")
    again = services.run_job(job.pk)
    assert again.state == JobState.SUCCEEDED and again.attempts == 1


def test_unknown_job_kind_is_refused(db):
    with pytest.raises(ValueError, match="unknown job kind"):
        start_job("test.never_registered")
    assert not Job.objects.exists()


def stale_job(attempts: int, minutes_ago: int = 11) -> Job:
    """A job a dead worker left running: its heartbeat stopped `minutes_ago`."""
    then = timezone.now() - timedelta(minutes=minutes_ago)
    return Job.objects.create(
        kind="test.count", state=JobState.RUNNING, attempts=attempts, started_at=then, heartbeat_at=then
    )


def test_stale_job_is_requeued_and_then_runs(db, run_on_commit):
    job = stale_job(attempts=1)
    with run_on_commit():
        tasks.recover_stale_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 2
    assert job.result["counted"] == 3


def test_stale_job_requeue_hands_it_to_the_queue_once_committed(db, run_on_commit):
    job = stale_job(attempts=1)
    requeued: list[Job] = []
    with run_on_commit():
        recovered = services.recover_stale_jobs(requeued.append)
        assert requeued == []
    assert [j.pk for j in recovered] == [job.pk] == [j.pk for j in requeued]
    job.refresh_from_db()
    assert job.state == JobState.QUEUED


def test_recent_heartbeat_is_left_alone(db, run_on_commit):
    job = stale_job(attempts=1, minutes_ago=5)
    with run_on_commit():
        assert services.recover_stale_jobs(lambda job: pytest.fail("requeued a live job")) == []
    job.refresh_from_db()
    assert job.state == JobState.RUNNING


def test_stale_job_is_failed_after_max_attempts(db, run_on_commit):
    job = stale_job(attempts=MAX_ATTEMPTS)
    with run_on_commit():
        services.recover_stale_jobs(lambda job: pytest.fail("requeued past the limit"))
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == "The worker stopped while running this job."
    assert job.finished_at is not None
    assert Job.objects.filter(pk=job.pk).exists()
