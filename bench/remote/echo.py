"""Benchmark of a command line's keystroke echo through the whole path (issue 6, part a).

A browser's websocket → the server (uvicorn serving portico.asgi) → the agent (a real
`portico-agent run` process) → bash on a PTY → and back. Each of N single keystrokes is sent once
the previous one's echo came back, and timed from send to echo. A second series runs through a
bare relay: the same client, and a websocket server that writes straight to a PTY of its own, so
the figures can be read against the cost of Python websockets alone on this machine.

    .venv/bin/python bench/remote/echo.py                 # 2,000 keystrokes, PostgreSQL bench_remote
    .venv/bin/python bench/remote/echo.py --keys 500

Run as root (the system command line is a root shell). DATABASE_URL picks another database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.remote.common import prepare_database  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--keys", type=int, default=2_000)
parser.add_argument("--port", type=int, default=8766)
ARGS = parser.parse_args()
KEYS = "abcdefghijklmnopqrstuvwxyz"
LINE = 60  # keystrokes per line, then the line is cleared (Ctrl-U) untimed


def prepare() -> tuple[str, str, object]:
    """An end user allowed the system command line on Linux, their API token, and an enrolment token."""
    from django.core.management import call_command

    from portico import seed
    from portico.access.catalog import CONNECTIONS
    from portico.api.services import create_token
    from portico.identity.models import Membership
    from portico.remote import services

    call_command("migrate", verbosity=0)
    partner = seed.partner(f"Bench Echo MSP {time.time():.0f}")
    org = seed.organization(partner, "Echo")
    owner = seed.staff(seed.person(f"owner-{time.time_ns()}@echo.example"), partner, "owner")
    user = seed.end_user(seed.person(f"user-{time.time_ns()}@echo.example"), org)
    seed.grant(user, CONNECTIONS, "system_cli.linux")
    _token, api_key = create_token(Membership.objects.get(pk=user.pk), "bench")
    _enrolment, enrolment = services.create_enrolment_token(owner, org)
    return api_key, enrolment, user


async def timed_echoes(socket, keys: int, send, receive) -> list[float]:
    """Milliseconds from each keystroke sent to its echo received."""
    timings = []
    for n in range(keys):
        key = KEYS[n % len(KEYS)].encode()
        started = time.perf_counter()
        await send(key)
        seen = b""
        while key not in seen:
            seen += await receive()
        timings.append((time.perf_counter() - started) * 1000)
        if n % LINE == LINE - 1:
            await send(b"\x15")  # Ctrl-U: clear the line, untimed
            await drain(receive)
    return timings


async def drain(receive, quiet: float = 0.05) -> None:
    try:
        while True:
            await asyncio.wait_for(receive(), quiet)
    except TimeoutError:
        pass


async def through_portico(api_key: str, device_id: int, compression: str | None) -> list[float]:
    from websockets.asyncio.client import connect

    base = f"http://127.0.0.1:{ARGS.port}"
    request = urllib.request.Request(
        f"{base}/api/v1/remote-sessions/", method="POST",
        data=json.dumps({"device": device_id, "kind": "system_cli"}).encode(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
    )
    answer = await asyncio.to_thread(lambda: json.loads(urllib.request.urlopen(request).read()))
    socket = await connect(f"ws://127.0.0.1:{ARGS.port}{answer['socket']}", origin=base,
                           additional_headers={"Authorization": f"Bearer {api_key}"}, compression=compression)
    while json.loads(await socket.recv()).get("state") != "ready":
        pass
    await socket.send(json.dumps({"type": "resize", "cols": 200, "rows": 50}))
    await drain(socket.recv, 1.0)  # the shell's prompt
    timings = await timed_echoes(socket, ARGS.keys, socket.send, socket.recv)
    await socket.close()
    return timings


async def through_a_bare_relay() -> list[float]:
    """The same keystrokes through a websocket server that owns a PTY with bash: no Portico."""
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    async def shell(websocket) -> None:
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp("bash", ["bash", "--norc", "-i"])
        loop = asyncio.get_running_loop()
        output: asyncio.Queue[bytes] = asyncio.Queue()
        loop.add_reader(fd, lambda: output.put_nowait(os.read(fd, 65536)))

        async def pump() -> None:
            while True:
                await websocket.send(await output.get())

        pumping = asyncio.ensure_future(pump())
        async for message in websocket:
            os.write(fd, message)
        pumping.cancel()
        loop.remove_reader(fd)
        os.kill(pid, 9)

    async with serve(shell, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None) as socket:
            await drain(socket.recv, 1.0)
            return await timed_echoes(socket, ARGS.keys, socket.send, socket.recv)


def figures(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"| {name} | {len(timings):,} | {statistics.median(timings):.2f} ms | {p99:.2f} ms | "
            f"{ordered[-1]:.2f} ms |")


def main() -> None:
    prepare_database()
    import django

    django.setup()
    api_key, enrolment, user = prepare()
    state = Path(tempfile.mkdtemp()) / "state.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "portico.asgi:application", "--host", "127.0.0.1", "--port", str(ARGS.port),
         "--log-level", "warning"], cwd=ROOT, env=env,
    )
    agent = None
    try:
        time.sleep(4)
        agent_command = shutil.which("portico-agent", path=str(Path(sys.executable).parent)) or "portico-agent"
        subprocess.run([agent_command, "enrol", "--server", f"http://127.0.0.1:{ARGS.port}", "--token", enrolment,
                        "--state", str(state)], check=True, capture_output=True)
        from portico import seed
        from portico.devices.models import Device

        device_id = json.loads(state.read_text())["device_id"]
        seed.assign(user, Device.objects.get(pk=device_id))
        agent = subprocess.Popen([agent_command, "run", "--state", str(state)], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not Device.objects.filter(pk=device_id, online=True).exists():
            assert time.monotonic() < deadline, "the agent did not come online"
            time.sleep(0.2)
        portico = asyncio.run(through_portico(api_key, device_id, None))
        deflated = asyncio.run(through_portico(api_key, device_id, "deflate"))
        bare = asyncio.run(through_a_bare_relay())
        print("| path | keystrokes | p50 | p99 | max |")
        print("|---|---|---|---|---|")
        print(figures("browser → Portico → agent → bash → back", portico))
        print(figures("the same, compressed (permessage-deflate, as browsers offer)", deflated))
        print(figures("the same client → a bare relay owning bash's PTY", bare))
    finally:
        if agent is not None:
            agent.terminate()
            agent.wait(timeout=10)
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
