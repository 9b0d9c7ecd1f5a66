"""Shared test fixtures: a real SMTP server on loopback, Huey run inline, and named people.

People are named for what they are (STYLE.md): `owner`, `super_admin`, `admin`, `finance`,
`support`, `admin_scoped` (an Admin managing a group scoped to `org_a`), `user_org` (end user
of one organization), `user_all_orgs` (at home in `org_a`, with devices of all organizations),
`outsider` (staff of another partner), and devices
`device_a` (Windows, in `org_a`), `device_b` (Linux, in `org_b`), `foreign_device`. Everyone has a TOTP authenticator; `tests.support.totp_code` gives a code.
"""

from __future__ import annotations

import logging
import socket

import pytest
from aiosmtpd.controller import Controller

from portico import seed
from portico.access.roles import StaffRole
from tests.asgi import AsgiServer
from tests.support import PASSWORD, Inbox, sign_in

# One Playwright for the whole run: its sync API cannot start twice in one thread.
pytest_plugins = ["tests.browser.fixtures"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture(autouse=True)
def mailbox(smtp_server, settings):
    """Every test sends mail to the loopback SMTP server and reads it back from this inbox."""
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = False
    inbox.clear()
    return inbox


@pytest.fixture(autouse=True)
def huey_inline():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate limits and used TOTP codes live in the cache; each test starts clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def partner(db):
    return seed.partner("Northwind IT", country="US")


@pytest.fixture
def other_partner(db):
    return seed.partner("Bluewave MSP", country="DE")


@pytest.fixture
def org_a(partner):
    return seed.organization(partner, "Contoso")


@pytest.fixture
def org_b(partner):
    return seed.organization(partner, "Fabrikam")


@pytest.fixture
def foreign_org(other_partner):
    return seed.organization(other_partner, "Litware")


def _staff(partner, role, email, **fields):
    return seed.staff(
        seed.person(email, PASSWORD, first_name=role.label.split()[0], last_name="Staff"), partner, role, **fields
    )


@pytest.fixture
def owner(partner):
    return _staff(partner, StaffRole.OWNER, "owner@northwind.test")


@pytest.fixture
def super_admin(partner):
    return _staff(partner, StaffRole.SUPER_ADMIN, "superadmin@northwind.test")


@pytest.fixture
def admin(partner):
    return _staff(partner, StaffRole.ADMIN, "admin@northwind.test")


@pytest.fixture
def finance(partner):
    return _staff(partner, StaffRole.FINANCE, "finance@northwind.test")


@pytest.fixture
def support(partner):
    return _staff(partner, StaffRole.SUPPORT, "support@northwind.test")


@pytest.fixture
def admin_scoped(partner, org_a):
    """An Admin who manages a group scoped to org_a, so sees only org_a (GRP-3)."""
    member = _staff(partner, StaffRole.ADMIN, "admin.scoped@northwind.test")
    seed.group(partner, "Contoso desk", organizations=[org_a], managers=[member])
    return member


@pytest.fixture
def outsider(other_partner):
    return _staff(other_partner, StaffRole.ADMIN, "admin@bluewave.test")


@pytest.fixture
def user_org(org_a):
    return seed.end_user(seed.person("emma@contoso.test", PASSWORD, first_name="Emma", last_name="End"), org_a)


@pytest.fixture
def user_all_orgs(org_a):
    """At home in org_a, with devices of all organizations of the partner (EU-1, EU-4)."""
    return seed.end_user(
        seed.person("riley@northwind.test", PASSWORD, first_name="Riley", last_name="Roam"), org_a,
        all_organizations=True,
    )


@pytest.fixture
def signed_in(client):
    """`signed_in(membership)` returns the test client signed in as that membership."""
    return lambda membership: sign_in(client, membership)


@pytest.fixture
def device_a(org_a):
    return seed.device(org_a, "CONTOSO-PC-01", "windows", os_version="Windows 11 23H2", last_user="emma")


@pytest.fixture
def device_b(org_b):
    return seed.device(org_b, "fabrikam-build", "linux", os_version="Debian 12", last_user="ops")


@pytest.fixture
def foreign_device(foreign_org):
    return seed.device(foreign_org, "LITWARE-MAC", "mac", os_version="macOS 15")


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


@pytest.fixture(scope="session")
def dovecot():
    """A private Dovecot IMAP server on loopback (tests/dovecot.py). Without the dovecot-imapd
    package the tests that need it skip, except in CI (CI set), where they fail."""
    import os

    from tests.dovecot import Dovecot, binary

    if binary("dovecot") is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("CI is set but dovecot is not installed: install dovecot-imapd (`make system-packages`)")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd); CI runs these tests")
    with Dovecot() as server:
        yield server


@pytest.fixture
def start_agent(asgi_server, admin, org_a, tmp_path):
    """`start_agent(*options)`: a real `portico-agent run` enrolled into org_a, stopped after the test."""
    from portico.remote.tests.support import RealAgent

    agents: list[RealAgent] = []

    def start(*options: str) -> RealAgent:
        agents.append(RealAgent(asgi_server, admin, org_a, tmp_path / f"agent-{len(agents)}.json", *options))
        return agents[-1]

    yield start
    for agent in agents:
        agent.stop()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests run last (keeping pytest-django's order otherwise): the session's Chromium,
    driven by Playwright's sync API, keeps an event loop running in the main thread from its first
    use, and a test that then calls async_to_sync there (telling an agent of a revocation or a
    backup) would be refused by asgiref."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
