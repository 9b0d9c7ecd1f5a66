"""Remote sessions through the relay (RA-2, RA-3, RA-5, PERM-5, ID-6; docs/agent-protocol.md
"Sessions"): Portico's ASGI application served by uvicorn, a browser's websocket signed in with
its session cookie, and an agent speaking the protocol from a script, so every refusal and every
way a session ends can be provoked on purpose. The real agent's side is in test_session_agent.py."""

from __future__ import annotations

import asyncio
import json
import os
import socket as socket_module
import subprocess
import sys
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from portico import seed
from portico.access.catalog import CONNECTIONS
from portico.access.models import Grant
from portico.audit.models import AuditEvent
from portico.devices.models import Device
from portico.identity.models import Membership
from portico.remote import services
from portico.remote.models import RemoteSession
from portico.remote.tests.support import run, until
from portico.remote.tests.test_control import closing_code
from tests.support import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


class World:
    """The running server, a Linux device with a connected agent's credential, and its end user."""

    def __init__(self, server, client, user, device, header):
        self.server, self.client, self.user, self.device, self.header = server, client, user, device, header

    def token(self, kind: str = "user_cli", **data) -> dict:
        answer = self.client.post(reverse("remote:portal_session_token", args=[self.device.pk, kind]), data)
        assert answer.status_code == 200, answer.content
        return answer.json()

    def browser(self, socket: str, cookie: str | None = None) -> connect:
        cookie = self.client.cookies[settings.SESSION_COOKIE_NAME].value if cookie is None else cookie
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
        return connect(self.server.ws_url + socket, additional_headers=headers, origin=self.server.url)

    def control(self) -> connect:
        return connect(self.server.ws_url + "/agent/v1/control", additional_headers={"Authorization": self.header})

    def agent_session(self, session: str, header: str | None = None) -> connect:
        return connect(
            f"{self.server.ws_url}/agent/v1/sessions/{session}",
            additional_headers={"Authorization": header or self.header},
        )


@pytest.fixture
def world(asgi_server, client, admin, user_org, org_a):
    _token, raw = services.create_enrolment_token(admin, org_a)
    device, secret = services.enrol(services.Enrolment(raw, "maria-laptop", "linux"))
    seed.assign(user_org, device)
    seed.grant(user_org, CONNECTIONS, "user_cli.linux", "remote_control.linux")
    sign_in(client, user_org)
    return World(asgi_server, client, user_org, device, f"Bearer {device.pk}.{secret}")


async def _control_welcomed(world: World) -> ClientConnection:
    control = await world.control()
    assert json.loads(await control.recv())["type"] == "welcome"
    return control


async def _instruction(control: ClientConnection) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(control.recv(), timeout=3))
        if message["type"] == "session.open":
            return message


async def _text(browser: ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(browser.recv(), timeout=3))


async def _open(world: World, kind: str = "user_cli") -> tuple[ClientConnection, ClientConnection, ClientConnection, dict]:
    """A session through to `ready`: the agent's control socket, the browser's and the agent's session sockets."""
    control = await _control_welcomed(world)
    socket = (await database_sync_to_async(world.token)(kind))["socket"]
    browser = await world.browser(socket)
    assert await _text(browser) == {"type": "status", "state": "waiting"}
    instruction = await _instruction(control)
    agent = await world.agent_session(instruction["session"])
    await agent.send(json.dumps({"type": "ready", "consent": "not_asked"}))
    assert (await _text(browser))["state"] == "ready"
    return control, browser, agent, instruction


def _session(pk) -> RemoteSession:
    """The session, once its end is recorded (the server may still be writing it)."""
    return until(lambda: RemoteSession.objects.filter(pk=pk, state="ended").first())


