"""Parley in a desktop's tray, as a person uses it: a real ``parley`` process on a
private X server, its tray icon shown by a panel's tray (a StatusNotifierWatcher on a
private session bus), its window closed with the window manager's close request.

Closing the window leaves Parley running, so a call still rings; the missed call is in
the icon's tool tip and menu; the menu brings the window back and quits.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.kit.bots import Bot
from app.kit.call.invitations import Phase
from app.kit.types import User
from app.testing import wait_until
from signaling.auth import mint_token
from tests.support.session_bus import FakeTrayHost, session_bus
from tests.support.x_server import XWindow, close_window, top_level_windows, x_display

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


async def until_described(
    host: FakeTrayHost, check: Callable[[dict[str, object]], bool], timeout: float = 10
) -> dict[str, object]:
    """The tray's view of the icon once ``check`` holds for it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        item = await host.ask("describe")
        if check(item):
            return item
        assert asyncio.get_running_loop().time() < deadline, item
        await asyncio.sleep(0.1)


def menu_of(item: dict[str, object]) -> dict[str, dict[str, object]]:
    entries = item["menu"]
    assert isinstance(entries, list)
    return {entry["label"]: entry for entry in entries if entry["visible"]}


def parley_window(display: str) -> XWindow:
    (window,) = [w for w in top_level_windows(display) if w.wm_class == ("parley", "Parley")]
    return window


async def test_closing_the_window_leaves_parley_in_the_tray_where_calls_still_ring(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    with x_display() as display, session_bus(tmp_path) as bus:
        host = FakeTrayHost(bus)
        env = dict(
            os.environ,
            DISPLAY=display,
            DBUS_SESSION_BUS_ADDRESS=bus,
            QT_QPA_PLATFORM="xcb",
            XDG_CONFIG_HOME=str(tmp_path / "config"),
            PARLEY_DATA_DIR=str(tmp_path / "data"),
            PARLEY_LOCAL_PORT=str(unused_tcp_port),
        )
        env.pop("PARLEY_SERVER_URL", None)
        parley = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app", "--user-id", "alice", "--name", "Alice Martin",
            cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        bob: Bot | None = None
        try:
            assert (await host.next_event(timeout=20))["event"] == "registered"
            item = await until_described(host, lambda i: "online" in str(i["tool_tip"]))
            assert item["tool_tip"] == "Parley · Alice Martin · online"
            menu = menu_of(item)
            assert list(menu) == [
                "Show Parley", "Alice Martin · online", "Do not disturb",
                "Keep running when the window is closed", "Start in the tray", "Settings…",
                "Quit Parley",
            ]  # fmt: skip
            assert menu["Do not disturb"]["checked"] is False
            assert menu["Keep running when the window is closed"]["checked"] is True
            assert menu["Start in the tray"]["checked"] is False
            assert menu["Alice Martin · online"]["enabled"] is False

            # The window manager's close button: the window goes, Parley stays.
            await wait_until(lambda: parley_window(display).viewable)
            close_window(display, parley_window(display).window_id)
            await wait_until(lambda: not parley_window(display).viewable)
            await asyncio.sleep(0.5)
            assert parley.returncode is None

            # A call rings while the window is closed, and goes unanswered.
            secret = (tmp_path / "config" / "parley" / "local-secret").read_text().strip()
            bob = Bot(
                f"http://127.0.0.1:{unused_tcp_port}",
                mint_token(secret, "bob", "Bob"),
                User("bob", "Bob"),
            )
            await bob.sign_in()
            await bob.call(["alice"], video=False)
            kit = bob.kit
            await wait_until(lambda: kit.invitations is not None)
            assert kit.invitations is not None
            assert kit.invitations.phase is Phase.OUTGOING
            await asyncio.sleep(0.5)  # it rings at Alice's
            await bob.cancel()

            item = await until_described(host, lambda i: "missed" in str(i["tool_tip"]))
            assert item["tool_tip"] == "Parley · Alice Martin · online\n1 missed call"
            assert "1 missed call" in menu_of(item)

            await host.ask("click 1 missed call")  # back to the window, to see who
            await wait_until(lambda: parley_window(display).viewable)
            await host.ask("activate")  # a click on the icon while the window shows
            await wait_until(lambda: not parley_window(display).viewable)

            # Do not disturb, from the tray: the next call is refused as busy, unrung.
            await host.ask("click Do not disturb")
            item = await until_described(host, lambda i: "Do not disturb" in str(i["tool_tip"]))
            assert menu_of(item)["Do not disturb"]["checked"] is True
            await bob.call(["alice"], video=False)
            await bob.expect("invitation.on_outgoing_call_rejected_cause_busy", timeout=10)
            item = await until_described(host, lambda i: "2 missed calls" in str(i["tool_tip"]))

            await host.ask("click Quit Parley")
            assert await asyncio.wait_for(parley.wait(), 15) == 0
        finally:
            if bob is not None:
                await bob.close()
            if parley.returncode is None:
                parley.kill()
                await parley.wait()
            host.stop()
