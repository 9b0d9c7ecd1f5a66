"""Where the server's own restic finds a device's repository: the same bytes the REST endpoint
serves, opened directly in the backup storage (for indexing, retention, zip downloads)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage

from portico.backups.files import backup_storage


def restic_repository(device_id: int) -> tuple[str, dict[str, str]]:
    """restic's `-r` for the device's repository and the environment it needs (credentials)."""
    storage = backup_storage()
    if isinstance(storage, FileSystemStorage):
        return str(Path(storage.location) / str(device_id)), {}
    raise ImproperlyConfigured(f"the server's restic cannot open repositories kept by {type(storage).__name__}")