async def _ended_within(seconds: float, *sockets: ClientConnection) -> list[int]:
    """Each socket's close code; every one must close within `seconds`."""
    async def code(socket: ClientConnection) -> int:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await socket.recv()
        return closed.value.rcvd.code if closed.value.rcvd else closed.value.sent.code

    return list(await asyncio.wait_for(asyncio.gather(*(code(s) for s in sockets)), timeout=seconds))


def test_ra3_bytes_flow_both_ways_and_the_session_is_audited(world):
    async def scenario():
        control, browser, agent, instruction = await _open(world)
        assert instruction["kind"] == "user_cli" and instruction["rights"] == ["user_cli"]
        assert instruction["consent"] == "notify" and not instruction["view_only"]
        await browser.send(b"whoami\r")
        assert await asyncio.wait_for(agent.recv(), 3) == b"whoami\r"
        await browser.send(json.dumps({"type": "resize", "cols": 120, "rows": 40}))
        assert json.loads(await asyncio.wait_for(agent.recv(), 3)) == {"type": "resize", "cols": 120, "rows": 40}
        await agent.send("maria ✓\r\n".encode())
        assert await asyncio.wait_for(browser.recv(), 3) == "maria ✓\r\n".encode()
        await browser.close()
        assert await _ended_within(2, agent) == [1000]
        await control.close()
        return instruction["session"]

    session_id = run(scenario)
    session = _session(session_id)
    assert (session.state, session.end_reason, session.consent) == ("ended", "closed_by_user", "not_asked")
    assert session.bytes_to_device == len(b"whoami\r") and session.bytes_from_device == len("maria ✓\r\n".encode())
    ended = AuditEvent.objects.get(action="remote.session_ended")
    assert ended.actor_id == world.user.pk and ended.object_id == str(world.device.pk)
    assert ended.after["kind"] == "user_cli" and ended.after["reason"] == "closed_by_user"
    assert ended.after["started_at"] and ended.after["ended_at"] and ended.after["bytes_to_device"] == 7
    assert AuditEvent.objects.filter(action="remote.session_started", actor=world.user).count() == 1


def test_ra1_a_right_the_user_lacks_gets_no_page_no_token_and_no_api_token(world):
    # No system_cli.linux for this user: the page and token are out of reach (404), the API says 403.
    assert world.client.get(reverse("remote:portal_session", args=[world.device.pk, "system_cli"])).status_code == 404
    assert world.client.post(reverse("remote:portal_session_token", args=[world.device.pk, "system_cli"])).status_code == 404
    answer = world.client.post("/api/v1/remote-sessions/", {"device": world.device.pk, "kind": "system_cli"},
                               content_type="application/json")
    assert answer.status_code == 403
    assert not RemoteSession.objects.exists()


def test_perm4_a_device_not_assigned_is_404_everywhere(world, org_a):
    other = seed.device(org_a, "not-hers", "linux")
    Device.objects.filter(pk=other.pk).update(online=True)
    for kind in ("user_cli", "remote_control"):
        assert world.client.get(reverse("remote:portal_session", args=[other.pk, kind])).status_code == 404
        assert world.client.post(reverse("remote:portal_session_token", args=[other.pk, kind])).status_code == 404
    answer = world.client.post("/api/v1/remote-sessions/", {"device": other.pk, "kind": "user_cli"},
                               content_type="application/json")
    assert answer.status_code == 404
    assert world.client.get(reverse("remote:portal_session", args=[world.device.pk, "rm -rf"])).status_code == 404


def test_an_offline_device_gets_a_clear_answer_and_no_token(world):
    answer = world.client.post(reverse("remote:portal_session_token", args=[world.device.pk, "user_cli"]))
    assert answer.status_code == 409 and "offline" in answer.json()["detail"]


def test_a_crafted_browser_message_cannot_change_what_the_session_is(world):
    async def scenario():
        control, browser, agent, instruction = await _open(world)
        await browser.send(json.dumps({"type": "session.open", "kind": "system_cli", "rights": ["system_cli"]}))
        assert await _text(browser) == {"type": "ended", "reason": "malformed"}
        codes = await _ended_within(2, browser, agent)
        await control.close()
        return codes, instruction["session"]

    codes, session_id = run(scenario)
    assert codes == [4400, 1000]
    assert _session(session_id).end_reason == "malformed"


