"""What the wired-app screenshot scripts share: a server, a signed-out window, waiting.

``scripts/screenshots_app.py`` (calls) and ``scripts/screenshots_room_app.py`` (audio
rooms) each wire their kit onto the :class:`WiredWindow` this builds, drive it with
bots and save PNGs with :func:`save`; :func:`run` gives them a QApplication and a
qasync loop.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

from app.kit.account import Session
from app.kit.local_server import ServerHandle, ServerMode
from app.main import make_client_factory
from app.qt.account import SessionBridge, TaskKeeper
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from widgets.main_window import MainWindow
from widgets.theme import Colors, Theme, apply_theme

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


async def until(predicate: Callable[[], object], timeout: float = 15.0) -> None:
    """Poll on the loop until ``predicate()`` holds (a script may wait; tests must not)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the app never got there")
        await asyncio.sleep(0.05)


def save(widget: QWidget, name: str) -> None:
    """``docs/screenshots/<name>.png`` from ``widget`` as it is drawn now."""
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(OUT.parents[1])}")


@dataclass
class WiredWindow:
    """An in-process server and a light-themed main window wired to it, signed out."""

    server: RunningServer
    secret: str
    handle: ServerHandle
    tasks: TaskKeeper
    session: Session
    bridge: SessionBridge
    window: MainWindow
    colors: Colors

    async def close(self) -> None:
        await self.tasks.close()
        await self.session.close()
        await self.server.stop()
        self.window.close_for_good()


async def open_window(
    qt_app: QApplication, settings_dir: Path, width: int, height: int
) -> WiredWindow:
    secret = secrets.token_urlsafe(48)
    server = await start_server(ServerConfig(secret=secret), "127.0.0.1", 0)
    handle = ServerHandle(server.url, secret, ServerMode.REMOTE)
    tasks = TaskKeeper()
    session = Session(make_client_factory(handle))
    bridge = SessionBridge(session, handle, tasks)
    colors = apply_theme(qt_app, Theme.LIGHT)
    settings = QSettings(str(settings_dir / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(bridge, settings, colors)
    window.resize(width, height)
    return WiredWindow(server, secret, handle, tasks, session, bridge, window, colors)


def run(shoot: Callable[[QApplication, Path], Coroutine[Any, Any, None]]) -> None:
    """Run ``shoot(qt_app, settings_dir)`` on a qasync loop, offscreen by default."""
    OUT.mkdir(parents=True, exist_ok=True)
    qt_app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(qt_app, QApplication)
    qt_app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qt_app)
    with TemporaryDirectory() as settings_dir:
        loop.run_until_complete(shoot(qt_app, Path(settings_dir)))
    loop.close()
