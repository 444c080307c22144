"""Two people using Parley side by side, on a real X server with a window manager.

Alice's and Bob's windows (Parley's own ``Application``, wired as ``parley`` wires it,
synthetic camera and microphone) on one in-process server, placed side by side under
openbox on a private Xvfb; the script walks them through the flows people hit and saves
a picture of the whole screen at each step — window decorations, dialogs and all — to
look at. Run (root installs what is missing):

    python3 scripts/dev.py walkthrough          # pictures in .parley-run/walkthrough/

With a ``DISPLAY`` already set (a desktop session), the windows open there instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
OUT = ROOT / ".parley-run" / "walkthrough"


@contextmanager
def private_desktop() -> Iterator[None]:
    """A private Xvfb with openbox on it, unless there is a display already."""
    if os.environ.get("DISPLAY"):
        yield
        return
    from tests.support.x_server import x_display

    with x_display(1280, 760) as display:
        os.environ["DISPLAY"] = display
        window_manager = subprocess.Popen(["openbox"], stderr=subprocess.DEVNULL)
        try:
            yield
        finally:
            window_manager.terminate()
            window_manager.wait(timeout=10)


async def walk(qt_app: object, settings_dir: Path) -> None:
    from _wired_app import open_window, until
    from PySide6.QtWidgets import QApplication

    from app.kit.types import AudioRoomRole
    from widgets.confirm_dialog import ConfirmDialog

    assert isinstance(qt_app, QApplication)
    step = 0

    async def shot(name: str) -> None:
        nonlocal step
        await asyncio.sleep(0.6)  # the window manager maps and paints
        step += 1
        screen = qt_app.primaryScreen()
        path = OUT / f"{step:02d}-{name}.png"
        screen.grabWindow(0).save(str(path))
        print(f"wrote {path.relative_to(ROOT)}")

    (settings_dir / "alice").mkdir()
    (settings_dir / "bob").mkdir()
    alice_wired = await open_window(qt_app, settings_dir / "alice", 620, 700)
    shared = (alice_wired.server, alice_wired.secret)
    bob_wired = await open_window(qt_app, settings_dir / "bob", 620, 700, on=shared)
    alice, bob = alice_wired.app, bob_wired.app
    alice.window.move(10, 20)
    bob.window.move(650, 20)
    try:
        alice.bridge.sign_in("alice", "Alice Martin")
        bob.bridge.sign_in("bob", "Bob Okafor")
        homes = (alice.window.home_page, bob.window.home_page)
        await until(lambda: all(len(home.model.users()) == 2 for home in homes))
        await shot("both-signed-in")

        # A video call: Alice rings, Bob sees the banner over his home page.
        assert alice.calls is not None
        alice.window.home_page.callee_edit.setText("bob")
        alice.window.home_page.video_button.click()
        assert bob.banner is not None
        await until(bob.banner.isVisible)
        await shot("alice-rings-bob")
        bob.banner.accept_button.click()
        await until(lambda: alice.navigator is not None and alice.navigator.call_page is not None)
        await asyncio.sleep(1.5)  # video flows
        await shot("in-a-call")

        alice.calls.minimize()
        await shot("alice-minimized-the-call")
        alice.calls.restore()

        alice.calls.hang_up()
        await until(lambda: alice.call_kit is not None and alice.call_kit.session is None)
        await shot("after-the-call")

        # Someone not online: said, and kept in Recent calls.
        bob.window.home_page.callee_edit.setText("ghost")
        bob.window.home_page.voice_button.click()
        await shot("calling-someone-not-online")

        # Clearing Recent calls asks first: a dialog on the desktop.
        bob.window.home_page.history_list.clear_button.click()
        await until(lambda: isinstance(QApplication.activeModalWidget(), ConfirmDialog))
        await shot("clearing-recent-calls-asks")
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ConfirmDialog)
        dialog.cancel_button.click()

        # An audio room: Alice hosts, Bob listens; Alice leaves and the seats open.
        assert alice.room_entry is not None
        assert bob.room_entry is not None
        assert await alice.room_entry.join("walk-room", AudioRoomRole.HOST)
        assert await bob.room_entry.join("walk-room", AudioRoomRole.AUDIENCE)
        await asyncio.sleep(1.0)
        await shot("audio-room")
        assert alice.rooms is not None
        await alice.rooms.kit.leave(confirm=False)
        await shot("host-left-the-room")
        assert bob.rooms is not None
        await bob.rooms.kit.leave(confirm=False)

        # The smallest window.
        alice.window.resize(alice.window.minimumSize())
        await shot("minimum-size")
    finally:
        for wired in (bob_wired, alice_wired):
            await wired.app.shutdown()
        await alice_wired.server.stop()


def main() -> int:
    missing = [tool for tool in ("Xvfb", "openbox") if not shutil.which(tool)]
    if missing and not os.environ.get("DISPLAY"):
        print(f"walkthrough: needs {' and '.join(missing)} (apt-get install xvfb openbox)")
        return 1
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    with private_desktop():
        from _wired_app import run

        run(walk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
