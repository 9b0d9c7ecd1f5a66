"""Benchmark of device backups (issue 7's performance goals) on bench/backups/tree.py's tree of
100,000 files, ~620 MB, with the real restic and a real agent.

  backups  restic's `init`, first and unchanged `backup` through Portico's REST endpoint (uvicorn
           serving portico.asgi, PostgreSQL) against the same with `rclone serve restic
           --append-only`, alternating Portico, rclone, Portico, rclone… (goal: ≤ 10 % slower);
  uploads  what one 16 MiB pack upload costs each server, in time and in the server's CPU, with
           uvicorn alone receiving it as Portico does (bench/backups/floor.py) between the two;
  agent    the same first and three unchanged backups through the whole path: "Back up now"
           posted to the server, `backup.run` to a `portico-agent run` process, until the run is
           recorded (browse and restore use its snapshots, so they run it too);
  browse   indexing the agent's 100k-file snapshots (portico.backups.index.synchronise), then
           p50/p95 of a folder's first page (index.folder, and the page through Django's test
           client as an end user with the restore right), a deep page, and searches of names
           (goal: ≤ 100 ms server time);
  restore  one file end to end: the restore form posted to the server, until the file is on
           disk and the run recorded succeeded (goal: ≤ 2 s), alternating with plain
           `restic restore --include` of the same file from the same repository.

    apt-get install -y restic rclone                     # once
    .venv/bin/python bench/backups/run.py                # all of it, PostgreSQL portico_bench_backups
    .venv/bin/python bench/backups/run.py --rounds 8 --only backups
    .venv/bin/python bench/backups/run.py --report var/bench-backups/results-*.json   # tables again, rounds pooled

DATABASE_URL picks another PostgreSQL database; it is dropped and made again at every start. The
tree, the repositories and restic's caches are kept in var/bench-backups/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import warnings
from datetime import datetime
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.backups.settings"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portico_bench_backups")
from bench.backups import tree  # noqa: E402
from bench.remote.common import prepare_database, rss_kib  # noqa: E402

PARTS = ("backups", "uploads", "agent", "browse", "restore")
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--rounds", type=int, default=4, help="rounds of Portico then rclone backups")
parser.add_argument("--runs", type=int, default=50, help="runs of each browse case")
parser.add_argument("--restores", type=int, default=5, help="restores of each kind")
parser.add_argument("--only", default=",".join(PARTS), help=f"some of {','.join(PARTS)}")
parser.add_argument("--report", type=Path, nargs="+", metavar="JSON",
                    help="print the tables of earlier runs' results files (their backup rounds pooled)")
ARGS = parser.parse_args()
ONLY = set(ARGS.only.split(","))

BENCH = ROOT / "var" / "bench-backups"
TREE = tree.DEFAULT_DIR
CLIENT_CACHE = BENCH / "client-cache"
RCLONE_DIR = BENCH / "rclone"
RESTORED = BENCH / "restored"
RESULTS: dict = {"started": datetime.now().isoformat(timespec="seconds")}
# DEBUG is off, as in production, and no one collected static files for this checkout.
warnings.filterwarnings("ignore", message="No directory at")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"{process.args[0]} ended with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"nothing answered on port {port}"
            time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p50_p95(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def require_tools() -> None:
    missing = [name for name in ("restic", "rclone") if shutil.which(name) is None]
    if missing:
        sys.exit(f"missing: {' '.join(missing)}; install with `apt-get install -y {' '.join(missing)}`")


def fresh_database() -> None:
    """DATABASE_URL's database, dropped and made again, migrated."""
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    with psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username, dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    prepare_database()


def clean_bench_folder() -> None:
    for name in ("repositories", "rclone", "client-cache", "restored", "server-restic-cache", "agent"):
        shutil.rmtree(BENCH / name, ignore_errors=True)
    (BENCH / "huey.sqlite3").unlink(missing_ok=True)


# restic, as a person runs it.


