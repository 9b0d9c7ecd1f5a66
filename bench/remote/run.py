"""Benchmark of the agents' control connections (issue 6, parts b and c).

One web node (uvicorn serving portico.asgi, as `make demo` and production serve it) against many
agents, each a real websocket client speaking docs/agent-protocol.md from a separate process:

  (b) the server's memory with 10,000 idle agent connections: its resident memory before and
      after they are all connected and welcomed, per connection;
  (c) heartbeats handled per second: every agent sends K heartbeats as fast as it can, then an
      inventory naming the round; the time until the database shows every device's inventory
      (messages of one connection are handled in order) gives the heartbeats handled per second.

    .venv/bin/python bench/remote/run.py                       # 10,000 agents, PostgreSQL bench_remote
    .venv/bin/python bench/remote/run.py --agents 2000 --heartbeats 20

DATABASE_URL picks another PostgreSQL database (created if missing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.remote.common import prepare_database, rss_kib  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--agents", type=int, default=10_000)
parser.add_argument("--heartbeats", type=int, default=10, help="heartbeats each agent sends in part (c)")
parser.add_argument("--heartbeat-agents", type=int, default=1_000, help="agents sending in part (c)")
parser.add_argument("--port", type=int, default=8765)
parser.add_argument("--clients", action="store_true", help=argparse.SUPPRESS)
ARGS = parser.parse_args()

CREDENTIALS = ROOT / "var" / "bench-remote-credentials.json"


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def seed(count: int) -> list[tuple[int, str]]:
    """`count` enrolled devices with known secrets (kept in var/ for the client process)."""
    from django.core.management import call_command
    from django.db import transaction

    from portico import seed as make
    from portico.devices.models import Device
    from portico.remote.models import AgentCredential, hash_secret
    from portico.tenancy.models import Partner

    call_command("migrate", verbosity=0)
    if CREDENTIALS.exists():
        known = [tuple(pair) for pair in json.loads(CREDENTIALS.read_text())]
        if len(known) >= count and AgentCredential.objects.filter(device_id__in=[pk for pk, _ in known]).count() == len(known):
            return known[:count]
    with transaction.atomic():
        partner = Partner.objects.filter(name="Bench Remote MSP").first() or make.partner("Bench Remote MSP")
        org = make.organization(partner, f"Agents {time.time():.0f}")
        devices = Device.objects.bulk_create(
            Device(partner=partner, organization=org, name=f"bench-{n:05d}", os_family="linux") for n in range(count)
        )
        secrets = [f"bench-secret-{device.pk}" for device in devices]
        AgentCredential.objects.bulk_create(
            AgentCredential(device=device, secret_hash=hash_secret(secret)) for device, secret in zip(devices, secrets, strict=True)
        )
    known = [(device.pk, secret) for device, secret in zip(devices, secrets, strict=True)]
    CREDENTIALS.parent.mkdir(exist_ok=True)
    CREDENTIALS.write_text(json.dumps(known))
    return known


# The client process: many agents in one event loop.


async def agents(known: list[tuple[int, str]]) -> None:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{ARGS.port}/agent/v1/control"
    connections = []
    started = time.perf_counter()
    for start in range(0, len(known), 200):  # 200 handshakes at a time
        batch = known[start:start + 200]
        opened = await asyncio.gather(*(
            connect(url, additional_headers={"Authorization": f"Bearer {pk}.{secret}"}, compression=None,
                    ping_interval=None, open_timeout=60)
            for pk, secret in batch
        ))
        for connection in opened:
            assert json.loads(await connection.recv())["type"] == "welcome"
        connections.extend(opened)
    print(json.dumps({"connected": len(connections), "seconds": time.perf_counter() - started}), flush=True)
    sys.stdin.readline()  # the parent measured the server; now the heartbeats

    sending = connections[: ARGS.heartbeat_agents]
    started = time.perf_counter()
    heartbeat = json.dumps({"type": "heartbeat"})
    marker = json.dumps({"type": "inventory", "os_version": "round-2", "agent_version": "bench"})
    await asyncio.gather(*(_send_all(c, [heartbeat] * ARGS.heartbeats + [marker]) for c in sending))
    print(json.dumps({"sent": len(sending) * ARGS.heartbeats, "seconds": time.perf_counter() - started}), flush=True)
    sys.stdin.readline()
    await asyncio.gather(*(c.close() for c in connections))


async def _send_all(connection, messages: list[str]) -> None:
    for message in messages:
        await connection.send(message)


def main() -> None:
    raise_file_limit()
    if ARGS.clients:
        asyncio.run(agents([tuple(pair) for pair in json.loads(CREDENTIALS.read_text())][: ARGS.agents]))
        return
    known = seed(ARGS.agents)
    from django.db import connection

    from portico.devices.models import Device

    Device.objects.filter(pk__in=[pk for pk, _ in known]).update(online=False, os_version="")
    connection.close()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "portico.asgi:application", "--host", "127.0.0.1", "--port", str(ARGS.port),
         "--log-level", "warning", "--backlog", "4096"],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        time.sleep(4)
        idle_before = rss_kib(server.pid)
        clients = subprocess.Popen([sys.executable, __file__, "--clients", "--agents", str(ARGS.agents), "--port",
                                    str(ARGS.port), "--heartbeats", str(ARGS.heartbeats), "--heartbeat-agents",
                                    str(ARGS.heartbeat_agents)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        connected = json.loads(clients.stdout.readline())
        time.sleep(3)
        idle_after = rss_kib(server.pid)
        online = Device.objects.filter(pk__in=[pk for pk, _ in known], online=True).count()
        per = (idle_after - idle_before) / max(connected["connected"], 1)
        print(f"| agents connected | {connected['connected']:,} (online in the database: {online:,}) |")
        print(f"| time to connect them all | {connected['seconds']:.1f} s |")
        print(f"| server RSS before / after | {idle_before / 1024:.0f} MB / {idle_after / 1024:.0f} MB |")
        print(f"| per idle connection | {per:.1f} KiB |", flush=True)

        clients.stdin.write("\n")
        clients.stdin.flush()
        started = time.perf_counter()
        sent = json.loads(clients.stdout.readline())
        senders = [pk for pk, _ in known[: ARGS.heartbeat_agents]]
        while Device.objects.filter(pk__in=senders, os_version="round-2").count() < len(senders):
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        messages = sent["sent"] + len(senders)
        print(f"| heartbeats handled | {sent['sent']:,} from {len(senders):,} agents (and {len(senders):,} "
              f"inventories) in {elapsed:.2f} s: {messages / elapsed:,.0f} messages/s |", flush=True)
        clients.stdin.write("\n")
        clients.stdin.flush()
        clients.wait(timeout=120)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still closing thousands of connections gracefully
            server.kill()
            server.wait()


if __name__ == "__main__":
    if not ARGS.clients:
        import django

        prepare_database()
        django.setup()
    main()
