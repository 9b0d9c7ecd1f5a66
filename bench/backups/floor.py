"""What receiving an upload costs uvicorn itself: an ASGI app that takes a POST's body the way
portico/backups/uploads.py does (a megabyte gathered on the event loop, then hashed with SHA-256
and written to a temporary file in a thread) and keeps nothing, without Django, the database or
the repository. bench/backups/run.py's uploads part serves it with uvicorn beside Portico and
rclone: what Portico spends beyond it is Portico's; what it spends beyond rclone is the Python
server's.

    .venv/bin/python -m uvicorn bench.backups.floor:app --port 8999
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile

CHUNK = 1024 * 1024


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    digest = hashlib.sha256()
    with tempfile.TemporaryFile() as file:
        def write(chunk: bytes) -> None:
            digest.update(chunk)
            file.write(chunk)

        pending = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            pending += message.get("body", b"")
            more = message.get("more_body", False)
            if len(pending) >= CHUNK or not more:
                await asyncio.to_thread(write, bytes(pending))
                pending.clear()
            if not more:
                break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
