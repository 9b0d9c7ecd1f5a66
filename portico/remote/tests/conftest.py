from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from portico.remote.tests.support import RealAgent


class AsgiServer:
    """Portico's ASGI application served by uvicorn in a thread of the test process, so it shares
    the test database (the tests using it commit: transaction=True)."""

    def __init__(self) -> None:
        from channels.routing import ProtocolTypeRouter
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from portico.asgi import application, django_application

        # Static files served as `runserver` would, for the browser tests' pages.
        application = ProtocolTypeRouter({
            "http": ASGIStaticFilesHandler(django_application),
            "websocket": application.application_mapping["websocket"],
        })

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(application, host="127.0.0.1", port=self.port, ws="websockets-sansio", lifespan="off",
                                log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> AsgiServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def asgi_server(transactional_db):
    # The server's threads close their database connections after each use, as with
    # CONN_MAX_AGE=0, so none is left open when the test database is dropped.
    from django.db import connections

    kept = connections.settings["default"]
    max_age = kept["CONN_MAX_AGE"]
    kept["CONN_MAX_AGE"] = 0
    try:
        with AsgiServer() as server:
            yield server
    finally:
        kept["CONN_MAX_AGE"] = max_age


TEST_USER = "portico-test-user"


@pytest.fixture(scope="session")
def linux_user():
    """An unprivileged account on this machine, for the user command line (RA-3)."""
    import os
    import pwd
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("opening a shell as another user needs root (runuser)")
    try:
        pwd.getpwnam(TEST_USER)
        created = False
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", TEST_USER], check=True)
        created = True
    yield TEST_USER
    if created:  # the machine is left as it was found
        subprocess.run(["userdel", "--remove", TEST_USER], check=False, capture_output=True)


@pytest.fixture
def start_agent(asgi_server, admin, org_a, tmp_path):
    agents: list[RealAgent] = []

    def start(*options: str) -> RealAgent:
        agents.append(RealAgent(asgi_server, admin, org_a, tmp_path / f"agent-{len(agents)}.json", *options))
        return agents[-1]

    yield start
    for agent in agents:
        agent.stop()
