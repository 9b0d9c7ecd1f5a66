"""The bytes of device repositories, kept by the storage backend of `BACKUP_STORAGE`.

Keys follow restic's own local layout under the device's id (`<device>/config`,
`<device>/data/<first two hex>/<name>`, `<device>/<type>/<name>`), so on a folder a device's
repository is also one that restic opens directly (`restic -r var/backups/<device>`)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage
from django.utils.module_loading import import_string

FILE_TYPES = ("data", "keys", "locks", "snapshots", "index")
NAME = re.compile(r"[0-9a-f]{64}")
SUBFOLDER = re.compile(r"[0-9a-f]{2}")


def backup_storage() -> Storage:
    configured: dict[str, Any] = settings.BACKUP_STORAGE
    return import_string(configured["BACKEND"])(**configured.get("OPTIONS", {}))


def key(device_id: int, file_type: str, name: str = "") -> str:
    """The storage key of one file; `file_type` and `name` must have been validated."""
    if file_type == "config":
        return f"{device_id}/config"
    if file_type == "data":
        return f"{device_id}/data/{name[:2]}/{name}"
    return f"{device_id}/{file_type}/{name}"


def _listdir(storage: Storage, folder: str) -> tuple[list[str], list[str]]:
    try:
        return storage.listdir(folder)
    except FileNotFoundError:
        return [], []


def listing(storage: Storage, device_id: int, file_type: str) -> list[tuple[str, int]]:
    """The (name, size) of the device's files of this type. Only names restic could have written
    are listed: whatever else lies in the folder is not part of the repository."""
    if file_type == "data":
        folders, _files = _listdir(storage, f"{device_id}/data")
        names = [
            name for folder in sorted(folders) if SUBFOLDER.fullmatch(folder)
            for name in _listdir(storage, f"{device_id}/data/{folder}")[1] if name.startswith(folder)
        ]
    else:
        names = _listdir(storage, f"{device_id}/{file_type}")[1]
    return [(name, storage.size(key(device_id, file_type, name))) for name in sorted(names) if NAME.fullmatch(name)]
