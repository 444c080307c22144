"""The composition root: ``parley`` builds the application, wires it, runs it, shuts it down.

Everything is built and connected here and nowhere else: the Qt application and its
qasync loop, the event bus, the server (started, reused or remote), the session, the
Qt bridge, the call kit with its presenter and navigation, the echo user, and the
windows. ``PARLEY_REPORT_STARTUP=1`` prints ``parley: first page shown <perf_counter>``
once the first page is on screen (``benchmarks/app_start.py`` reads it).

The sign-in page comes first: this module imports only Qt and the light parts of the
app, shows the window, and only then imports the network stack (python-socketio,
aiohttp, pydantic, PyJWT) and the call stack (aiortc, PyAV, OpenCV) and opens the server.
A sign-in requested meanwhile waits for the server (see ``SessionBridge``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import qasync
from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from app.kit.account import ClientFactory, Session
from app.kit.local_server import (
    ENV_SERVER_URL,
    ServerError,
    ServerHandle,
    ServerMode,
    ServerSettings,
    open_server,
)
from app.qt.account import SessionBridge, TaskKeeper
from widgets.main_window import MainWindow
from widgets.theme import Colors, Theme, apply_theme

if TYPE_CHECKING:
    # The network stack (~0.3 s) and the call stack (aiortc, PyAV, OpenCV: ~0.5 s) are
    # imported after the first page is on screen (see Application.run), never before.
    from app.compose.call_ui import CallUi
    from app.compose.room_ui import RoomUi
    from app.kit.bots.call import Bot
    from app.kit.bus import EventBus
    from app.kit.call.service import CallInvitationService
    from app.kit.devices.settings import DeviceSettings
    from app.kit.history.recorder import CallHistory
    from app.qt.devices import DevicesPresenter
    from signaling.client import SignalingClient

log = logging.getLogger("parley")

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
APP_ICON = RESOURCES / "icons" / "parley-app.svg"
SOUNDS = RESOURCES / "sounds"
ENV_REPORT_STARTUP = "PARLEY_REPORT_STARTUP"
ENV_DATA_DIR = "PARLEY_DATA_DIR"
ORGANIZATION = "Parley"
APPLICATION = "Parley"


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Parley's options, and whatever is left for Qt (``-platform`` and friends)."""
    parser = argparse.ArgumentParser(
        prog="parley", description="Parley: desktop calls and audio rooms."
    )
    parser.add_argument("--user-id", help="sign in at once as this user ID")
    parser.add_argument("--name", help="display name for --user-id (default: the user ID)")
    parser.add_argument(
        "--server",
        metavar="URL",
        help="use this parley-server (its secret in $PARLEY_SECRET) instead of the local one",
    )
    parser.add_argument(
        "--theme", choices=[t.value for t in Theme], default=Theme.AUTO.value, help="colours"
    )
    parser.add_argument(
        "--call",
        metavar="IDS",
        help="with --user-id: place a video call to these user IDs once signed in "
        "(e.g. --call echo to check your devices)",
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level")
    return parser.parse_known_args(list(argv))


def make_client_factory(server: ServerHandle) -> ClientFactory:
    """Clients for ``server``; each mints a fresh token whenever it (re)connects."""
    from signaling.client import SignalingClient

    def make(user_id: str, name: str) -> SignalingClient:
        return SignalingClient(server.url, lambda: server.mint_token(user_id, name))

    return make


class Application:
    """One running Parley: the parts main() wires, with an orderly async shutdown."""

    def __init__(self, qt_app: QApplication, args: argparse.Namespace) -> None:
        self.qt_app = qt_app
        self.args = args
        self.bus: EventBus | None = None
        """The central event bus, built with the kits (after the first page is shown)."""
        self.tasks = TaskKeeper()
        self.server: ServerHandle | None = None
        self.session: Session | None = None
        self.bridge: SessionBridge | None = None
        self.window: MainWindow | None = None
        self.kit: CallInvitationService | None = None
        self.calls: CallUi | None = None
        self.rooms: RoomUi | None = None
        self.history: CallHistory | None = None
        self.device_settings: DeviceSettings | None = None
        self.devices: DevicesPresenter | None = None
        self.colors: Colors | None = None
        self.echo: Bot | None = None
        self._closed: asyncio.Future[None] | None = None

    async def run(self) -> int:
        """Run until the window is closed; returns the exit status."""
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        # The sign-in page first: nothing below has been imported yet.
        remote = bool(self.args.server or os.environ.get(ENV_SERVER_URL))
        bridge = self.bridge = SessionBridge(None, None, self.tasks, remote=remote)
        colors = self.colors = apply_theme(self.qt_app, Theme(self.args.theme))
        window = self.window = MainWindow(bridge, QSettings(), colors)
        window.close_requested.connect(self.request_quit)
        self.tasks.failed.connect(window.show_error)
        if self.args.user_id:
            window.signin_page.user_id_edit.setText(self.args.user_id)
            window.signin_page.name_edit.setText(self.args.name or "")
        self._install_signal_handlers(loop)
        window.show()
        if os.environ.get(ENV_REPORT_STARTUP) == "1":
            # Runs once the loop has drawn the window: the first page is on screen.
            QTimer.singleShot(0, _report_first_page)
        # Let the first page paint before importing the rest and opening the server.
        for _ in range(2):
            await asyncio.sleep(0)
        try:
            self.server = await open_server(ServerSettings.from_env(server_url=self.args.server))
        except ServerError as exc:
            bridge.fail(str(exc))
            await self._fatal(str(exc))
            await self.shutdown()
            return 1
        self.session = Session(
            make_client_factory(self.server), on_server_lost=self.server.take_over
        )
        calls = self._build_kits(window, bridge, self.session, self.server, colors)
        # Everything that listens to the bridge is wired: sign-ins (waiting or new) go on.
        bridge.attach(self.session, self.server)
        if self.server.mode is ServerMode.HOSTING:
            self.tasks.spawn(self._start_echo(self.server), "start the echo user")
        if self.args.user_id:
            if self.args.call:
                from app.kit.identity import parse_user_ids

                calls.call_on_sign_in = parse_user_ids(self.args.call)
            bridge.sign_in(self.args.user_id, self.args.name or "")
        await self._closed
        await self.shutdown()
        return 0

    def _build_kits(
        self,
        window: MainWindow,
        bridge: SessionBridge,
        session: Session,
        server: ServerHandle,
        colors: Colors,
    ) -> CallUi:
        """The call kit, the audio room kit, the call history and the device settings."""
        from app.compose.call_ui import CallUi
        from app.compose.room_ui import RoomUi
        from app.kit.audio_room.kit import AudioRoomKit
        from app.kit.bus import EventBus
        from app.kit.call.service import CallInvitationService
        from app.kit.devices.settings import DeviceSettings
        from app.kit.history.recorder import CallHistory
        from app.qt.devices import DevicesPresenter, QSettingsStorage
        from media.sounds import SoundPlayer

        devices = self.device_settings = DeviceSettings(QSettingsStorage(QSettings()))
        self.devices = DevicesPresenter(devices, self.tasks, sounds_dir=SOUNDS, parent=window)
        # Saved choices match devices once listed; a call before that uses the defaults.
        self.devices.refresh()
        window.home_page.devices_requested.connect(self._open_devices)
        self.history = CallHistory(data_dir() / "history.sqlite3")
        bus = self.bus = EventBus()
        self.kit = CallInvitationService(bus)
        calls = self.calls = CallUi(
            window,
            bridge,
            session,
            server,
            self.kit,
            self.tasks,
            colors,
            sounds=SoundPlayer(SOUNDS),
            media_factory=devices.local_media,
            history=self.history,
        )

        def in_a_call() -> bool:
            return calls.kit.session is not None or calls.presenter.phase.value != "idle"

        self.rooms = RoomUi(
            window,
            bridge,
            session,
            AudioRoomKit(bus),
            self.tasks,
            colors,
            media_factory=devices.local_media,
            busy=in_a_call,
        )
        return calls

    def _open_devices(self) -> None:
        from widgets.device_settings_dialog import open_device_settings

        if self.devices is not None and self.colors is not None:
            open_device_settings(self.devices, self.colors, self.window)

    def request_quit(self) -> None:
        """Begin the orderly shutdown (window closed, Ctrl+C, SIGTERM)."""
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    async def _start_echo(self, server: ServerHandle) -> None:
        """The built-in ``echo`` user, beside the local server this window hosts."""
        from app.kit.call.echo import ECHO_USER, echo_bot

        echo = echo_bot(server.url, server.mint_token(ECHO_USER.id, ECHO_USER.name))
        self.echo = echo
        await echo.sign_in()

    async def shutdown(self) -> None:
        """Hang up, cancel background work, sign out, stop the server if hosted here."""
        if self.rooms is not None:
            await self.rooms.close()
        if self.calls is not None:
            await self.calls.close()
        if self.history is not None:
            self.history.close()  # after the calls: the one they ended is written down
        if self.devices is not None:
            await self.devices.close()  # before the tasks: no preview left holding a camera
        await self.tasks.close()
        if self.device_settings is not None:
            await self.device_settings.close()
        if self.echo is not None:
            await self.echo.close()
        if self.session is not None:
            await self.session.close()
        if self.server is not None:
            await self.server.stop()
        if self.bus is not None:
            await self.bus.drain()
        if self.window is not None:
            self.window.close_for_good()

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not available on every platform's loop; the window's close button still works.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.request_quit)

    async def _fatal(self, message: str) -> None:
        print(f"parley: {message}", file=sys.stderr)
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            return  # nobody could dismiss a dialog there
        from PySide6.QtWidgets import QMessageBox

        title = QCoreApplication.translate("main", "Parley cannot start")
        # asyncWrap runs the modal box outside any task, so the loop keeps working under it.
        await qasync.asyncWrap(lambda: QMessageBox.critical(self.window, title, message))


