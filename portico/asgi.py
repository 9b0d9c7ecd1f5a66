"""ASGI entry point (served by uvicorn): Django's pages over HTTP, and the live connections over
websockets, routed by Channels. Agents authenticate with their own credential, not a session."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
django_application = get_asgi_application()  # sets Django up before the consumers are imported

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from portico.remote.consumers import AgentControlConsumer  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_application,
    "websocket": URLRouter([
        path("agent/v1/control", AgentControlConsumer.as_asgi()),
    ]),
})
