"""Fixtures for the agent's tests: a loopback stand-in for the Portico server's control endpoint,
and a CA with a server certificate for TLS. Only the standard library, websockets and
cryptography; nothing of Django, which the agent never imports."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection, serve


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Loopback requests must not wander off to a proxy the environment names."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def control_server():
    """`async with control_server(handler) as server_url:` serves `handler` for each connection
    at ws://127.0.0.1:<port>/agent/v1/control (wss with `ssl=`); `process_request` as websockets'."""

    @contextlib.asynccontextmanager
    async def start(
        handler: Callable[[ServerConnection], Awaitable[None]],
        ssl_context: ssl.SSLContext | None = None,
        process_request=None,
    ) -> AsyncIterator[str]:
        async with serve(handler, "127.0.0.1", 0, ssl=ssl_context, process_request=process_request) as server:
            port = server.sockets[0].getsockname()[1]
            yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"

    return start


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, san=None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    else:
        # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a leaf must name its issuer's key.
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


class TLSFiles:
    def __init__(self, directory: Path) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _certificate(_name("Test Portico CA"), _name("Test Portico CA"), ca_key.public_key(), ca_key, ca=True)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server_cert = _certificate(
            _name("127.0.0.1"), ca_cert.subject, server_key.public_key(), ca_key, ca=False,
            san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.cert_file = directory / "server.pem"
        self.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
        self.key_file = directory / "server.key"
        self.key_file.write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> TLSFiles:
    """A private CA, and a certificate it signed for the server at 127.0.0.1."""
    return TLSFiles(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def other_tls_files(tmp_path_factory) -> TLSFiles:
    """Another CA, which never signed the server's certificate."""
    return TLSFiles(tmp_path_factory.mktemp("other-tls"))


@pytest.fixture(scope="module")
def restic() -> str:
    """The real restic of the backup tests (backup_support.find_restic says what happens without it)."""
    from backup_support import find_restic

    return find_restic()


@pytest.fixture(scope="module")
def repository(restic, tmp_path_factory):
    """One initialised folder repository per test module; each test backs up folders of its own."""
    from backup_support import Repository

    folder = tmp_path_factory.mktemp("repository")
    return Repository(restic, folder / "repo", folder / "cache").init()
