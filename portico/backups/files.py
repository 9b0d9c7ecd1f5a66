"""The bytes of device repositories, kept by the storage backend of `BACKUP_STORAGE`.

Keys follow restic's own local layout under the device's id (`<device>/config`,
`<device>/data/<first two hex>/<name>`, `<device>/<type>/<name>`), which is also restic's layout
in a bucket, so the server's restic opens a device's repository directly, on a folder or in
S3-compatible object storage (location.py). On S3 the listing, the size and ranged reads go to
the bucket directly: the generic storage calls would cost a request per listed file and download
a whole pack for each range."""

from __future__ import annotations

import functools
import io
import re
from typing import Any, Protocol

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.storage import Storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string
from storages.backends.s3 import S3Storage
from storages.utils import safe_join

FILE_TYPES = ("data", "keys", "locks", "snapshots", "index")
NAME = re.compile(r"[0-9a-f]{64}")
SUBFOLDER = re.compile(r"[0-9a-f]{2}")


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...

    def close(self) -> None: ...


@functools.cache
def backup_storage() -> Storage:
    """One storage for the process: an S3 storage's first request builds a boto3 session, about
    100 ms that each of a backup's thousands of requests would otherwise pay again."""
    configured: dict[str, Any] = settings.BACKUP_STORAGE
    return import_string(configured["BACKEND"])(**configured.get("OPTIONS", {}))


@receiver(setting_changed)
def _forget_backup_storage(*, setting: str, **kwargs: Any) -> None:
    if setting == "BACKUP_STORAGE":
        backup_storage.cache_clear()


def key(device_id: int, file_type: str, name: str = "") -> str:
    """The storage key of one file; `file_type` and `name` must have been validated."""
    if file_type == "config":
        return f"{device_id}/config"
    if file_type == "data":
        return f"{device_id}/data/{name[:2]}/{name}"
    return f"{device_id}/{file_type}/{name}"


def _object_key(storage: S3Storage, key: str) -> str:
    """The bucket's key of a storage key, under the storage's `location` as S3Storage puts it."""
    return safe_join(storage.location, key)


def _listdir(storage: Storage, folder: str) -> tuple[list[str], list[str]]:
    try:
        return storage.listdir(folder)
    except FileNotFoundError:
        return [], []


def listing(storage: Storage, device_id: int, file_type: str) -> list[tuple[str, int]]:
    """The (name, size) of the device's files of this type. Only names restic could have written
    are listed: whatever else lies in the folder is not part of the repository."""
    if isinstance(storage, S3Storage):
        return _bucket_listing(storage, device_id, file_type)
    if file_type == "data":
        folders, _files = _listdir(storage, f"{device_id}/data")
        names = [
            name for folder in sorted(folders) if SUBFOLDER.fullmatch(folder)
            for name in _listdir(storage, f"{device_id}/data/{folder}")[1] if name.startswith(folder)
        ]
    else:
        names = _listdir(storage, f"{device_id}/{file_type}")[1]
    return [(name, storage.size(key(device_id, file_type, name))) for name in sorted(names) if NAME.fullmatch(name)]


def _bucket_listing(storage: S3Storage, device_id: int, file_type: str) -> list[tuple[str, int]]:
    """S3's listing carries each object's size: one request per thousand files, whatever their number."""
    prefix = _object_key(storage, f"{device_id}/{file_type}") + "/"
    # list_objects (v1), as S3Storage.listdir: older S3-compatible servers lack v2.
    pages = storage.connection.meta.client.get_paginator("list_objects").paginate(
        Bucket=storage.bucket_name, Prefix=prefix
    )
    found = []
    for page in pages:
        for entry in page.get("Contents", ()):
            path = entry["Key"][len(prefix):]
            if file_type == "data":
                folder, _slash, name = path.partition("/")
                if not name.startswith(folder) or not SUBFOLDER.fullmatch(folder):
                    continue
            else:
                name = path
            if NAME.fullmatch(name):
                found.append((name, entry["Size"]))
    return sorted(found)


def size(storage: Storage, key: str) -> int | None:
    """The file's size in bytes; None when there is no such file."""
    if isinstance(storage, S3Storage):
        try:
            head = storage.connection.meta.client.head_object(Bucket=storage.bucket_name, Key=_object_key(storage, key))
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return None
            raise
        return head["ContentLength"]
    if not storage.exists(key):
        return None
    return storage.size(key)


def read(storage: Storage, key: str, start: int, length: int) -> Readable:
    """The file's `length` bytes from `start` on, to be read in chunks and closed. From S3 only
    that range is asked for, and streamed; S3Storage's own files would download the whole object
    into memory first."""
    if isinstance(storage, S3Storage):
        if not length:  # an empty file, which no range can name
            return io.BytesIO()
        got = storage.connection.meta.client.get_object(
            Bucket=storage.bucket_name, Key=_object_key(storage, key), Range=f"bytes={start}-{start + length - 1}"
        )
        return got["Body"]
    opened = storage.open(key, "rb")
    if start:
        opened.seek(start)
    return opened
