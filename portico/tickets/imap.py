"""Reading a partner's support mailbox over IMAP (TK-7). Fetching never marks or deletes anything:
messages are read with BODY.PEEK[], marked \\Seen only once stored, and stay in the mailbox."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError

CONNECT_TIMEOUT = 20.0
READ_TIMEOUT = 120.0
# One poll holds at most this much mail in memory (always at least one message, however large).
MAX_BATCH_BYTES = 64 * 2**20
FETCH_CHUNK = 50


class MailboxError(Exception):
    """The mailbox could not be read; the message says why in words for the settings page."""


@dataclass(frozen=True)
class MailboxServer:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    use_tls: bool = True
    folder: str = "INBOX"

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class FetchedMessage:
    uidvalidity: int
    uid: int
    raw: bytes = field(repr=False)


def fetch_since(
    server: MailboxServer, *, uidvalidity: int | None, last_uid: int, limit: int = 200,
    max_bytes: int = MAX_BATCH_BYTES,
) -> tuple[int, list[FetchedMessage]]:
    """The folder's UIDVALIDITY and the messages above `last_uid`, oldest first, at most `limit`
    and about `max_bytes`. When UIDVALIDITY is not the one given, every UID is new: reading starts
    again from the first message (callers recognise what they stored by Message-ID)."""
    with _session(server, readonly=True) as (client, selected):
        current = int(selected[b"UIDVALIDITY"])
        if uidvalidity != current:
            last_uid = 0
        uidnext = selected.get(b"UIDNEXT")
        if not selected.get(b"EXISTS") or (uidnext is not None and int(uidnext) <= last_uid + 1):
            return current, []
        # "N:*" also matches the highest UID when it is below N, hence the filter.
        uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)[:limit]
        sizes = client.fetch(uids, ["RFC822.SIZE"]) if uids else {}
        chosen: list[int] = []
        total = 0
        for uid in uids:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if chosen and total + size > max_bytes:
                break
            chosen.append(uid)
            total += size
        messages = []
        for start in range(0, len(chosen), FETCH_CHUNK):
            batch = chosen[start : start + FETCH_CHUNK]
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            # A message expunged by someone else meanwhile is simply absent.
            messages += [
                FetchedMessage(current, uid, bytes(fetched[uid][b"BODY[]"]))
                for uid in batch
                if uid in fetched and fetched[uid].get(b"BODY[]") is not None
            ]
        return current, messages


def mark_processed(server: MailboxServer, uids: list[int]) -> None:
    """Mark stored messages \\Seen, so people reading the mailbox see what Portico took. Nothing
    is moved or deleted."""
    if not uids:
        return
    with _session(server, readonly=False) as (client, _selected):
        for start in range(0, len(uids), 500):
            client.add_flags(uids[start : start + 500], [b"\\Seen"], silent=True)


def check_connection(server: MailboxServer) -> None:
    """Sign in and open the folder, for the settings page's "Test connection"; raises
    MailboxError saying what went wrong."""
    with _session(server, readonly=True):
        pass


@contextmanager
def _session(server: MailboxServer, *, readonly: bool) -> Iterator[tuple[IMAPClient, dict]]:
    client = _connect(server)
    try:
        try:
            client.login(server.username, server.password)
        except LoginError:
            raise MailboxError(f"{server.where} refused the user name or password.") from None
        try:
            selected = client.select_folder(server.folder, readonly=readonly)
        except IMAPClientError as exc:
            raise MailboxError(f"The folder {server.folder!r} could not be opened: {_said(exc)}") from exc
        if b"UIDVALIDITY" not in selected:
            raise MailboxError(f"{server.where} did not give the folder's UIDVALIDITY, so it cannot be read safely.")
        yield client, selected
    except (IMAPClientError, OSError) as exc:
        raise MailboxError(f"Reading {server.folder!r} on {server.where} failed: {_said(exc)}") from exc
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone; nothing to keep
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass


def _connect(server: MailboxServer) -> IMAPClient:
    """Implicit TLS with the system's certificate authorities, or plain IMAP when use_tls is off."""
    try:
        return IMAPClient(
            server.host, port=server.port, ssl=server.use_tls,
            ssl_context=ssl.create_default_context() if server.use_tls else None,
            timeout=SocketTimeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        )
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(f"The certificate of {server.where} could not be verified: {exc.verify_message}.") from exc
    except ssl.SSLError as exc:
        raise MailboxError(
            f"TLS with {server.where} failed ({exc.reason or exc}); is it a port for implicit TLS (usually 993)?"
        ) from exc
    except TimeoutError as exc:
        raise MailboxError(f"{server.where} did not answer within {CONNECT_TIMEOUT:.0f} seconds.") from exc
    except socket.gaierror as exc:
        raise MailboxError(f"The server name {server.host!r} could not be found.") from exc
    except ConnectionRefusedError as exc:
        raise MailboxError(f"{server.where} refused the connection.") from exc
    except (OSError, IMAPClientError) as exc:
        raise MailboxError(f"Could not connect to {server.where}: {_said(exc)}") from exc


def _said(exc: BaseException) -> str:
    """What the server or the network said, as text."""
    said = exc.args[0] if exc.args else exc
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    return text.strip() or exc.__class__.__name__
