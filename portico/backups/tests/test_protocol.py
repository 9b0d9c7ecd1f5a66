"""The REST protocol by hand: who may reach a repository, which names pass, and what append-only
refuses (issue 7)."""

from __future__ import annotations

import json
import os

import pytest

from portico.backups.models import BackupRepository
from portico.backups.tests.support import basic, call, named, post
from portico.remote import services as remote

pytestmark = pytest.mark.django_db(transaction=True)

V2 = "application/vnd.x.restic.rest.v2"


def test_nothing_but_create_before_the_repository_exists(asgi_server, enrol):
    device, secret = enrol("laptop-01")
    authorization = basic(str(device.pk), secret)
    assert call(asgi_server, "HEAD", f"/backups/v1/{device.pk}/config", authorization=authorization).status == 404
    assert call(asgi_server, "GET", f"/backups/v1/{device.pk}/keys/", authorization=authorization).status == 404

    assert call(asgi_server, "POST", f"/backups/v1/{device.pk}/?create=true", authorization=authorization).status == 200
    assert BackupRepository.objects.filter(device=device).exists()
    assert call(asgi_server, "GET", f"/backups/v1/{device.pk}/keys/", authorization=authorization).status == 200


@pytest.mark.parametrize("authorization", [
    "", "Bearer whatever", "Basic not-base64!", basic("x", "y"),
])
def test_no_credential_is_asked_for_one(asgi_server, laptop, authorization):
    device, _authorization = laptop
    reply = call(asgi_server, "GET", f"/backups/v1/{device.pk}/keys/", authorization=authorization)
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="portico-backups"'


def test_a_wrong_or_revoked_secret_is_refused(asgi_server, laptop, admin):
    device, authorization = laptop
    assert call(asgi_server, "GET", f"/backups/v1/{device.pk}/keys/", authorization=basic(str(device.pk), "guess")).status == 401

    remote.revoke_credential(admin, device)
    assert call(asgi_server, "GET", f"/backups/v1/{device.pk}/keys/", authorization=authorization).status == 401


def test_another_devices_agent_gets_nothing(asgi_server, laptop, enrol):
    device, _authorization = laptop
    other, secret = enrol("desktop-02")
    for method, path in [("GET", "keys/"), ("HEAD", "config"), ("POST", "?create=true")]:
        reply = call(asgi_server, method, f"/backups/v1/{device.pk}/{path}", authorization=basic(str(other.pk), secret))
        assert reply.status == 404, (method, path)


@pytest.mark.parametrize("path", [
    "data/../x", "%2e%2e/config", "data/..%2f..%2fconfig", "data/" + "A" * 64, "data/" + "a" * 63,
    "data/" + "a" * 65, "data/" + "g" * 64, "secrets/" + "a" * 64, "keys/" + "a" * 64 + "/x", "config/x", "data",
])
def test_bad_names_are_refused(asgi_server, laptop, path, backup_storage):
    device, authorization = laptop
    for method in ("GET", "POST", "DELETE"):
        reply = call(asgi_server, method, f"/backups/v1/{device.pk}/{path}", authorization=authorization, body=b"x")
        assert reply.status == 400, (method, path, reply.status)
    assert not any(path.is_file() for path in backup_storage.rglob("*"))


def test_a_data_file_must_be_named_by_its_hash(asgi_server, laptop, backup_storage):
    device, authorization = laptop
    body = os.urandom(1000)
    assert post(asgi_server, device, authorization, f"data/{named(b'other bytes')}", body).status == 400
    assert post(asgi_server, device, authorization, f"snapshots/{named(b'other bytes')}", body).status == 400
    assert not any(path.is_file() for path in backup_storage.rglob("*"))

    assert post(asgi_server, device, authorization, f"data/{named(body)}", body).status == 200
    assert (backup_storage / str(device.pk) / "data" / named(body)[:2] / named(body)).read_bytes() == body


def test_what_is_written_cannot_be_overwritten_or_deleted(asgi_server, laptop):
    device, authorization = laptop
    body, forged = b"pack bytes", b"forged bytes"
    for file_type in ("data", "keys", "snapshots", "index"):
        path = f"{file_type}/{named(body)}"
        assert post(asgi_server, device, authorization, path, body).status == 200
        # The same bytes again are restic retrying after a lost answer: accepted, nothing changes.
        assert post(asgi_server, device, authorization, path, body).status == 200
        assert post(asgi_server, device, authorization, path, forged).status == 400
        assert call(asgi_server, "DELETE", f"/backups/v1/{device.pk}/{path}", authorization=authorization).status == 403
        assert call(asgi_server, "GET", f"/backups/v1/{device.pk}/{path}", authorization=authorization).body == body
    assert post(asgi_server, device, authorization, "config", b"the config").status == 200
    assert post(asgi_server, device, authorization, "config", b"another config").status == 403
    assert call(asgi_server, "DELETE", f"/backups/v1/{device.pk}/config", authorization=authorization).status == 403
    assert call(asgi_server, "DELETE", f"/backups/v1/{device.pk}/", authorization=authorization).status == 403
    assert call(asgi_server, "GET", f"/backups/v1/{device.pk}/config", authorization=authorization).body == b"the config"


