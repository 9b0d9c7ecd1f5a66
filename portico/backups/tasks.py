from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from portico.backups import services


@db_task(retries=5, retry_delay=60)
def maintain_repository(device_id: int) -> None:
    """Index, retention and measurement after a backup; one at a time per device (a second waits
    for the first by retrying). What restic could not do is noted on the policy and caught up
    after the next backup: the index follows the repository, not the runs."""
    with HUEY.lock_task(f"backup-maintenance-{device_id}"):
        services.maintain(device_id)


@db_periodic_task(crontab(minute="*"))
def start_due_backups() -> int:
    return services.start_due_backups()


@db_periodic_task(crontab(minute="*"))
def fail_stale_backup_runs() -> int:
    return services.fail_stale_runs()
