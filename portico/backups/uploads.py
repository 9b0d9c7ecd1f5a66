"""Files restic uploads to a device's repository (the REST protocol's POST), written once.

Django's ASGI handler would first spool a whole body into a temporary file (on disk past 2.5 MB)
and the view read it back to check and keep it: every byte of a backup written twice on the
server, and the server's CPU, on a small machine, taken from the restic it serves. So `Uploads`,
in front of Django in portico/asgi.py, takes a well-named upload straight from the connection:
its bytes are hashed as they arrive and written once, into a temporary file beside their final
place, which then becomes the file by a hard link (never replacing anything). Everything else,
and any malformed path, goes to Django (portico/backups/views.py), which answers it.

`keep` is the one place that decides what becomes of an upload, for both ways in."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import tempfile
from pathlib import Path

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage

from portico.backups import files, services
from portico.backups.models import BackupRepository

CHUNK = 1024 * 1024
# restic's packs are at most 128 MiB; anything far larger is not restic's.
MAX_BYTES = 512 * 1024 * 1024
UPLOAD = re.compile(r"/backups/v1/(\d+)/(config|(?:data|keys|locks|snapshots|index)/[0-9a-f]{64})")
REALM = 'Basic realm="portico-backups"'


class StorageFull(Exception):
    pass


class TooLarge(Exception):
    pass


class Sink:
    """A temporary file that becomes the stored file: beside its final place on a folder storage
    (so it is linked there, not copied), in the system's temporary folder for other storages."""

    def __init__(self, storage: Storage, key: str) -> None:
        folder = None
        if isinstance(storage, FileSystemStorage):
            folder = Path(storage.path(key)).parent
            folder.mkdir(parents=True, exist_ok=True)
        self.file = tempfile.NamedTemporaryFile(prefix=".upload-", dir=folder, delete=False)
        self.path = self.file.name
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_BYTES:
            raise TooLarge
        self.digest.update(chunk)
        try:
            self.file.write(chunk)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull from error
            raise

    def close(self) -> None:
        try:
            self.file.close()
        except OSError as error:  # the last buffered bytes did not fit
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull from error
            raise

    def discard(self) -> None:
        self.file.close()
        Path(self.path).unlink(missing_ok=True)


def keep(storage: Storage, key: str, file_type: str, name: str, device_id: int, sink: Sink) -> int:
    """Make the received upload the file at `key` if it may be: the HTTP status to answer.
    The sink is gone afterwards, whatever the answer."""
    try:
        sink.close()
        # Every file but the config is named by the SHA-256 of its bytes: another name is a
        # corrupted or forged upload.
        if file_type != "config" and sink.digest.hexdigest() != name:
            return 400
        if storage.exists(key):
            if file_type == "config":
                return 403  # append-only: what is written stays as it was
            if file_type != "locks" and _intact(storage, key, name):
                return 200  # restic sending again what is stored (a lost answer): nothing changes
            # A lock written again, or a stored file whose bytes no longer match its name (a
            # server stopped mid-write): the upload, checked above, takes its place.
            storage.delete(key)
        return _store(storage, key, file_type, sink)
    except StorageFull:
        services.storage_full(device_id)
        return 507
    finally:
        sink.discard()


def _store(storage: Storage, key: str, file_type: str, sink: Sink) -> int:
    if isinstance(storage, FileSystemStorage):
        os.chmod(sink.path, settings.FILE_UPLOAD_PERMISSIONS or 0o644)
        try:
            os.link(sink.path, storage.path(key))  # atomic, and never replaces a file
        except FileExistsError:  # a concurrent upload of the same name was stored first
            return 403 if file_type == "config" else 200
        return 200
    try:
        with open(sink.path, "rb") as body:
            saved = storage.save(key, File(body))
    except OSError as error:
        # Nothing half-written may stay under a name restic trusts.
        if storage.exists(key):
            storage.delete(key)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull from error
        raise
    if saved != key:
        # A concurrent upload of the same name was stored first; the storage kept this one aside.
        storage.delete(saved)
        if file_type == "config":
            return 403
    return 200


def _intact(storage: Storage, key: str, name: str) -> bool:
    digest = hashlib.sha256()
    with storage.open(key, "rb") as stored:
        while chunk := stored.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == name


def _may_upload(authorization: str, device_id: int) -> int | None:
    """None if this credential may add to the device's repository; else the HTTP status."""
    credential = services.agent_credential(authorization)
    if credential is None:
        return 401
    if credential.device_id != device_id or not BackupRepository.objects.filter(device_id=device_id).exists():
        return 404  # another device's repository, or none yet: as if it did not exist
    return None


class Uploads:
    """ASGI: well-named uploads to a repository, taken here; everything else goes to `django`."""

    def __init__(self, django) -> None:
        self.django = django

    async def __call__(self, scope, receive, send) -> None:
        matched = UPLOAD.fullmatch(scope.get("path", "")) if scope["type"] == "http" else None
        if matched is None or scope["method"] != "POST" or scope.get("query_string"):
            await self.django(scope, receive, send)
            return
        try:
            status = await self._upload(scope, receive, int(matched[1]), matched[2])
        except Disconnected:
            return  # restic went away mid-upload: nothing was kept, and no one to answer
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"0")]
        if status == 401:
            headers.append((b"www-authenticate", REALM.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _upload(self, scope, receive, device_id: int, path: str) -> int:
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
        refused = await database_sync_to_async(_may_upload)(authorization, device_id)
        if refused is not None:
            return refused
        file_type, _slash, name = path.partition("/")
        storage = files.backup_storage()
        key = files.key(device_id, file_type, name)
        sink = await asyncio.to_thread(Sink, storage, key)
        try:
            await _receive_into(receive, sink)
        except StorageFull:
            await asyncio.to_thread(sink.discard)
            await database_sync_to_async(services.storage_full)(device_id)
            return 507
        except TooLarge:
            await asyncio.to_thread(sink.discard)
            return 413
        except BaseException:  # the client went away, or the server is stopping
            await asyncio.to_thread(sink.discard)
            raise
        return await database_sync_to_async(keep)(storage, key, file_type, name, device_id, sink)


class Disconnected(Exception):
    pass


async def _receive_into(receive, sink: Sink) -> None:
    """The request's body into `sink`, a megabyte at a time off the event loop."""
    pending = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        pending += message.get("body", b"")
        more = message.get("more_body", False)
        if len(pending) >= CHUNK or not more:
            await asyncio.to_thread(sink.write, bytes(pending))
            pending.clear()
        if not more:
            return
