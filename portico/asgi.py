"""ASGI entry point (served by uvicorn): Django's pages over HTTP, and the live connections over
websockets, routed by Channels. Agents authenticate with their own credential, browsers with
their signed-in session."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
django_application = get_asgi_application()  # sets Django up before the consumers are imported

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from portico.backups.uploads import Uploads  # noqa: E402
from portico.remote.consumers import AgentControlConsumer  # noqa: E402
from portico.remote.relay import AgentSessionConsumer, BrowserSessionConsumer  # noqa: E402

# Browsers are signed in by their session cookie, so a page of another site must not open their
# sessions: the Origin header must name one of ALLOWED_HOSTS. Agents send no Origin.
browser_sessions = AllowedHostsOriginValidator(AuthMiddlewareStack(BrowserSessionConsumer.as_asgi()))

application = ProtocolTypeRouter({
    # restic's uploads are taken from the connection and written once; the rest is Django's.
    "http": Uploads(django_application),
    "websocket": URLRouter([
        path("agent/v1/control", AgentControlConsumer.as_asgi()),
        path("agent/v1/sessions/<int:session_id>", AgentSessionConsumer.as_asgi()),
        path("remote/v1/sessions/<str:token>", browser_sessions),
    ]),
})

# What is loaded by now (Django, the apps, the libraries) lives as long as the process. Frozen, it
# is left out of the garbage collector's full collections, which walked all of it every few
# requests: 6 ms of each console page on 2 cores (bench/partner/run.py).
gc.freeze()
