"""What the wired-app screenshot scripts share: a server, a signed-out window, waiting.

``scripts/screenshots_app.py`` (calls) and ``scripts/screenshots_room_app.py`` (audio
rooms) drive the :class:`WiredWindow` this builds (Parley's own ``Application``) with
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

from app.kit.local_server import ServerHandle, ServerMode
from app.kit.media import MediaOptions
from app.main import Application, Options
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from widgets.theme import Theme

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
    """An in-process server and Parley's light-themed window on it, signed out."""

    server: RunningServer
    secret: str
    app: Application

    async def close(self) -> None:
        await self.app.shutdown()
        await self.server.stop()


async def open_window(
    qt_app: QApplication,
    settings_dir: Path,
    width: int,
    height: int,
    media: MediaOptions | None = None,
    on: tuple[RunningServer, str] | None = None,
) -> WiredWindow:
    """The window as ``parley`` builds it, with synthetic devices, on its own server (or
    on ``on``: a running server and its secret, shared with another window)."""
    if on is None:
        secret = secrets.token_urlsafe(48)
        server = await start_server(ServerConfig(secret=secret), "127.0.0.1", 0)
    else:
        server, secret = on
    options = Options(
        theme=Theme.LIGHT,
        server=ServerHandle(server.url, secret, ServerMode.REMOTE),
        settings=QSettings(str(settings_dir / "s.ini"), QSettings.Format.IniFormat),
        data_dir=settings_dir,
        media=media or MediaOptions(synthetic=True),
        sounds=False,
        echo=False,
        handle_signals=False,
    )
    app = Application(qt_app, options)
    app.window.resize(width, height)
    assert await app.start()
    return WiredWindow(server, secret, app)


def run(shoot: Callable[[QApplication, Path], Coroutine[Any, Any, None]]) -> None:
    """Run ``shoot(qt_app, settings_dir)`` on a qasync loop, offscreen by default."""
    OUT.mkdir(parents=True, exist_ok=True)
    qt_app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(qt_app, QApplication)
    qt_app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qt_app)
    with TemporaryDirectory() as settings_dir:
        loop.run_until_complete(shoot(qt_app, Path(settings_dir)))
    close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending (the server's engine.io ping tasks) and close ``loop``.

    Closing with tasks pending prints "Task was destroyed but it is pending!" for each.
    """
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
