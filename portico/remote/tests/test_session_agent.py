"""Sessions with a real agent process, without a browser page: the consent answered through the
agent's test hook (`--consent-command`) and recorded, and the device's shell ended when the right
is removed (issue 6 items 6 and 7; PERM-5)."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from portico import seed
from portico.access.catalog import CONNECTIONS
from portico.access.models import Grant
from portico.remote.models import Consent, RemoteAccessSettings, RemoteSession
from portico.remote.tests.support import ended_sessions, run
from portico.remote.tests.test_sessions import World, _text
from tests.support import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _answering(tmp_path, status: int):
    """A consent program that notes the prompt it was given and answers with `status`."""
    script = tmp_path / f"consent-{status}.sh"
    asked = tmp_path / "asked.txt"
    script.write_text(f'#!/bin/sh\nprintf "%s|%s" "$PORTICO_CONSENT" "$*" > {asked}\nexit {status}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), asked


def _world(asgi_server, agent, user_org, *codes) -> World:
    seed.assign(user_org, agent.device)
    seed.grant(user_org, CONNECTIONS, *codes)
    return World(asgi_server, sign_in(Client(), user_org), user_org, agent.device, header="")


@pytest.mark.parametrize("status, reached", [(0, "ready"), (1, "ended")])
def test_asking_the_logged_in_user_first_and_recording_the_answer(
    asgi_server, start_agent, user_org, org_a, tmp_path, status, reached
):
    RemoteAccessSettings.objects.create(organization=org_a, consent=Consent.ASK)
    command, asked = _answering(tmp_path, status)
    agent = start_agent("--consent-command", command)
    world = _world(asgi_server, agent, user_org, "system_cli.linux")

    async def scenario():
        browser = await world.browser((await database_sync_to_async(world.token)("system_cli"))["socket"])
        assert (await _text(browser))["state"] == "waiting"
        answer = await _text(browser)
        if answer.get("state") == "ready":
            # The shell's first output: its start-up files have run. A login shell cut off while
            # they run can leave them half done (a tool's lock file, say) for the next one.
            while not isinstance(await asyncio.wait_for(browser.recv(), 30), bytes):
                pass
        await browser.close()
        return answer

    answer = run(scenario)
    assert answer["type"] == ("status" if reached == "ready" else "ended")
    mode, prompt = asked.read_text().split("|", 1)
    assert mode == "ask"
    assert user_org.person.get_full_name() in prompt  # who asks
    session = ended_sessions(1)[0]
    if status == 0:
        assert (session.consent, answer.get("consent")) == ("granted", "granted")
    else:
        assert answer == {"type": "ended", "reason": "refused", "refusal": "consent_denied"}
        assert (session.consent, session.end_reason) == ("denied", "refused")


def test_removing_the_right_ends_the_shell_on_the_device(asgi_server, start_agent, user_org, tmp_path):
    agent = start_agent()
    world = _world(asgi_server, agent, user_org, "system_cli.linux")
    marker = tmp_path / "shell.pid"

    async def scenario():
        browser = await world.browser((await database_sync_to_async(world.token)("system_cli"))["socket"])
        assert (await _text(browser))["state"] == "waiting"
        assert (await _text(browser))["state"] == "ready"
        await browser.send(f"echo $$ > {marker}\r".encode())
        while not marker.exists() or not marker.read_text().strip():
            await asyncio.sleep(0.05)
        shell = int(marker.read_text())
        await database_sync_to_async(Grant.objects.filter(membership=user_org, code="system_cli.linux").delete)()
        started = asyncio.get_running_loop().time()
        while True:  # the browser hears the end …
            frame = await asyncio.wait_for(browser.recv(), 3)
            if isinstance(frame, str) and json.loads(frame)["type"] == "ended":
                break
        while _alive(shell):  # … and the shell on the device is gone
            assert asyncio.get_running_loop().time() - started < 2, "the shell outlived the session by 2 s"
            await asyncio.sleep(0.05)

    run(scenario)
    assert ended_sessions(1)[0].end_reason == "access_removed"
    assert RemoteSession.objects.get().bytes_from_device > 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z"
