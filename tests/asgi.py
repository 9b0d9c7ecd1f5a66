"""Portico's ASGI application served for real on loopback, for tests that need a client of their own
(the device agent, restic, a browser) to talk to it."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


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
