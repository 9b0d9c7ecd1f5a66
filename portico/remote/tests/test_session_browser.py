"""Remote sessions end to end in a real browser (RA-1, RA-2, RA-3, RA-6): headless chromium on
Portico served by uvicorn, a real `portico-agent` process on this Linux machine, bash on a PTY,
and for remote control Xvfb with x11vnc and an xterm."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portico import seed
from portico.access.catalog import CONNECTIONS
from portico.remote.models import RemoteSession
from portico.remote.tests.conftest import TEST_USER
from portico.remote.tests.support import ended_sessions, until
from tests.browser.pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def open_page(browser, asgi_server):
    contexts = []

    def open_one(**options) -> Page:
        context = browser.new_context(base_url=asgi_server.url, locale="en-US", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()


def _terminal_text(page: Page) -> str:
    return page.locator(".xterm-rows").inner_text()


def _type_in_terminal(page: Page, text: str) -> None:
    page.locator("#remote-terminal").click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _command_line(page: Page, device, kind_label: str) -> None:
    page.goto("/portal/devices/")
    page.locator(f"[data-device='{device.pk}']").get_by_role("link", name=kind_label).click()
    expect(page.locator("#remote-status")).to_have_text("Connected")


def test_ra3_whoami_answers_the_user_in_one_command_line_and_root_in_the_other(
    start_agent, open_page, linux_user, user_org
):
    agent = start_agent("--session-user", TEST_USER)
    seed.assign(user_org, agent.device)
    seed.grant(user_org, CONNECTIONS, "user_cli.linux", "system_cli.linux")
    page = open_page(**PHONE)
    sign_in(page, user_org.person, lands_on="/portal/")

    _command_line(page, agent.device, "User command line")
    _type_in_terminal(page, "whoami; echo done-$((6*7)) héllo ✓")
    expect(page.locator(".xterm-rows")).to_contain_text("done-42 héllo ✓")
    assert TEST_USER in _terminal_text(page)
    # RA-6: the terminal fits a phone's width (no page scrolled sideways).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator("#remote-status")).to_contain_text("you closed the session")

    _command_line(page, agent.device, "System command line")
    _type_in_terminal(page, "whoami; echo done-$((6*7))")
    expect(page.locator(".xterm-rows")).to_contain_text("done-42")
    assert "\nroot" in "\n" + _terminal_text(page).replace("\xa0", " ")
    # Ctrl-C interrupts a running program.
    _type_in_terminal(page, "sleep 100")
    page.keyboard.press("Control+c")
    _type_in_terminal(page, "echo back-$((2*3))")
    expect(page.locator(".xterm-rows")).to_contain_text("back-6")
    page.get_by_role("button", name="Disconnect").click()

    sessions = ended_sessions(2)
    assert [(s.kind, s.end_reason) for s in sessions] == [("user_cli", "closed_by_user"), ("system_cli", "closed_by_user")]
    assert all(session.bytes_from_device > 0 and session.bytes_to_device > 0 for session in sessions)


def test_ra1_a_user_without_the_system_right_is_offered_no_system_command_line(start_agent, open_page, user_org):
    agent = start_agent()
    seed.assign(user_org, agent.device)
    seed.grant(user_org, CONNECTIONS, "user_cli.linux")
    page = open_page()
    sign_in(page, user_org.person, lands_on="/portal/")
    page.goto("/portal/devices/")
    buttons = page.locator(f"[data-device='{agent.device.pk}'] [data-connect]")
    expect(buttons).to_have_count(1)
    expect(buttons).to_have_text("User command line")
    answer = page.goto(f"/portal/devices/{agent.device.pk}/connect/system_cli/")
    assert answer.status == 404
    assert until(lambda: not RemoteSession.objects.filter(kind="system_cli").exists())


@pytest.fixture
def x_display(tmp_path):
    """Xvfb on a free display, with an xterm whose shell writes what it reads to a file."""
    for program in ("Xvfb", "xterm"):
        if shutil.which(program) is None:
            pytest.fail(f"{program} is missing: make system-packages installs it")
    number = 90 + os.getpid() % 50
    display = f":{number}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1024x640x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    until(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 10)
    typed = tmp_path / "typed.txt"
    xterm = subprocess.Popen(
        ["xterm", "-geometry", "80x24+0+0", "-e", "sh", "-c", f"cat > {typed}"],
        env={**os.environ, "DISPLAY": display}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    yield display, typed
    xterm.kill()
    xvfb.kill()
    xterm.wait()
    xvfb.wait()


def test_ra2_text_typed_into_the_screen_reaches_a_program_on_the_device(start_agent, open_page, x_display, user_org):
    display, typed = x_display
    agent = start_agent("--x11vnc-display", display)
    seed.assign(user_org, agent.device)
    seed.grant(user_org, CONNECTIONS, "remote_control.linux")
    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, user_org.person, lands_on="/portal/")
    page.goto("/portal/devices/")
    page.locator(f"[data-device='{agent.device.pk}']").get_by_role("link", name="Remote control").click()
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#remote-status")).to_have_text("Connected")
    canvas = page.locator("#remote-screen canvas")
    expect(canvas).to_be_visible()
    # No window manager: keys go to the window under the pointer, the xterm at the top left.
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + 60, box["y"] + 60)
    page.keyboard.type("hello from portico")
    page.keyboard.press("Enter")
    until(lambda: typed.exists() and "hello from portico" in typed.read_text(), 15)
    page.get_by_role("button", name="Disconnect").click()
    assert ended_sessions(1)[0].end_reason == "closed_by_user"


def test_ra2_view_only_keeps_keys_from_the_device(start_agent, open_page, x_display, user_org):
    display, typed = x_display
    agent = start_agent("--x11vnc-display", display)
    seed.assign(user_org, agent.device)
    seed.grant(user_org, CONNECTIONS, "remote_control.linux")
    page = open_page(**PHONE)
    sign_in(page, user_org.person, lands_on="/portal/")
    page.goto(f"/portal/devices/{agent.device.pk}/connect/remote_control/")
    page.get_by_label("View only").check()
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#remote-status")).to_have_text("Connected, view only")
    canvas = page.locator("#remote-screen canvas")
    expect(canvas).to_be_visible()
    # RA-6: the screen is scaled to the phone's width.
    assert canvas.bounding_box()["width"] <= 390
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + 60, box["y"] + 60)  # where typing reaches the xterm without view only
    page.keyboard.type("must not arrive")
    page.keyboard.press("Enter")
    time.sleep(1.5)
    assert not typed.exists() or "must not arrive" not in typed.read_text()
    assert until(lambda: RemoteSession.objects.get().view_only)
