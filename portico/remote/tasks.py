from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from portico.remote import services


@db_periodic_task(crontab(minute="*"))
def mark_silent_devices_offline() -> int:
    """A web node that died held its agents' connections: their devices go offline here."""
    return services.mark_silent_devices_offline()