class Restic:
    """restic against one repository, its key and its cache given through the environment."""

    def __init__(self, repository: str, password: str, cache: Path) -> None:
        self.env = {"PATH": os.environ["PATH"], "HOME": str(BENCH), "RESTIC_REPOSITORY": repository,
                    "RESTIC_PASSWORD": password, "RESTIC_CACHE_DIR": str(cache)}

    def timed(self, *args: str) -> tuple[float, float, str]:
        """(wall seconds, restic's CPU seconds, stdout)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(["restic", *args], env=self.env, capture_output=True, text=True, timeout=900)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert done.returncode == 0, f"restic {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}"
        return seconds, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), done.stdout


def summary_of(output: str) -> dict:
    for line in reversed(output.splitlines()):
        if '"message_type":"summary"' in line:
            return json.loads(line)
    raise AssertionError("restic gave no summary")


def folder_bytes(folder: Path) -> int:
    return sum(entry.stat().st_size for entry in folder.rglob("*") if entry.is_file())


def backup_steps(restic: Restic, server_pid: int) -> dict:
    """init, first backup, unchanged backup: wall and CPU seconds of restic and of the server."""
    steps = {}
    for step, args in (("init", ("init",)), ("first", ("backup", "--json", str(TREE))),
                       ("unchanged", ("backup", "--json", str(TREE)))):
        server_before, load = cpu_seconds(server_pid), os.getloadavg()[0]
        seconds, client_cpu, output = restic.timed(*args)
        steps[step] = {"seconds": seconds, "restic_cpu": client_cpu, "server_cpu": cpu_seconds(server_pid) - server_before,
                       "load_before": load}
        if step != "init":
            summary = summary_of(output)
            steps[step] |= {name: summary.get(name) for name in ("files_new", "files_unmodified", "data_added")}
    return steps


# The people, devices and the server.


class World:
    def __init__(self) -> None:
        from portico import seed
        from tests.support import PASSWORD

        stamp = time.strftime("%H%M%S")
        self.partner = seed.partner(f"Bench Backups MSP {stamp}")
        self.org = seed.organization(self.partner, "Backed Up")
        self.owner = seed.staff(seed.person(f"owner-{stamp}@backups.example", PASSWORD), self.partner, "owner")
        self.user = seed.end_user(seed.person(f"user-{stamp}@backups.example", PASSWORD), self.org)

    def device(self, hostname: str):
        """A device enrolled as its agent would be, backup on for the tree: (device, secret, key)."""
        from portico.backups import services
        from portico.notifications import secrets
        from portico.remote import services as remote

        _token, raw = remote.create_enrolment_token(self.owner, self.org)
        device, secret = remote.enrol(remote.Enrolment(token=raw, hostname=hostname, os_family="linux"))
        choice = services.PolicyChoice(paths=[str(TREE)], exclude=[], interval_hours=168, start_time=clock(1),
                                       keep_last=10, keep_daily=0, keep_weekly=0, keep_monthly=0)
        policy = services.set_policy(self.owner, device, choice)
        return device, secret, secrets.decrypt(policy.password_sealed)


class Server:
    """uvicorn serving portico.asgi in a process of its own, as `make demo` and production run it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (BENCH / "server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "portico.asgi:application", "--host", "127.0.0.1", "--port",
             str(self.port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process)

    def repository(self, device_id: int, secret: str) -> str:
        return f"rest:http://{device_id}:{secret}@127.0.0.1:{self.port}/backups/v1/{device_id}/"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Agent:
    """`portico-agent run` for an enrolled device, its state file written as `enrol` writes it."""

    def __init__(self, server: Server, device, secret: str) -> None:
        from portico_agent import state

        from portico.devices.models import Device

        folder = BENCH / "agent"
        state.save(state.AgentState(server=server.url, device_id=device.pk, credential=secret), folder / "state.json")
        self.log = folder / "agent.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portico_agent", "-v", "run", "--state", str(folder / "state.json")],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 30
        while not Device.objects.filter(pk=device.pk, online=True).exists():
            assert self.process.poll() is None and time.monotonic() < deadline, self.log.read_text()[-2000:]
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


SIGNED_IN: dict = {}


