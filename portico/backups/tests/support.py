"""Speaking restic's REST protocol by hand, byte for byte: http.client keeps paths as written
(`..` included), where other clients would tidy them first."""

from __future__ import annotations

import base64
import http.client
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def call(server, method: str, path: str, *, authorization: str = "", body: bytes = b"", **headers: str) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        sent = {key.replace("_", "-"): value for key, value in headers.items()}
        if authorization:
            sent["Authorization"] = authorization
        connection.request(method, path, body=body if method in ("POST", "PUT") else None, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()