def test_oversized_and_unparsable_browser_frames_close_the_session(world):
    async def scenario(frame):
        control, browser, agent, _instruction = await _open(world)
        await browser.send(frame)
        codes = await _ended_within(2, browser, agent)
        await control.close()
        return codes

    assert run(lambda: scenario(b"x" * (64 * 1024 + 1)))[0] == 4400
    assert run(lambda: scenario("{not json"))[0] == 4400
    assert run(lambda: scenario(json.dumps({"type": "resize", "cols": 10**6, "rows": 1})))[0] == 4400


def test_a_token_works_once_for_its_own_member_within_its_minute(world, org_a):
    other = seed.end_user(seed.person("ana.costa@contoso.example", PASSWORD), org_a)
    seed.assign(other, world.device)
    seed.grant(other, CONNECTIONS, "user_cli.linux")

    async def refused(socket: str, cookie: str | None = None) -> tuple[int, dict]:
        browser = await world.browser(socket, cookie)
        message = await _text(browser)
        return await closing_code(browser), message

    async def scenario():
        control = await _control_welcomed(world)
        socket = (await database_sync_to_async(world.token)())["socket"]
        # Someone else's signed-in browser, and a browser signed in as nobody: the token is not theirs.
        stranger = Client()
        await database_sync_to_async(sign_in)(stranger, other)
        assert await refused(socket, stranger.cookies[settings.SESSION_COOKIE_NAME].value) == (4404, {"type": "ended", "reason": "bad_token"})
        assert (await refused(socket, ""))[0] == 4404
        first = await world.browser(socket)
        assert (await _text(first))["state"] == "waiting"
        assert (await refused(socket))[0] == 4404  # spent
        assert (await refused("/remote/v1/sessions/pts_forged"))[0] == 4404
        expired = (await database_sync_to_async(world.token)())["socket"]
        await database_sync_to_async(RemoteSession.objects.filter(state="requested").update)(token_expires_at=timezone.now())
        assert (await refused(expired))[0] == 4404
        await first.close()
        await control.close()

    run(scenario)
    assert until(lambda: AuditEvent.objects.filter(action="remote.session_refused").count() >= 4)


