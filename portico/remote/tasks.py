from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from portico.remote import services, sessions


@db_periodic_task(crontab(minute="*"))
def mark_silent_devices_offline() -> int:
    """A web node that died held its agents' connections: their devices go offline here."""
    return services.mark_silent_devices_offline()


@db_periodic_task(crontab(minute="*"))
def expire_unused_session_tokens() -> int:
    """Session tokens nobody used within their minute end as never used."""
    return sessions.expire_unused_tokens()