def data_dir() -> Path:
    """Where Parley keeps its files (``$PARLEY_DATA_DIR``, else the platform's app data)."""
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        path = Path(override)
    else:
        from PySide6.QtCore import QStandardPaths

        location = QStandardPaths.StandardLocation.AppDataLocation
        path = Path(QStandardPaths.writableLocation(location))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _report_first_page() -> None:
    print(f"parley: first page shown {time.perf_counter():.6f}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``parley`` console script."""
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    qt_app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationDisplayName(APPLICATION)
    if APP_ICON.is_file():  # absent where only the Python packages were installed
        qt_app.setWindowIcon(QIcon(str(APP_ICON)))
    # Closing the window starts an async shutdown; Qt must not quit the loop under it.
    qt_app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qt_app)
    application = Application(qt_app, args)
    try:
        status = int(loop.run_until_complete(_run_to_the_end(application)))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except KeyboardInterrupt:
        status = 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        loop.close()
    return status


async def _run_to_the_end(application: Application) -> int:
    status = await application.run()
    await _finish_other_tasks()
    return status


async def _finish_other_tasks() -> None:
    # Library tasks still running at exit (engine.io pings, aiohttp handlers of closed
    # connections) are cancelled and awaited here, on the running loop, as asyncio.run()
    # does. Left for later, qasync would step them in the last processEvents() after
    # run_until_complete, with no running loop ("RuntimeError: no running event loop").
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    for task in others:
        task.cancel()
    if others:
        await asyncio.gather(*others, return_exceptions=True)
