"""Device repositories in S3-compatible object storage: django-storages against moto's S3 server on
loopback. The real restic backs up through Portico into a bucket, and the server's own restic opens
the same repository there directly."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import tracemalloc
import uuid

import boto3
import pytest

from portico.backups import files
from portico.backups.location import restic_repository
from portico.backups.tests.support import Restic, call, named, post, round_trip

pytestmark = pytest.mark.django_db(transaction=True)

V2 = "application/vnd.x.restic.rest.v2"
CREDENTIALS = {"access_key": "portico-test", "secret_key": "portico-test-secret", "region_name": "eu-west-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(process: subprocess.Popen, port: int) -> bool:
    """Whether the server came up; False when it exited (its port was taken meanwhile)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return True
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    return False


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3-compatible server (moto[server]) in a process of its own: its URL. Without the
    package the tests skip, except in CI (CI set), where they fail."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("CI is set but moto's server is not installed: `make install` installs moto[server]")
        pytest.skip("moto's server is not installed (pip install 'moto[server]'); CI runs these tests")
    log = tmp_path_factory.mktemp("moto") / "server.log"
    # A free port may be taken again before the server binds it: then another.
    for _attempt in range(3):
        port = _free_port()
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=output, stderr=subprocess.STDOUT,
            )
        if _answers(process, port):
            break
        process.kill()
        process.wait()
    else:
        raise RuntimeError(f"moto's server did not start: {log.read_text()[-2000:]}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def backup_storage(settings, s3_server):
    """Replaces the folder of conftest.py: each test's repositories in a bucket of its own, under
    the prefix `backups`. The bucket, to look into."""
    bucket = boto3.resource(
        "s3", endpoint_url=s3_server, aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"], region_name=CREDENTIALS["region_name"],
    ).Bucket(f"portico-{uuid.uuid4().hex[:12]}")
    bucket.create(CreateBucketConfiguration={"LocationConstraint": CREDENTIALS["region_name"]})
    settings.BACKUP_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": bucket.name, "endpoint_url": s3_server, "location": "backups", **CREDENTIALS},
    }
    return bucket


