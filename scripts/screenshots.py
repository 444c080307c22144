#!/usr/bin/env python3
"""Render the shell's pages offscreen, with real data, to docs/screenshots/*.png.

A real server runs in this process; four bot users sign in and get into every presence
state (idle, in a call, calling someone, ringing); then the real widgets are grabbed in
the light and the dark theme:

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from _wired_app import close_loop
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from app.kit.account import LinkState
from app.kit.local_server import ServerHandle, ServerMode
from app.kit.media import MediaOptions
from app.main import Application, Options
from app.main.wiring import open_device_settings
from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.enums import CallType
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from widgets.device_settings_dialog import DeviceSettingsDialog
from widgets.settings_dialog import SettingsDialog
from widgets.theme import Theme

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SIZE = (760, 660)


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the loop run until ``condition`` holds (checked every 20 ms by a Qt timer)."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    timer = QTimer()

    def check() -> None:
        if condition() and not done.done():
            done.set_result(None)

    timer.timeout.connect(check)
    timer.start(20)
    try:
        await asyncio.wait_for(done, timeout)
    finally:
        timer.stop()


async def settle() -> None:
    """Give Qt a few event-loop turns to lay out and paint."""
    for _ in range(5):
        await asyncio.sleep(0.02)
        QApplication.processEvents()


def save(widget: QWidget, name: str) -> None:
    path = OUT / f"{name}.png"
    if not widget.grab().save(str(path), "PNG"):
        raise RuntimeError(f"could not write {path}")
    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")


async def bots(server: RunningServer, secret: str) -> list[SignalingClient]:
    """Four other users, one in each presence state."""
    people = [("bob", "Bob Okafor"), ("carol", "Carol Nguyen"), ("dave", "Dave"), ("erin", "Erin")]
    clients = [SignalingClient(server.url, mint_token(secret, u, n)) for u, n in people]
    for client in clients:
        await client.connect()
    carol, dave = clients[1], clients[2]
    await carol.join_room("design-review", "call")  # in a call
    await dave.send_invitation(["erin"], CallType.VIDEO)  # dave inviting, erin ringing
    return clients


async def shoot(qt_app: QApplication, theme: Theme, settings_dir: Path) -> None:
    secret = secrets.token_urlsafe(36)
    server = await start_server(ServerConfig(secret=secret), "127.0.0.1", 0)
    others = await bots(server, secret)
    # The handle shows "hosted here" but the script stops the server itself, once.
    handle = ServerHandle(server.url, secret, ServerMode.HOSTING)
    server_running = True
    options = Options(
        theme=theme,
        server=handle,
        settings=QSettings(str(settings_dir / f"{theme}.ini"), QSettings.Format.IniFormat),
        data_dir=settings_dir / str(theme),
        media=MediaOptions(synthetic=True),
        sounds=False,
        echo=False,
        handle_signals=False,
    )
    app = Application(qt_app, options)
    window, bridge = app.window, app.bridge
    window.resize(*SIZE)
    assert await app.start()
    try:
        page = window.signin_page
        page.user_id_edit.setText("alice")
        page.name_edit.setText("Alice Martin")
        await settle()
        save(window, f"signin-{theme}")

        page.set_mode("server")
        page.server_edit.setText("https://parley.example.org")
        page.password_edit.setText("correct horse battery")
        await settle()
        save(window, f"signin-server-{theme}")
        page.create_check.setChecked(True)
        page.invite_edit.setText("Xq3v9kPz7w2mYt8rLbN4cFh6")
        await settle()
        save(window, f"signin-server-create-{theme}")
        page.create_check.setChecked(False)
        page.password_edit.clear()
        page.set_mode("local")

        page.user_id_edit.setText("alice martin")
        page.on_sign_in_button_clicked()
        await settle()
        save(window, f"signin-error-{theme}")

        page.user_id_edit.setText("alice")
        page.on_sign_in_button_clicked()
        await until(lambda: len(window.home_page.model.users()) == 5)
        await settle()
        save(window, f"home-{theme}")

        app.preferences.update(do_not_disturb=True)
        app.open_settings()
        settings_dialog = window.findChild(SettingsDialog)
        assert settings_dialog is not None
        await settle()
        save(settings_dialog, f"settings-{theme}")
        settings_dialog.close()
        app.preferences.update(do_not_disturb=False)

        assert app.devices is not None
        open_device_settings(app.devices, app.colors, window)
        devices_dialog = window.findChild(DeviceSettingsDialog)
        assert devices_dialog is not None
        await until(lambda: devices_dialog.preview.has_frame)
        await asyncio.sleep(0.5)  # a few frames and levels
        save(devices_dialog, f"device-settings-{theme}")
        devices_dialog.reject()

        await server.stop()
        server_running = False
        await until(lambda: bridge.link_state is LinkState.RECONNECTING)
        await settle()
        save(window, f"reconnecting-{theme}")
    finally:
        await app.shutdown()
        for client in others:
            await client.close()
        if server_running:
            await server.stop()
        window.close_for_good()
        window.deleteLater()


async def main() -> int:
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as settings_dir:
        for theme in (Theme.LIGHT, Theme.DARK):
            await shoot(qt_app, theme, Path(settings_dir))
    return 0


if __name__ == "__main__":
    app = QApplication(sys.argv)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    status = loop.run_until_complete(main())
    close_loop(loop)
    sys.exit(status)
