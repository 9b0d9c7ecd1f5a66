"""Where the server's own restic finds a device's repository: the same bytes the REST endpoint
serves, opened directly in the backup storage (for indexing, retention, zip downloads)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage

from portico.backups.files import backup_storage


def restic_repository(device_id: int) -> tuple[str, dict[str, str]]:
    """restic's `-r` for the device's repository and the environment it needs (credentials)."""
    storage = backup_storage()
    if isinstance(storage, FileSystemStorage):
        return str(Path(storage.location) / str(device_id)), {}
    if isinstance(storage, S3Storage):
        return _s3_repository(storage, device_id)
    raise ImproperlyConfigured(f"the server's restic cannot open repositories kept by {type(storage).__name__}")


def _s3_repository(storage: S3Storage, device_id: int) -> tuple[str, dict[str, str]]:
    """restic's s3 backend keeps the same layout as a folder under `<bucket>/<prefix>`, and takes
    an http:// endpoint as well as https://. Without an endpoint the storage talks to AWS itself.
    restic gets the storage's own credentials (its options, or AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, which django-storages reads); with none, it asks the machine's
    instance role, as boto3 does."""
    if storage.endpoint_url:
        endpoint = storage.endpoint_url.rstrip("/")
    elif storage.region_name:
        endpoint = f"https://s3.{storage.region_name}.amazonaws.com"
    else:
        endpoint = "https://s3.amazonaws.com"
    prefix = "/".join(part for part in (storage.location.strip("/"), str(device_id)) if part)
    environment = {
        "AWS_ACCESS_KEY_ID": storage.access_key,
        "AWS_SECRET_ACCESS_KEY": storage.secret_key,
        "AWS_SESSION_TOKEN": storage.security_token,
        "AWS_DEFAULT_REGION": storage.region_name,
    }
    return f"s3:{endpoint}/{storage.bucket_name}/{prefix}", {name: value for name, value in environment.items() if value}
