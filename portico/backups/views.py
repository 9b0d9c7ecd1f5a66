"""restic's REST protocol (v1 and v2) on each device's own repository, for the device's agent only,
and append-only: the agent adds files and removes its own locks, never anything else.

Names are checked before anything reaches the storage; downloads stream through an async
iterator, as Django under ASGI would otherwise read a whole file into memory before sending it."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.core.files.storage import Storage
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from portico.backups import files, services, uploads
from portico.backups.models import BackupRepository

CHUNK = 1024 * 1024
V2 = "application/vnd.x.restic.rest.v2"
V1 = "application/vnd.x.restic.rest.v1"
REALM = uploads.REALM
RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class BadName(Exception):
    pass


class OutsideTheFile(Exception):
    pass


def _target(path: str) -> tuple[str, str | None] | None:
    """What the path names: None the repository itself, (type, None) a type's listing, (type, name) one file."""
    if path == "":
        return None
    if path == "config":
        return "config", ""
    file_type, slash, name = path.partition("/")
    if not slash or file_type not in files.FILE_TYPES:
        raise BadName
    if name == "":
        return file_type, None
    if not files.NAME.fullmatch(name):
        raise BadName
    return file_type, name


def _status(code: int) -> HttpResponse:
    return HttpResponse(status=code, content_type="text/plain")


@csrf_exempt
def repository(request: HttpRequest, device_id: int, path: str = "") -> HttpResponseBase:
    credential = services.agent_credential(request.headers.get("Authorization", ""))
    if credential is None:
        response = _status(401)
        response["WWW-Authenticate"] = REALM
        return response
    if credential.device_id != device_id:
        return _status(404)
    try:
        target = _target(path)
    except BadName:
        return _status(400)
    if target is None:
        return _repository_root(request, credential)
    if not BackupRepository.objects.filter(device_id=device_id).exists():
        return _status(404)
    file_type, name = target
    storage = files.backup_storage()
    if name is None:
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        return _listing(request, storage, device_id, file_type)
    key = files.key(device_id, file_type, name)
    if request.method in ("GET", "HEAD"):
        return _send(request, storage, key)
    if request.method == "POST":
        return _store(request, storage, key, file_type, name, device_id)
    if request.method == "DELETE":
        return _delete(storage, key, file_type)
    return HttpResponseNotAllowed(["GET", "HEAD", "POST", "DELETE"])


def _repository_root(request: HttpRequest, credential) -> HttpResponse:
    if request.method == "POST" and request.GET.get("create") == "true":
        services.create_repository(credential)
        return _status(200)
    if request.method == "DELETE":  # removing the whole repository: never the agent's to do
        return _status(403)
    return HttpResponseNotAllowed(["POST"])


def _listing(request: HttpRequest, storage: Storage, device_id: int, file_type: str) -> HttpResponse:
    found = files.listing(storage, device_id, file_type)
    if V2 in request.headers.get("Accept", ""):
        return HttpResponse(json.dumps([{"name": name, "size": size} for name, size in found]), content_type=V2)
    return HttpResponse(json.dumps([name for name, _size in found]), content_type=V1)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, length) of a single `Range: bytes=...`; None to send everything (no header, or one
    this server does not read, which HTTP lets it ignore). OutsideTheFile when it asks for none of it."""
    matched = RANGE.fullmatch(header.strip())
    if not matched or matched.group(1) == matched.group(2) == "":
        return None
    first, last = matched.groups()
    if first == "":  # the last `last` bytes
        length = min(int(last), size)
        if not length:
            raise OutsideTheFile
        return size - length, length
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise OutsideTheFile
    return start, end - start + 1


async def _chunks(opened: files.Readable, length: int) -> AsyncIterator[bytes]:
    # Not in the thread of sync views (thread_sensitive=False): a slow reader holds no one else up.
    read = sync_to_async(opened.read, thread_sensitive=False)
    try:
        while length > 0:
            chunk = await read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        await sync_to_async(opened.close, thread_sensitive=False)()


def _send(request: HttpRequest, storage: Storage, key: str) -> HttpResponseBase:
    size = files.size(storage, key)
    if size is None:
        return _status(404)
    try:
        wanted = _byte_range(request.headers.get("Range", ""), size)
    except OutsideTheFile:
        refused = _status(416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    start, length = wanted or (0, size)
    status = 206 if wanted else 200
    response: HttpResponseBase
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type="application/octet-stream")
    else:
        response = StreamingHttpResponse(
            _chunks(files.read(storage, key, start, length), length), status=status,
            content_type="application/octet-stream",
        )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    return response


def _store(request: HttpRequest, storage: Storage, key: str, file_type: str, name: str, device_id: int) -> HttpResponse:
    """An upload that reached Django (served without portico.asgi's Uploads, e.g. by a test
    client): the same checks, after Django read the body."""
    sink = uploads.Sink(storage, key)
    try:
        while chunk := request.read(uploads.CHUNK):
            sink.write(chunk)
    except (uploads.StorageFull, uploads.TooLarge) as error:
        sink.discard()
        if isinstance(error, uploads.TooLarge):
            return _status(413)
        services.storage_full(device_id)
        return _status(507)
    return _status(uploads.keep(storage, key, file_type, name, device_id, sink))


def _delete(storage: Storage, key: str, file_type: str) -> HttpResponse:
    if file_type != "locks":
        return _status(403)
    if not storage.exists(key):
        return _status(404)
    storage.delete(key)
    return _status(200)