def test_the_agent_removes_its_own_locks(asgi_server, laptop):
    device, authorization = laptop
    lock = b"a lock"
    path = f"/backups/v1/{device.pk}/locks/{named(lock)}"
    assert post(asgi_server, device, authorization, f"locks/{named(lock)}", lock).status == 200
    assert call(asgi_server, "HEAD", path, authorization=authorization).status == 200
    assert call(asgi_server, "DELETE", path, authorization=authorization).status == 200
    assert call(asgi_server, "HEAD", path, authorization=authorization).status == 404
    assert call(asgi_server, "DELETE", path, authorization=authorization).status == 404


def test_listings_in_both_versions(asgi_server, laptop):
    device, authorization = laptop
    bodies = [b"first pack", b"second pack, longer"]
    for body in bodies:
        assert post(asgi_server, device, authorization, f"data/{named(body)}", body).status == 200

    v2 = call(asgi_server, "GET", f"/backups/v1/{device.pk}/data/", authorization=authorization, Accept=V2)
    assert v2.headers["Content-Type"] == V2
    assert sorted(json.loads(v2.body), key=lambda entry: entry["name"]) == sorted(
        [{"name": named(body), "size": len(body)} for body in bodies], key=lambda entry: entry["name"]
    )
    v1 = call(asgi_server, "GET", f"/backups/v1/{device.pk}/data/", authorization=authorization)
    assert sorted(json.loads(v1.body)) == sorted(named(body) for body in bodies)
    empty = call(asgi_server, "GET", f"/backups/v1/{device.pk}/snapshots/", authorization=authorization, Accept=V2)
    assert json.loads(empty.body) == []


def test_parts_of_a_file_are_read_by_range(asgi_server, laptop):
    device, authorization = laptop
    body = os.urandom(3 * 1024 * 1024 + 17)
    path = f"/backups/v1/{device.pk}/data/{named(body)}"
    assert post(asgi_server, device, authorization, f"data/{named(body)}", body).status == 200

    head = call(asgi_server, "HEAD", path, authorization=authorization)
    assert (head.status, head.headers["Content-Length"], head.body) == (200, str(len(body)), b"")
    whole = call(asgi_server, "GET", path, authorization=authorization)
    assert (whole.status, whole.body) == (200, body)
    middle = call(asgi_server, "GET", path, authorization=authorization, Range="bytes=1048570-2097160")
    assert (middle.status, middle.body) == (206, body[1048570:2097161])
    assert middle.headers["Content-Range"] == f"bytes 1048570-2097160/{len(body)}"
    tail = call(asgi_server, "GET", path, authorization=authorization, Range="bytes=3145000-")
    assert (tail.status, tail.body) == (206, body[3145000:])
    last = call(asgi_server, "GET", path, authorization=authorization, Range="bytes=-10")
    assert (last.status, last.body) == (206, body[-10:])
    beyond = call(asgi_server, "GET", path, authorization=authorization, Range=f"bytes={len(body)}-")
    assert (beyond.status, beyond.headers["Content-Range"]) == (416, f"bytes */{len(body)}")


def test_a_stored_file_that_no_longer_matches_its_name_is_replaced_by_a_good_upload(asgi_server, laptop, backup_storage):
    """A server stopped mid-write can leave a truncated file under a name restic trusts; the
    next upload of the right bytes repairs it instead of being refused for ever."""
    device, authorization = laptop
    body = b"pack bytes" * 1000
    path = f"data/{named(body)}"
    assert post(asgi_server, device, authorization, path, body).status == 200
    stored = backup_storage / str(device.pk) / "data" / named(body)[:2] / named(body)
    stored.write_bytes(body[:100])

    assert post(asgi_server, device, authorization, path, body).status == 200

    assert stored.read_bytes() == body


def test_an_upload_cut_off_midway_leaves_nothing_behind(asgi_server, laptop, backup_storage):
    """Uploads are written as they arrive (portico/backups/uploads.py): one that stops halfway
    keeps no file under its name and no temporary file beside it."""
    import socket

    from portico.remote.tests.support import until

    device, authorization = laptop
    body = os.urandom(4 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", asgi_server.port)) as connection:
        connection.sendall((
            f"POST /backups/v1/{device.pk}/data/{named(body)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {authorization}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body[: len(body) // 2])
    folder = backup_storage / str(device.pk) / "data" / named(body)[:2]
    until(lambda: not folder.exists() or not any(folder.iterdir()))
    assert call(asgi_server, "GET", f"/backups/v1/{device.pk}/data/{named(body)}", authorization=authorization).status == 404