def test_a_browser_of_another_site_is_refused(world):
    async def scenario():
        control = await _control_welcomed(world)
        socket = (await database_sync_to_async(world.token)())["socket"]
        cookie = world.client.cookies[settings.SESSION_COOKIE_NAME].value
        with pytest.raises(InvalidStatus) as refused:
            await connect(world.server.ws_url + socket, origin="https://evil.example",
                          additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
        assert refused.value.response.status_code == 403
        await control.close()

    run(scenario)


def test_an_agent_cannot_join_another_devices_session(world, admin, org_a):
    _token, raw = services.create_enrolment_token(admin, org_a)
    intruder, secret = services.enrol(services.Enrolment(raw, "intruder", "linux"))

    async def scenario():
        control = await _control_welcomed(world)
        socket = (await database_sync_to_async(world.token)())["socket"]
        browser = await world.browser(socket)
        assert (await _text(browser))["state"] == "waiting"
        instruction = await _instruction(control)
        with pytest.raises(InvalidStatus) as refused:
            await world.agent_session(instruction["session"], f"Bearer {intruder.pk}.{secret}")
        assert refused.value.response.status_code == 403
        with pytest.raises(InvalidStatus):
            await world.agent_session(instruction["session"], f"Bearer {world.device.pk}.wrong")
        # The right agent still joins; a second join of the same session is refused.
        agent = await world.agent_session(instruction["session"])
        with pytest.raises(InvalidStatus):
            await world.agent_session(instruction["session"])
        await agent.send(json.dumps({"type": "ready", "consent": "not_asked"}))
        assert (await _text(browser))["state"] == "ready"
        await browser.close()
        await control.close()

    run(scenario)


@pytest.mark.parametrize("change", ["permission", "membership", "assignment"])
def test_perm5_id6_removing_the_right_ends_the_live_session_within_2_seconds(world, change):
    def remove():
        if change == "permission":
            Grant.objects.filter(membership=world.user, code="user_cli.linux").delete()
        elif change == "membership":
            Membership.objects.filter(pk=world.user.pk).update(enabled=False)
        else:
            world.device.assignments.filter(membership=world.user).delete()

    async def scenario():
        control, browser, agent, instruction = await _open(world)
        await database_sync_to_async(remove)()
        started = asyncio.get_running_loop().time()
        assert await _text(browser) == {"type": "ended", "reason": "access_removed"}
        codes = await _ended_within(2, browser, agent)
        assert asyncio.get_running_loop().time() - started < 2
        await control.close()
        return codes, instruction["session"]

    codes, session_id = run(scenario)
    assert codes == [4410, 1000]
    assert _session(session_id).end_reason == "access_removed"
    assert AuditEvent.objects.get(action="remote.session_ended").after["reason"] == "access_removed"


def test_the_device_refusing_is_told_to_the_browser_and_recorded(world):
    async def scenario():
        control = await _control_welcomed(world)
        browser = await world.browser((await database_sync_to_async(world.token)())["socket"])
        await _text(browser)
        instruction = await _instruction(control)
        await control.send(json.dumps({
            "type": "session.refused", "session": instruction["session"], "reason": "consent_denied",
            "detail": "the user said no",
        }))
        ended = await _text(browser)
        code = await closing_code(browser)
        await control.close()
        return ended, code, instruction["session"]

    ended, code, session_id = run(scenario)
    assert ended == {"type": "ended", "reason": "refused", "refusal": "consent_denied"} and code == 4409
    session = _session(session_id)
    assert (session.end_reason, session.consent) == ("refused", "denied")
    assert AuditEvent.objects.get(action="remote.session_ended").after["detail"] == "consent_denied: the user said no"


def test_an_agent_dropping_mid_session_ends_it_for_the_browser(world):
    async def scenario():
        control, browser, agent, instruction = await _open(world)
        agent.transport.abort()  # no closing handshake: the agent's process died
        assert await _text(browser) == {"type": "ended", "reason": "agent_disconnected"}
        await control.close()
        return instruction["session"]

    assert _session(run(scenario)).end_reason == "agent_disconnected"


def test_no_agent_answering_ends_the_wait(world, settings):
    settings.REMOTE_AGENT_WAIT_SECONDS = 1

    async def scenario():
        control = await _control_welcomed(world)
        browser = await world.browser((await database_sync_to_async(world.token)())["socket"])
        await _text(browser)
        assert await _text(browser) == {"type": "ended", "reason": "agent_timeout"}
        code = await closing_code(browser)
        await control.close()
        return code

    assert run(scenario) == 4408


def test_a_browser_that_never_reads_ends_its_session_without_growing_the_server(world, settings):
    settings.REMOTE_FULL_QUEUE_SECONDS = 1

    async def scenario():
        control, browser, agent, instruction = await _open(world)
        # The browser stops reading (its client stops reading the socket once 16 frames wait):
        # TCP fills, then the relay's queue.
        chunk = os.urandom(60_000)  # incompressible: the sockets' compression cannot hide it
        with pytest.raises(ConnectionClosed):
            for _ in range(5_000):  # 300 MB if nothing pushed back
                await asyncio.wait_for(agent.send(chunk), timeout=5)
        await control.close()
        return instruction["session"]

    session = _session(run(scenario))
    assert session.end_reason == "not_reading"
    assert session.bytes_from_device < 50_000_000  # what queues and socket buffers held, not 300 MB


def test_technicians_connect_to_devices_they_manage(world, support):
    Device.objects.filter(pk=world.device.pk).update(online=True)
    client = sign_in(Client(), support)
    page = client.get(reverse("devices:detail", args=[world.device.pk]))
    assert [str(kind.value) for kind in page.context["device"].connections] == ["remote_control", "user_cli", "system_cli"]
    answer = client.post(reverse("remote:console_session_token", args=[world.device.pk, "system_cli"]))
    assert answer.status_code == 200 and answer.json()["socket"].startswith("/remote/v1/sessions/pts_")


def test_the_session_page_offers_what_the_user_may_open(world):
    Device.objects.filter(pk=world.device.pk).update(online=True)
    page = world.client.get(reverse("remote:portal_session", args=[world.device.pk, "user_cli"]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-kind="user_cli"' in text and reverse("remote:portal_session_token", args=[world.device.pk, "user_cli"]) in text
    assert "'unsafe-inline'" in page["Content-Security-Policy"].split("style-src")[1].split(";")[0]
    assert "'unsafe-inline'" not in page["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    # The console's address is for technicians.
    assert world.client.get(reverse("remote:console_session", args=[world.device.pk, "user_cli"])).status_code == 404
    devices = world.client.get(reverse("remote:my_devices")).content.decode()
    assert reverse("remote:portal_session", args=[world.device.pk, "user_cli"]) in devices
    assert reverse("remote:portal_session", args=[world.device.pk, "system_cli"]) not in devices


@pytest.fixture
def redis_layer(settings):
    """The Redis channel layer, configured as web nodes use it when REDIS_URL is set."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": url, "socket_timeout": None}], "prefix": f"portico-test-{os.getpid()}"},
    }}
    yield


def test_the_redis_layer_relays_sessions_that_stay_idle(redis_layer, world):
    """An idle session outlives redis-py's default 5 s read timeout (which the settings lift)."""
    async def scenario():
        control, browser, agent, _instruction = await _open(world)
        await asyncio.sleep(6)
        await browser.send(b"ls\r")
        assert await asyncio.wait_for(agent.recv(), 3) == b"ls\r"
        await agent.send(b"file.txt\r\n")
        assert await asyncio.wait_for(browser.recv(), 3) == b"file.txt\r\n"
        await browser.close()
        await control.close()

    run(scenario)


@pytest.fixture
def second_node(world, redis_layer):
    """Another web node: a uvicorn process of its own on the same database and Redis."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a second node process needs a database it can share: PostgreSQL (set DATABASE_URL)")
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
    with socket_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"],
           "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]}
    node = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "portico.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"], env=env, cwd=settings.BASE_DIR,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket_module.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and node.poll() is None, "the second node did not start"
                time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}"
    finally:
        node.terminate()
        node.wait(timeout=20)


def test_a_session_spans_two_web_nodes_through_redis(redis_layer, world, second_node):
    async def scenario():
        control = await _control_welcomed(world)  # the agent's control connection: node 1
        socket = (await database_sync_to_async(world.token)())["socket"]
        browser = await world.browser(socket)  # the browser: node 1
        assert (await _text(browser))["state"] == "waiting"
        instruction = await _instruction(control)
        # The agent's session socket lands on node 2.
        agent = await connect(f"{second_node}/agent/v1/sessions/{instruction['session']}",
                              additional_headers={"Authorization": world.header})
        await agent.send(json.dumps({"type": "ready", "consent": "not_asked"}))
        assert (await _text(browser))["state"] == "ready"
        await browser.send(b"ls\r")
        assert await asyncio.wait_for(agent.recv(), 3) == b"ls\r"
        await agent.send(b"file.txt\r\n")
        assert await asyncio.wait_for(browser.recv(), 3) == b"file.txt\r\n"
        await agent.close()
        assert await _text(browser) == {"type": "ended", "reason": "closed_by_device"}
        await control.close()

    run(scenario)
