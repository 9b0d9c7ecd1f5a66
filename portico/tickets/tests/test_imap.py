"""Reading the support box (TK-7) from a real Dovecot on loopback: new messages above the
watermark, in batches, a fresh start when UIDVALIDITY changes, \\Seen only when asked, nothing
deleted, clear errors, and messages that come back byte for byte."""

from __future__ import annotations

import base64
import os
import socket
import threading

import pytest

from portico.tickets import imap
from portico.tickets.imap import MailboxError, MailboxServer, check_connection, fetch_since, mark_processed


def message(number: int, *, size: int = 0) -> bytes:
    """A delivered message with CRLF line ends: IMAP hands messages back with CRLF, so only such
    mail can come back byte for byte."""
    padding = (b"x" * 76 + b"\r\n") * (size // 78)
    return (
        f"From: olivia@contoso.test\r\nTo: support@northwind.test\r\nSubject: [Ticket#{number}] reply\r\n"
        f"Message-ID: <m-{number}@contoso.test>\r\n\r\nReply number {number}.\r\n"
    ).encode() + padding


@pytest.fixture
def box(dovecot) -> MailboxServer:
    """A fresh, empty INBOX of its own for each test."""
    return dovecot.new_mailbox()


def load(dovecot, box: MailboxServer, count: int, **kwargs) -> list[int]:
    return dovecot.append_many(box.username, [message(n, **kwargs) for n in range(1, count + 1)], folder=box.folder)


def flags(dovecot, box: MailboxServer) -> dict[int, tuple]:
    with dovecot.client(box.username) as client:
        client.select_folder(box.folder, readonly=True)
        # \Recent only says that no session has selected the folder read-write yet.
        return {uid: tuple(f for f in found if f != b"\\Recent") for uid, found in client.get_flags(client.search("ALL")).items()}


def test_tk7_fetch_returns_what_is_above_the_watermark_in_uid_order(dovecot, box):
    uids = load(dovecot, box, 3)
    uidvalidity, fetched = fetch_since(box, uidvalidity=None, last_uid=0)
    assert [m.uid for m in fetched] == uids == [1, 2, 3]
    assert {m.uidvalidity for m in fetched} == {uidvalidity}
    assert fetched[0].raw == message(1)

    assert [m.uid for m in fetch_since(box, uidvalidity=uidvalidity, last_uid=2)[1]] == [3]
    assert fetch_since(box, uidvalidity=uidvalidity, last_uid=3) == (uidvalidity, [])
    dovecot.append(box.username, message(4))
    assert [m.uid for m in fetch_since(box, uidvalidity=uidvalidity, last_uid=3)[1]] == [4]


def test_tk7_a_watermark_above_every_uid_fetches_nothing(dovecot, box):
    """IMAP's "11:*" also names the highest UID when it is below 11."""
    load(dovecot, box, 3)
    uidvalidity, _ = fetch_since(box, uidvalidity=None, last_uid=0)
    assert fetch_since(box, uidvalidity=uidvalidity, last_uid=10) == (uidvalidity, [])


def test_tk7_an_empty_folder_fetches_nothing(box):
    uidvalidity, fetched = fetch_since(box, uidvalidity=None, last_uid=0)
    assert uidvalidity > 0 and fetched == []


def test_tk7_limit_reads_the_oldest_first_in_batches(dovecot, box):
    load(dovecot, box, 7)
    uidvalidity, last_uid, batches = None, 0, []
    while True:
        uidvalidity, fetched = fetch_since(box, uidvalidity=uidvalidity, last_uid=last_uid, limit=3)
        if not fetched:
            break
        batches.append([m.uid for m in fetched])
        last_uid = fetched[-1].uid
    assert batches == [[1, 2, 3], [4, 5, 6], [7]]


def test_tk7_a_batch_stops_at_its_size_budget_but_always_holds_one(dovecot, box):
    load(dovecot, box, 3, size=100_000)
    _, fetched = fetch_since(box, uidvalidity=None, last_uid=0, max_bytes=250_000)
    assert [m.uid for m in fetched] == [1, 2]
    _, fetched = fetch_since(box, uidvalidity=None, last_uid=0, max_bytes=10)
    assert [m.uid for m in fetched] == [1]


def test_tk7_a_new_uidvalidity_starts_from_the_first_message_again(dovecot):
    box = dovecot.new_mailbox("Support")
    load(dovecot, box, 2)
    old, _ = fetch_since(box, uidvalidity=None, last_uid=0)
    with dovecot.client(box.username) as client:
        client.delete_folder("Support")
        client.create_folder("Support")
    dovecot.append(box.username, message(9), folder="Support")

    new, fetched = fetch_since(box, uidvalidity=old, last_uid=2)
    assert new != old
    assert [(m.uid, m.uidvalidity, m.raw) for m in fetched] == [(1, new, message(9))]


def test_tk7_an_unknown_uidvalidity_reads_from_the_start_whatever_the_watermark(dovecot, box):
    load(dovecot, box, 2)
    _, fetched = fetch_since(box, uidvalidity=None, last_uid=2)
    assert [m.uid for m in fetched] == [1, 2]


def test_tk7_fetching_does_not_mark_seen_and_mark_processed_deletes_nothing(dovecot, box):
    load(dovecot, box, 3)
    fetch_since(box, uidvalidity=None, last_uid=0)
    assert flags(dovecot, box) == {1: (), 2: (), 3: ()}

    mark_processed(box, [1, 3])
    after = flags(dovecot, box)
    assert after == {1: (b"\\Seen",), 2: (), 3: (b"\\Seen",)}
    _, fetched = fetch_since(box, uidvalidity=None, last_uid=0)
    assert [m.raw for m in fetched] == [message(1), message(2), message(3)]
    mark_processed(box, [])


def test_tk7_eight_bit_and_large_messages_come_back_byte_identical(dovecot, box):
    attachment = base64.encodebytes(os.urandom(5 * 2**20)).replace(b"\n", b"\r\n")
    eight_bit = (
        b"From: J\xc3\xbcrgen <juergen@contoso.test>\r\nSubject: Dr\xfccker \xe2\x9c\x93\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Gr\xc3\xbc\xc3\x9fe, caf\xe9 \x80\xff\r\n"
    )
    large = (
        b"From: olivia@contoso.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: application/octet-stream; name=blob.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + attachment + b"--b--\r\n"
    )
    dovecot.append(box.username, eight_bit)
    dovecot.append(box.username, large)
    _, fetched = fetch_since(box, uidvalidity=None, last_uid=0)
    assert [m.raw for m in fetched] == [eight_bit, large]


def test_tk7_check_connection_passes_for_good_settings_and_leaves_mail_unread(dovecot, box):
    dovecot.append(box.username, b"From: a@b.test\r\nSubject: hi\r\n\r\nhello\r\n")
    assert check_connection(box) is None
    with dovecot.client(box.username) as client:
        client.select_folder(box.folder, readonly=True)
        assert len(client.search("UNSEEN")) == 1


def test_tk7_wrong_password_is_a_clear_error_and_the_password_is_never_shown(dovecot, box):
    wrong = dovecot.server(box.username, password="not-the-password")
    with pytest.raises(MailboxError, match="refused the user name or password"):
        check_connection(wrong)
    with pytest.raises(MailboxError, match="refused the user name or password"):
        fetch_since(wrong, uidvalidity=None, last_uid=0)
    assert box.password not in repr(box)


def test_tk7_a_missing_folder_is_a_clear_error(dovecot, box):
    with pytest.raises(MailboxError, match="folder 'Tickets' could not be opened"):
        check_connection(dovecot.server(box.username, folder="Tickets"))


def test_tk7_a_closed_port_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(MailboxError, match="refused the connection"):
        check_connection(MailboxServer("127.0.0.1", port, "u", "p", use_tls=False))


def test_tk7_tls_to_a_plain_port_is_a_clear_error(dovecot, box):
    with pytest.raises(MailboxError, match="TLS with .* failed"):
        check_connection(MailboxServer(dovecot.host, dovecot.port, box.username, box.password, use_tls=True))


def test_tk7_a_server_that_never_greets_times_out(monkeypatch):
    monkeypatch.setattr(imap, "CONNECT_TIMEOUT", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        accepted = threading.Thread(target=lambda: silent.accept()[0].recv(1), daemon=True)
        accepted.start()
        with pytest.raises(MailboxError, match="did not answer within"):
            check_connection(MailboxServer("127.0.0.1", silent.getsockname()[1], "u", "p", use_tls=False))
