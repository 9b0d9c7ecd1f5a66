"""Where the server is and how to reach it: URL checks and the TLS context, shared by enrolment,
the control connection and the sessions' sockets."""

from __future__ import annotations

import ipaddress
import ssl
from urllib.parse import quote, urlsplit, urlunsplit


class InsecureServerError(ValueError):
    """The server URL would send the credential in clear text, or is not a server URL at all."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(url: str) -> str:
    """The server's base URL without a trailing slash; https://, or http:// for a loopback host only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InsecureServerError(f"server URL must look like https://portico.example.com, not {url!r}")
    if parts.query or parts.fragment:
        raise InsecureServerError(f"server URL must not carry a query or fragment: {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InsecureServerError(
            f"refusing plain http:// for {parts.hostname}: the credential would travel in clear text; "
            "use https:// (plain http is accepted only for a loopback server)"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def enrol_url(server: str) -> str:
    return check_server_url(server) + "/agent/v1/enrol"


def control_url(server: str) -> str:
    return _websocket_url(server, "/agent/v1/control")


def session_url(server: str, session: str) -> str:
    """Where the agent serves one session; `session` is the id the server named, already checked
    to hold no character that could leave its path segment."""
    return _websocket_url(server, "/agent/v1/sessions/" + quote(session, safe=""))


def _websocket_url(server: str, path: str) -> str:
    base = check_server_url(server)
    scheme, rest = base.split("://", 1)
    return ("wss" if scheme == "https" else "ws") + "://" + rest + path


def tls_context(server: str, ca_file: str | None) -> ssl.SSLContext | None:
    """A verifying context for an https server (pinned to `ca_file` when given), None for http."""
    if urlsplit(server).scheme != "https":
        return None
    if ca_file:
        return ssl.create_default_context(cafile=ca_file)
    return ssl.create_default_context()