def signed_in(membership):
    """Django's test client signed in as `membership` through the real pages, once: a second
    sign-in within the same 30 s would offer a TOTP code already used, which is refused."""
    from django.test import Client

    from tests.support import sign_in

    if membership.pk not in SIGNED_IN:
        SIGNED_IN[membership.pk] = sign_in(Client(), membership)
    return SIGNED_IN[membership.pk]


def browser(server: Server, membership):
    """A requests session signed in as `membership` on the real server: it carries the test
    client's session (kept in the database)."""
    import requests

    client = signed_in(membership)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value, domain="127.0.0.1")
    return session


def open_page(session, server: Server, page: str) -> str:
    """Open `page` as the person's browser has before they click: the form's CSRF token."""
    opened = session.get(server.url + page)
    assert opened.status_code == 200, opened.status_code
    return session.cookies.get("csrftoken")


def post_form(session, server: Server, action: str, token: str, data: dict):
    """The click: the form posted, its answer (a redirect) not followed."""
    return session.post(server.url + action, data={**data, "csrfmiddlewaretoken": token}, allow_redirects=False)


def until(check, timeout: float, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(interval)
    return found


# The parts.


def read_tree() -> float:
    """Read every file once, so that the first backup measured finds the tree in the page cache as
    the others do."""
    started = time.perf_counter()
    for folder, _folders, names in os.walk(TREE):
        for name in names:
            with open(os.path.join(folder, name), "rb") as file:
                while file.read(1 << 20):
                    pass
    return time.perf_counter() - started


def part_backups(world: World, server: Server) -> None:
    RESULTS["tree_read_seconds"] = read_tree()
    rows = []
    for round_number in range(1, ARGS.rounds + 1):
        device, secret, password = world.device(f"bench-round-{round_number}")
        portico = Restic(server.repository(device.pk, secret), password, CLIENT_CACHE / f"portico-{round_number}")
        result = {"round": round_number, "portico": backup_steps(portico, server.process.pid)}
        result["portico"]["stored_bytes"] = folder_bytes(BENCH / "repositories" / str(device.pk))
        folder = RCLONE_DIR / str(round_number)
        folder.mkdir(parents=True)
        port = free_port()
        rclone = subprocess.Popen(["rclone", "serve", "restic", "--addr", f"127.0.0.1:{port}", "--append-only",
                                   str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, rclone)
            plain = Restic(f"rest:http://127.0.0.1:{port}/", password, CLIENT_CACHE / f"rclone-{round_number}")
            result["rclone"] = backup_steps(plain, rclone.pid)
        finally:
            rclone.terminate()
            rclone.wait(timeout=30)
        result["rclone"]["stored_bytes"] = folder_bytes(folder)
        rows.append(result)
        print(f"round {round_number}: " + json.dumps(result), flush=True)
        # Each round starts from empty repositories and caches; the disk keeps only the tree.
        shutil.rmtree(folder)
        shutil.rmtree(BENCH / "repositories" / str(device.pk))
        shutil.rmtree(CLIENT_CACHE)
    RESULTS["backups"] = rows


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds so far of a process's main thread (uvicorn's event loop) and of all its other
    threads, those that ended included."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    main = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return main, cpu_seconds(pid) - main


def user_system_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds so far of a whole process, apart."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def post_packs(url: str, auth: tuple[str, str] | None, packs: list[bytes]) -> list[float]:
    """Seconds of each POST of a pack to a REST repository, one after the other, as restic names them."""
    import hashlib

    import requests

    session = requests.Session()
    times = []
    for pack in packs:
        started = time.perf_counter()
        answer = session.post(f"{url}data/{hashlib.sha256(pack).hexdigest()}", data=pack, auth=auth)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.status_code
    return times


def timed_posts(server: str, round_number: int, pid: int, url: str, auth, packs: list[bytes]) -> dict:
    """The packs posted to one server: time per POST, and the server's CPU (the event loop thread
    apart from the others for uvicorn, user apart from system for the whole process)."""
    threads_before, cpu_before = thread_cpu_seconds(pid), user_system_seconds(pid)
    times = post_packs(url, auth, packs)
    threads = [after - before for after, before in zip(thread_cpu_seconds(pid), threads_before, strict=True)]
    cpu = [after - before for after, before in zip(user_system_seconds(pid), cpu_before, strict=True)]
    row = {"round": round_number, "server": server, "median_ms": statistics.median(times) * 1000, "seconds": sum(times),
           "event_loop_cpu": threads[0], "other_threads_cpu": threads[1], "user_cpu": cpu[0], "system_cpu": cpu[1]}
    if server == "rclone":  # Go's threads are not uvicorn's: the whole process in one
        row |= {"event_loop_cpu": sum(threads), "other_threads_cpu": 0.0}
    return row


def part_uploads(world: World, server: Server) -> None:
    """What one pack upload costs each server: 20 packs of 16 MiB of random bytes (restic 0.14's
    pack size) posted one after the other into an empty repository, twice to each of Portico,
    uvicorn alone receiving them as Portico does (bench/backups/floor.py: hashed, written, not
    kept) and rclone."""
    import random

    import requests

    packs = [random.Random(n).randbytes(16 << 20) for n in range(20)]
    rows = []
    for round_number in (1, 2):
        device, secret, password = world.device(f"bench-uploads-{round_number}")
        url = f"{server.url}/backups/v1/{device.pk}/"
        assert requests.post(f"{url}?create=true", auth=(str(device.pk), secret)).status_code == 200
        rows.append(timed_posts("portico", round_number, server.process.pid, url, (str(device.pk), secret), packs))
        shutil.rmtree(BENCH / "repositories" / str(device.pk))
        port = free_port()
        floor = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.backups.floor:app", "--host", "127.0.0.1",
                                  "--port", str(port), "--log-level", "warning"], cwd=ROOT)
        try:
            wait_for_port(port, floor)
            rows.append(timed_posts("uvicorn alone", round_number, floor.pid, f"http://127.0.0.1:{port}/", None, packs))
        finally:
            floor.terminate()
            floor.wait(timeout=30)
        folder = RCLONE_DIR / f"uploads-{round_number}"
        folder.mkdir(parents=True)
        port = free_port()
        rclone = subprocess.Popen(["rclone", "serve", "restic", "--addr", f"127.0.0.1:{port}", "--append-only",
                                   str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, rclone)
            Restic(f"rest:http://127.0.0.1:{port}/", password, CLIENT_CACHE / "uploads").timed("init")
            rows.append(timed_posts("rclone", round_number, rclone.pid, f"http://127.0.0.1:{port}/", None, packs))
        finally:
            rclone.terminate()
            rclone.wait(timeout=30)
        shutil.rmtree(folder)
        for row in rows[-3:]:
            print(f"uploads: {json.dumps(row)}", flush=True)
    RESULTS["uploads"] = rows


def part_agent(world: World, server: Server, device, agent: Agent) -> None:
    from django.urls import reverse

    from portico.backups.models import BackupRun, RunKind, RunState

    session = browser(server, world.owner)
    runs = []
    for step in ("first", "unchanged", "unchanged", "unchanged"):
        known = set(BackupRun.objects.filter(device=device).values_list("pk", flat=True))
        server_before = cpu_seconds(server.process.pid)
        token = open_page(session, server, reverse("devices:detail", args=[device.pk]))
        started = time.perf_counter()
        answer = post_form(session, server, reverse("backups:back_up_now", args=[device.pk]), token, {})
        assert answer.status_code == 302, answer.status_code
        run = until(lambda known=known: BackupRun.objects.filter(device=device, kind=RunKind.BACKUP)
                    .exclude(pk__in=known).exclude(state=RunState.RUNNING).first(), timeout=600, interval=0.05)
        seconds = time.perf_counter() - started
        assert run.state == RunState.SUCCEEDED, (run.state, run.message)
        runs.append({"step": step, "seconds": seconds, "server_cpu": cpu_seconds(server.process.pid) - server_before,
                     "recorded_seconds": (run.finished_at - run.created_at).total_seconds(), **run.summary})
        print(f"agent backup: {json.dumps(runs[-1])}", flush=True)
    RESULTS["agent"] = runs


def part_index(device, password: str) -> None:
    """The server's indexing of the agent's snapshots, and what restic alone takes to list them
    (`snapshots`, then `ls` of each), its floor."""
    from portico.backups import index, restic
    from portico.backups.models import Snapshot, SnapshotEntry

    started = time.perf_counter()
    indexed = index.synchronise(device, password)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    for snapshot in restic.run_json(device.pk, password, "snapshots"):
        for _line in restic.lines(device.pk, password, "ls", snapshot["id"]):
            pass
    RESULTS["index"] = {
        "seconds": seconds, "snapshots": len(indexed), "rows": SnapshotEntry.objects.filter(device=device).count(),
        "files_per_snapshot": [snapshot.file_count for snapshot in Snapshot.objects.filter(device=device)],
        "restic_listing_seconds": time.perf_counter() - started,
    }
    print(f"index: {json.dumps(RESULTS['index'])}", flush=True)


def timed_runs(call, runs: int) -> dict:
    for _warm_up in range(3):
        call()
    times = []
    for _run in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    p50, p95 = p50_p95(times)
    return {"p50_ms": p50, "p95_ms": p95, "runs": runs}


def part_browse(world: World, device) -> None:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from portico.backups import index
    from portico.backups.models import Snapshot, SnapshotEntry

    snapshot = Snapshot.objects.filter(device=device).order_by("-seq").first()
    big = f"{TREE}/home/ana/Maildir/cur"
    # A small folder: the first of ana's document folders holding 5 to 20 entries.
    small = (SnapshotEntry.objects.filter(device=device, parent__startswith=f"{TREE}/home/ana/Documents/")
             .values("parent").annotate(n=Count("pk")).filter(n__gte=5, n__lte=20).order_by("parent").first()["parent"])
    sizes = {path: index.folder(device, snapshot, path).count() for path in (big, small)}
    client = signed_in(world.user)
    page = reverse("backups:portal_browse", args=[device.pk])
    cases = []

    def case(name: str, call, count_queries=None) -> None:
        result = {"case": name, **timed_runs(call, ARGS.runs)}
        if count_queries is not None:
            with CaptureQueriesContext(connection) as queries:
                count_queries()
            result["queries"] = len(queries)
        cases.append(result)
        print(f"browse: {json.dumps(result)}", flush=True)

    def get(query: dict, expect: str):
        def call():
            response = client.get(page, query)
            assert response.status_code == 200 and expect in response.content.decode(), response.status_code
        return call

    first_of = {path: index.folder(device, snapshot, path).first().name for path in (big, small)}
    for label, path in ((f"big folder ({sizes[big]:,} entries)", big), (f"small folder ({sizes[small]} entries)", small)):
        def function(path=path):
            return list(index.folder(device, snapshot, path)[:101])
        case(f"index.folder, {label}, first page", function, function)
        view = get({"snapshot": snapshot.snapshot_id, "path": path}, first_of[path])
        case(f"page, {label}, first page", view, view)
    deep = get({"snapshot": snapshot.snapshot_id, "path": big, "page": 100}, "Maildir")
    case("page, big folder, page 100 (rows 9,901–10,000)", deep, deep)
    for text, what in (("module_01234", "a name in 10 folders"), ("invoice", "a word in many names"),
                       ("no-such-name", "a name found nowhere")):
        hits = index.search(device, text).count()

        def function(text=text):
            return list(index.search(device, text)[:51])
        case(f"index.search \"{text}\" ({what}, {hits:,} versions)", function, function)
        view = get({"q": text}, text)
        case(f"page, search \"{text}\" ({what}, {hits:,} versions)", view, view)
    RESULTS["browse"] = {"snapshot": snapshot.snapshot_id, "big": big, "small": small, "cases": cases}


class Restores:
    """One file of the agent's newest snapshot restored into a new folder, through Portico (the
    restore form posted to the server, the agent restoring) or by plain restic."""

    def __init__(self, world: World, server: Server, device, secret: str, password: str) -> None:
        from django.urls import reverse

        from portico.backups.models import Snapshot

        self.server, self.device = server, device
        self.snapshot = Snapshot.objects.filter(device=device).order_by("-seq").first()
        self.session = browser(server, world.user)
        self.page = reverse("backups:portal_browse", args=[device.pk])
        self.plain = Restic(server.repository(device.pk, secret), password, CLIENT_CACHE / "plain-restore")

    def through_portico(self, entry, target: Path) -> dict:
        from portico.backups.models import BackupRun, RunKind, RunState

        known = set(BackupRun.objects.filter(device=self.device).values_list("pk", flat=True))
        token = open_page(self.session, self.server, f"{self.page}?snapshot={self.snapshot.snapshot_id}&path={entry.parent}")
        started = time.perf_counter()
        answer = post_form(self.session, self.server, self.page, token, {
            "snapshot": self.snapshot.snapshot_id, "path": entry.parent, "paths": entry.path, "destination": "folder",
            "target": str(target), "conflict": "keep_both",
        })
        posted = time.perf_counter() - started
        assert answer.status_code == 302, answer.text[-2000:]
        restored = target / entry.name
        until(lambda: restored.exists() and restored.stat().st_size == entry.size, timeout=60)
        on_disk = time.perf_counter() - started
        run = until(lambda: BackupRun.objects.filter(device=self.device, kind=RunKind.RESTORE).exclude(pk__in=known)
                    .exclude(state=RunState.RUNNING).first(), timeout=60)
        recorded = time.perf_counter() - started
        assert run.state == RunState.SUCCEEDED, (run.state, run.message)
        return {"post": posted, "on_disk": on_disk, "recorded": recorded}

    def plain_restic(self, entry, target: Path) -> dict:
        seconds, _cpu, _out = self.plain.timed("restore", self.snapshot.snapshot_id, "--target", str(target),
                                               "--include", entry.path)
        assert (target / entry.path.lstrip("/")).stat().st_size == entry.size
        return {"on_disk": seconds}


def part_restore(world: World, server: Server, device, secret: str, password: str) -> None:
    from portico.backups.models import EntryKind, SnapshotEntry

    restores = Restores(world, server, device, secret, password)
    # One document of a typical size, and one photo.
    document = (SnapshotEntry.objects.filter(device=device, kind=EntryKind.FILE, size__gte=4_000, size__lte=40_000,
                                             path__startswith=f"{TREE}/home/ben/Documents/").order_by("path").first())
    photo = SnapshotEntry.objects.filter(device=device, kind=EntryKind.FILE, name__endswith=".jpg").order_by("path").first()
    results = []
    for entry in (document, photo):
        # Untimed once each: restic's cache of the repository's index is warm for both, as on a device.
        restores.through_portico(entry, RESTORED / f"warm-{entry.pk}-portico")
        restores.plain_restic(entry, RESTORED / f"warm-{entry.pk}-plain")
        for n in range(ARGS.restores):
            for kind, restore in (("portico", restores.through_portico), ("plain", restores.plain_restic)):
                timing = restore(entry, RESTORED / f"{entry.pk}-{kind}-{n}")
                results.append({"file": entry.path, "size": entry.size, "kind": kind, **timing})
                print(f"restore: {json.dumps(results[-1])}", flush=True)
    RESULTS["restore"] = results
    shutil.rmtree(RESTORED)


# The report.


def report() -> None:
    print(f"\n## Results ({RESULTS['started']})\n")
    print(f"Machine: {json.dumps(RESULTS.get('machine'))}; load average (1, 5, 15 min) as each part began: "
          f"{json.dumps(RESULTS.get('load_at_start'))}\n")
    tree_info = RESULTS["tree"]
    print(f"Tree: {tree_info['files']:,} files in {tree_info['folders']:,} folders, {tree_info['bytes'] / 1e6:.0f} MB "
          f"({tree_info['text_bytes'] / 1e6:.0f} MB of it text)\n")
    if "backups" in RESULTS:
        rounds = RESULTS["backups"]
        print("| round | server | init s | first backup s | unchanged backup s | init + first s | "
              "server CPU s (first / unchanged) | restic CPU s (first) | load before first | stored MB |")
        print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|")
        for row in rounds:
            for name in ("portico", "rclone"):
                steps = row[name]
                print(f"| {row['round']} | {name} | {steps['init']['seconds']:.2f} | {steps['first']['seconds']:.1f} | "
                      f"{steps['unchanged']['seconds']:.1f} | {steps['init']['seconds'] + steps['first']['seconds']:.1f} | "
                      f"{steps['first']['server_cpu']:.1f} / {steps['unchanged']['server_cpu']:.1f} | "
                      f"{steps['first']['restic_cpu']:.1f} | {steps['first'].get('load_before', float('nan')):.1f} | "
                      f"{steps['stored_bytes'] / 1e6:.0f} |")
        print("\n| step | Portico median s | rclone median s | Portico / rclone (medians) | Portico / rclone, round by round | "
              "CPU s, restic + server (medians): Portico / rclone |")
        print("|---|---:|---:|---:|---|---|")
        for step in ("init", "first", "unchanged", "init + first"):
            def seconds(row: dict, name: str, step: str = step, *fields: str) -> float:
                return sum(row[name][part][field] for part in step.split(" + ") for field in fields or ("seconds",))
            portico = statistics.median(seconds(row, "portico") for row in rounds)
            rclone = statistics.median(seconds(row, "rclone") for row in rounds)
            paired = [(seconds(row, "portico") / seconds(row, "rclone") - 1) * 100 for row in rounds]
            each = (f"median {statistics.median(paired):+.1f} %, over +10 % in {sum(p > 10 for p in paired)} of "
                    f"{len(paired)}" + (": " + " / ".join(f"{p:+.0f} %" for p in paired) if len(paired) <= 8 else ""))
            cpu = [statistics.median(seconds(row, name, step, "restic_cpu", "server_cpu") for row in rounds)
                   for name in ("portico", "rclone")]
            print(f"| {step} | {portico:.2f} | {rclone:.2f} | {(portico / rclone - 1) * 100:+.1f} % | {each} | "
                  f"{cpu[0]:.1f} / {cpu[1]:.1f} ({(cpu[0] / cpu[1] - 1) * 100:+.0f} %) |")
    if "uploads" in RESULTS:
        print("\n| round | server | median ms per 16 MiB POST | 20 POSTs s | server CPU s: event loop thread / others | "
              "server CPU s: user / system |")
        print("|---|---|---:|---:|---|---|")
        for row in RESULTS["uploads"]:
            threads = (f"{row['event_loop_cpu']:.2f} (the whole process)" if row["server"] == "rclone"
                       else f"{row['event_loop_cpu']:.2f} / {row['other_threads_cpu']:.2f}")
            # Runs before the user / system split recorded only the threads.
            split = f"{row['user_cpu']:.2f} / {row['system_cpu']:.2f}" if "user_cpu" in row else "—"
            print(f"| {row['round']} | {row['server']} | {row['median_ms']:.0f} | {row['seconds']:.2f} | {threads} | {split} |")
    if "agent" in RESULTS:
        plain = {}
        if "backups" in RESULTS:
            plain = {"first": statistics.median(row["portico"]["init"]["seconds"] + row["portico"]["first"]["seconds"]
                                                for row in RESULTS["backups"]),
                     "unchanged": statistics.median(row["portico"]["unchanged"]["seconds"] for row in RESULTS["backups"])}
        print("\n| backup through the agent | s (click to recorded) | plain restic through Portico, median s | "
              "server CPU s | files new / unmodified | data added MB |")
        print("|---|---:|---:|---:|---|---:|")
        for run in RESULTS["agent"]:
            step = "init + first" if run["step"] == "first" else run["step"]
            compared = f"{plain[run['step']]:.1f}" if plain else "—"
            print(f"| {step} | {run['seconds']:.1f} | {compared} | {run['server_cpu']:.1f} | "
                  f"{run.get('files_new')} / {run.get('files_unmodified')} | {(run.get('data_added') or 0) / 1e6:.0f} |")
    if "index" in RESULTS:
        found = RESULTS["index"]
        print(f"\nIndexing {found['snapshots']} snapshots ({found['files_per_snapshot']} files): "
              f"{found['seconds']:.1f} s, {found['rows']:,} rows; restic alone lists them in "
              f"{found['restic_listing_seconds']:.1f} s")
    if "browse" in RESULTS:
        print("\n| case | p50 ms | p95 ms | queries |")
        print("|---|---:|---:|---:|")
        for case in RESULTS["browse"]["cases"]:
            print(f"| {case['case']} | {case['p50_ms']:.1f} | {case['p95_ms']:.1f} | {case.get('queries', '')} |")
    if "restore" in RESULTS:
        print("\n| file | path | runs (s) | p50 s | max s |")
        print("|---|---|---|---:|---:|")
        for file in dict.fromkeys(r["file"] for r in RESULTS["restore"]):
            for kind, label in (("portico", "click → file on disk"), ("portico-recorded", "click → run recorded"),
                                ("plain", "plain restic restore --include")):
                key = "recorded" if kind == "portico-recorded" else "on_disk"
                times = [r[key] for r in RESULTS["restore"] if r["file"] == file and r["kind"] == kind.split("-")[0]]
                size = next(r["size"] for r in RESULTS["restore"] if r["file"] == file)
                print(f"| {Path(file).name} ({size / 1e3:,.0f} kB) | {label} | {' / '.join(f'{t:.2f}' for t in times)} | "
                      f"{statistics.median(times):.2f} | {max(times):.2f} |")


def main() -> None:
    if ARGS.report:
        rounds = []
        for results in ARGS.report:
            RESULTS.update(json.loads(results.read_text()))
            rounds += RESULTS.pop("backups", [])
        if rounds:
            RESULTS["backups"] = [{**row, "round": n} for n, row in enumerate(rounds, 1)]
        report()
        return
    require_tools()
    RESULTS["tree"] = tree.ensure(TREE)
    clean_bench_folder()
    fresh_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    RESULTS["machine"] = {"cores": os.cpu_count(), "load": os.getloadavg(),
                          "restic": subprocess.run(["restic", "version"], capture_output=True, text=True).stdout.strip(),
                          "rclone": subprocess.run(["rclone", "version"], capture_output=True, text=True).stdout.split("\n")[0],
                          "postgresql": connection.cursor().connection.info.server_version, "python": sys.version.split()[0]}
    world = World()
    server = Server()
    agent = None
    load = RESULTS["load_at_start"] = {}
    try:
        if "backups" in ONLY:
            load["backups"] = os.getloadavg()
            part_backups(world, server)
        if "uploads" in ONLY:
            load["uploads"] = os.getloadavg()
            part_uploads(world, server)
        # The agent's own backups are the snapshots browsed and restored from.
        if ONLY & {"agent", "browse", "restore"}:
            device, secret, password = world.device("bench-agent")
            from portico import seed
            from portico.access.catalog import BACKUP_RESTORE

            seed.assign(world.user, device)
            seed.grant(world.user, BACKUP_RESTORE)
            agent = Agent(server, device, secret)
            load["agent"] = os.getloadavg()
            part_agent(world, server, device, agent)
            RESULTS["server_rss_mb"] = rss_kib(server.process.pid) / 1024
            load["index"] = os.getloadavg()
            part_index(device, password)
            if "browse" in ONLY:
                load["browse"] = os.getloadavg()
                part_browse(world, device)
            if "restore" in ONLY:
                load["restore"] = os.getloadavg()
                part_restore(world, server, device, secret, password)
    finally:
        if agent is not None:
            agent.stop()
        server.stop()
    report()
    out = BENCH / f"results-{RESULTS['started'].replace(':', '')}.json"
    out.write_text(json.dumps(RESULTS, indent=2, default=str))
    print(f"\n(all figures: {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
