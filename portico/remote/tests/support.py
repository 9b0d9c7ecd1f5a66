"""Helpers of the remote-access tests: waiting on the database the server writes, a real agent
process, and asyncio scenarios run on a loop of their own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.db import OperationalError

from portico.devices.models import Device
from portico.remote import services
from portico.remote.models import RemoteSession


def run(scenario) -> object:
    """Run the coroutine function `scenario` on a loop and thread of its own (the main thread may
    hold a browser driver's loop), within 30 s; return what it returns."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, asyncio.wait_for(scenario(), timeout=30)).result()


def until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except OperationalError:  # SQLite's shared in-memory test database: the server is writing
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def ended_sessions(count: int) -> list[RemoteSession]:
    """The sessions, once `count` of them have their end recorded (the server records it as the page closes)."""
    return until(lambda: RemoteSession.objects.filter(state="ended").count() == count
                  and list(RemoteSession.objects.order_by("pk")))


class RealAgent:
    """`portico-agent` enrolled into `organization` and running with `options`, until the test ends."""

    def __init__(self, server, admin, organization, state: Path, *options: str) -> None:
        _token, raw = services.create_enrolment_token(admin, organization)
        agent = [sys.executable, "-m", "portico_agent"]
        enrolled = subprocess.run([*agent, "enrol", "--server", server.url, "--token", raw, "--state", str(state)],
                                  capture_output=True, text=True, timeout=30)
        assert enrolled.returncode == 0, enrolled.stderr
        self.log = state.with_suffix(".log")
        self.command = [*agent, "-v", "run", "--state", str(state), *options]
        self.process = self._start()
        self.device = until(lambda: Device.objects.filter(organization=organization, online=True).exclude(os_version="").first())

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(
            self.command, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def kill(self) -> None:
        """As a power cut would: SIGKILL, no time to tidy up."""
        self.process.kill()
        self.process.wait()

    def restart(self) -> None:
        """The same device's agent again (its state file kept), once it is back online."""
        Device.objects.filter(pk=self.device.pk).update(online=False)
        self.process = self._start()
        until(lambda: Device.objects.filter(pk=self.device.pk, online=True).exists())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
