"""Polling the support mailboxes (TK-7): every minute, each enabled mailbox, one worker at a time."""

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from portico.tickets import mailin
from portico.tickets.models import SupportMailbox


@db_task()
def poll_mailbox(mailbox_id: int) -> None:
    mailbox = SupportMailbox.objects.filter(pk=mailbox_id, enabled=True).first()
    if mailbox is None:
        return
    # Two workers reading one mailbox would only store duplicates; the lock spares the work.
    try:
        with HUEY.lock_task(f"support-mailbox-{mailbox_id}"):
            mailin.poll_mailbox(mailbox)
    except TaskLockedException:
        return


@db_periodic_task(crontab(minute="*"))
def poll_support_mailboxes() -> None:
    for mailbox_id in SupportMailbox.objects.filter(enabled=True).values_list("pk", flat=True):
        poll_mailbox(mailbox_id)