def test_a_backup_through_portico_lands_in_the_bucket_as_a_repository_the_server_opens(
    agent_restic, restic, backup_storage, s3_server, tmp_path
):
    device = agent_restic.device
    source = tmp_path / "documents"
    (source / "letters").mkdir(parents=True)
    (source / "notes.txt").write_text("the quarterly report is in letters/\n")
    (source / "letters" / "draft.md").write_text("# Dear customer\n" * 200)
    # Past s3transfer's 8 MB threshold, so a pack goes up in parts.
    (source / "scan.raw").write_bytes(os.urandom(12 * 1024 * 1024))

    round_trip(agent_restic, source, tmp_path / "restored")

    # restic's own layout under the storage's prefix, data in two-hex-digit folders.
    keys = [entry.key for entry in backup_storage.objects.filter(Prefix=f"backups/{device.pk}/")]
    assert {key.split("/")[2] for key in keys} == {"config", "data", "keys", "snapshots", "index"}
    assert all(key.split("/")[4].startswith(key.split("/")[3]) for key in keys if key.split("/")[2] == "data")

    repository, environment = restic_repository(device.pk)
    assert repository == f"s3:{s3_server}/{backup_storage.name}/backups/{device.pk}"
    assert environment == {
        "AWS_ACCESS_KEY_ID": "portico-test", "AWS_SECRET_ACCESS_KEY": "portico-test-secret",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    server_restic = Restic(restic, repository, tmp_path / "server-cache")
    server_restic.env.update(environment)
    on_the_server = server_restic("snapshots", "--json")
    assert on_the_server.returncode == 0, on_the_server.stderr
    from_the_agent = agent_restic("snapshots", "--json")
    assert [s["id"] for s in json.loads(on_the_server.stdout)] == [s["id"] for s in json.loads(from_the_agent.stdout)]
    listed = server_restic("ls", "latest", "--json")
    assert listed.returncode == 0, listed.stderr
    assert str(source / "letters" / "draft.md") in listed.stdout


def test_listings_give_each_file_its_size_from_the_bucket(asgi_server, laptop, backup_storage):
    device, authorization = laptop
    packs = [os.urandom(size) for size in (1, 70_000, 3)] + [b""]
    for pack in packs:
        assert post(asgi_server, device, authorization, f"data/{named(pack)}", pack).status == 200
    key = os.urandom(439)
    assert post(asgi_server, device, authorization, f"keys/{named(key)}", key).status == 200
    # Not restic's: a file outside the two-hex-digit folders, and a folder of another name.
    backup_storage.put_object(Key=f"backups/{device.pk}/data/{named(b'x')}", Body=b"x")
    backup_storage.put_object(Key=f"backups/{device.pk}/data/zz/{named(b'y')}", Body=b"y")

    data = call(asgi_server, "GET", f"/backups/v1/{device.pk}/data/", authorization=authorization, Accept=V2)
    keys = call(asgi_server, "GET", f"/backups/v1/{device.pk}/keys/", authorization=authorization, Accept=V2)
    empty = call(asgi_server, "GET", f"/backups/v1/{device.pk}/snapshots/", authorization=authorization, Accept=V2)

    assert json.loads(data.body) == sorted(
        ({"name": named(pack), "size": len(pack)} for pack in packs), key=lambda entry: entry["name"]
    )
    assert json.loads(keys.body) == [{"name": named(key), "size": 439}]
    assert json.loads(empty.body) == []


def test_a_listing_of_thousands_of_packs_asks_the_bucket_for_pages_not_for_each_file(laptop, backup_storage):
    device, _authorization = laptop
    names = sorted(named(str(number).encode()) for number in range(1_001))
    for name in names:
        backup_storage.put_object(Key=f"backups/{device.pk}/data/{name[:2]}/{name}", Body=b"12345")
    storage = files.backup_storage()
    asked = []
    storage.connection.meta.client.meta.events.register(
        "before-call.s3", lambda model, **kwargs: asked.append(model.name)
    )

    listed = files.listing(storage, device.pk, "data")

    assert listed == [(name, 5) for name in names]
    assert asked == ["ListObjects", "ListObjects"]  # S3 pages hold 1,000 keys


def test_a_file_in_the_bucket_is_never_overwritten(asgi_server, laptop, backup_storage):
    device, authorization = laptop
    index = b'{"packs": []}'
    assert post(asgi_server, device, authorization, f"index/{named(index)}", index).status == 200
    config = b"the repository's config"
    assert post(asgi_server, device, authorization, "config", config).status == 200

    assert post(asgi_server, device, authorization, f"index/{named(index)}", index).status == 200  # a retry
    assert post(asgi_server, device, authorization, f"index/{named(index)}", b"forged").status == 400
    assert post(asgi_server, device, authorization, "config", b"another config").status == 403

    stored = backup_storage.Object(f"backups/{device.pk}/config").get()["Body"].read()
    assert stored == config
    assert backup_storage.Object(f"backups/{device.pk}/index/{named(index)}").content_length == len(index)


def test_ranges_are_read_from_the_bucket(asgi_server, laptop):
    device, authorization = laptop
    pack = os.urandom(3 * 1024 * 1024 + 17)
    path = f"/backups/v1/{device.pk}/data/{named(pack)}"
    assert post(asgi_server, device, authorization, f"data/{named(pack)}", pack).status == 200

    middle = call(asgi_server, "GET", path, authorization=authorization, Range="bytes=1048570-2097160")
    tail = call(asgi_server, "GET", path, authorization=authorization, Range="bytes=-17")
    whole = call(asgi_server, "GET", path, authorization=authorization)
    head = call(asgi_server, "HEAD", path, authorization=authorization)

    assert (middle.status, middle.body) == (206, pack[1048570:2097161])
    assert middle.headers["Content-Range"] == f"bytes 1048570-2097160/{len(pack)}"
    assert (tail.status, tail.body) == (206, pack[-17:])
    assert (whole.status, whole.body) == (200, pack)
    assert (head.status, head.headers["Content-Length"]) == (200, str(len(pack)))
    missing = call(asgi_server, "GET", f"/backups/v1/{device.pk}/data/{named(b'none')}", authorization=authorization)
    assert missing.status == 404


def test_a_range_of_a_large_pack_streams_from_the_bucket_without_being_held_whole(laptop, backup_storage):
    device, _authorization = laptop
    name = named(b"large")  # the name is not checked here: the bytes go straight into the bucket
    backup_storage.put_object(Key=f"backups/{device.pk}/data/{name[:2]}/{name}", Body=os.urandom(40 * 1024 * 1024))
    storage = files.backup_storage()
    key = files.key(device.pk, "data", name)
    assert files.size(storage, key) == 40 * 1024 * 1024  # and boto3's client is made, outside the count

    tracemalloc.start()
    try:
        opened = files.read(storage, key, 1024, 32 * 1024 * 1024)
        received = 0
        while chunk := opened.read(1024 * 1024):
            received += len(chunk)
        opened.close()
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert received == 32 * 1024 * 1024
    assert peak < 8 * 1024 * 1024  # S3Storage's own file would download all 40 MB first


def test_the_server_s_restic_finds_aws_itself_without_an_endpoint(settings, monkeypatch, backup_storage):
    for variable in (
        "AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", "AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    ):
        monkeypatch.delenv(variable, raising=False)
    settings.BACKUP_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "msp-backups", "region_name": "eu-central-1", "location": "portico/"},
    }

    repository, environment = restic_repository(42)

    assert repository == "s3:https://s3.eu-central-1.amazonaws.com/msp-backups/portico/42"
    assert environment == {"AWS_DEFAULT_REGION": "eu-central-1"}


def test_settings_take_the_bucket_from_the_environment(settings):
    environment = {
        "PATH": os.environ.get("PATH", ""), "BACKUP_S3_BUCKET": "msp-backups",
        "BACKUP_S3_ENDPOINT_URL": "http://minio:9000", "BACKUP_S3_REGION": "eu-west-1",
        "BACKUP_S3_ACCESS_KEY_ID": "portico", "BACKUP_S3_SECRET_ACCESS_KEY": "secret",
    }
    printed = subprocess.run(
        [sys.executable, "-c", "import json, portico.settings as s; print(json.dumps(s.BACKUP_STORAGE))"],
        env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60, check=True,
    )

    assert json.loads(printed.stdout) == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "msp-backups", "location": "backups", "endpoint_url": "http://minio:9000",
            "region_name": "eu-west-1", "access_key": "portico", "secret_key": "secret",
        },
    }
