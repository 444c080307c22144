"""One running Parley: every part built once, wired, started and shut down in order."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app.kit.account import Account, ClientFactory
from app.kit.local_server import (
    ENV_CA_FILE,
    ENV_SECRET,
    ENV_SERVER_URL,
    ServerError,
    ServerHandle,
    ServerMode,
    ServerSettings,
    config_dir,
    open_server,
)
from app.kit.preferences import PreferenceStore
from app.kit.tasks import TaskKeeper
from app.main.desktop import Desktop
from app.main.options import Options
from app.main.wiring import wire_shell
from app.qt.account import AccountBridge
from app.qt.links import LinkOpener
from app.qt.navigation import bring_to_front
from app.qt.settings_storage import QSettingsStorage
from app.qt.signals import wake_on_signals
from resources import APP_ICON, SOUNDS
from widgets.main_window import MainWindow
from widgets.theme import Colors, Theme, apply_theme

if TYPE_CHECKING:
    # The network stack (~0.3 s) and the call stack (aiortc, PyAV, OpenCV: ~0.5 s) are
    # imported after the first page is on screen (see Application.start), never before.
    from app.kit.audio_room.kit import AudioRoomKit
    from app.kit.bots import Bot
    from app.kit.bus import EventBus
    from app.kit.call.service import CallInvitationService
    from app.kit.connect import SignInTarget
    from app.kit.devices.settings import DeviceSettings
    from app.kit.history.recorder import CallHistory
    from app.kit.lifecycle import AccountKits
    from app.qt.call import CallPresenter
    from app.qt.call_alerts import CallAlerts
    from app.qt.devices import DevicesPresenter
    from app.qt.navigation import Navigator
    from app.qt.room import RoomPresenter
    from app.qt.room_entry import RoomEntry
    from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
    from widgets.minimize_overlay import MinimizeOverlay
    from widgets.outgoing_call_page import OutgoingCallPage

__all__ = ["Application", "data_dir", "make_client_factory", "profile_dir"]

ENV_REPORT_STARTUP = "PARLEY_REPORT_STARTUP"
ENV_DATA_DIR = "PARLEY_DATA_DIR"


def make_client_factory(server: ServerHandle) -> ClientFactory:
    """Clients for ``server``; each mints a fresh token whenever it (re)connects."""
    from app.kit.connect import SignInTarget

    return SignInTarget(server).make_client


class Application:
    """One running Parley: its parts, wired; :meth:`start`, then :meth:`shutdown`."""

    def __init__(self, qt_app: QApplication, options: Options | None = None) -> None:
        self.qt_app = qt_app
        self.options = options or Options()
        self.tasks = TaskKeeper("parley")
        self.settings = self.options.settings or QSettings()
        self.preferences = PreferenceStore(QSettingsStorage(self.settings, "preferences"))
        # --theme wins for this run; without it, the colours chosen in the settings.
        theme = self.options.theme
        if theme is Theme.AUTO:
            theme = self.preferences.current.theme
        self.colors: Colors = apply_theme(qt_app, theme)
        # The server opened at start is remote when given, or named with its secret
        # (a --server without one is offered on the sign-in page; the local one opens).
        url = self.options.server_url or os.environ.get(ENV_SERVER_URL)
        remote = bool(self.options.server) or bool(url and os.environ.get(ENV_SECRET))
        self.bridge = AccountBridge(self.tasks, remote=remote)
        self.window = MainWindow(self.settings, self.colors)
        self.server: ServerHandle | None = None
        self.target: SignInTarget | None = None
        self.account: Account | None = None
        # Built once the server is open (after the first page is on screen).
        self.bus: EventBus | None = None
        self.call_kit: CallInvitationService | None = None
        self.room_kit: AudioRoomKit | None = None
        self.kits: AccountKits | None = None
        self.calls: CallPresenter | None = None
        self.rooms: RoomPresenter | None = None
        self.room_entry: RoomEntry | None = None
        self.navigator: Navigator | None = None
        self.overlay: MinimizeOverlay | None = None
        self.outgoing_page: OutgoingCallPage | None = None
        self.incoming_page: IncomingCallPage | None = None
        self.banner: IncomingCallBanner | None = None
        self.history: CallHistory | None = None
        self.device_settings: DeviceSettings | None = None
        self.devices: DevicesPresenter | None = None
        self.echo: Bot | None = None
        self.call_alerts: CallAlerts | None = None
        self._closed: asyncio.Future[None] | None = None
        self._shut_down = False
        self._undo_signals: Callable[[], None] | None = None
        wire_shell(self.window, self.bridge)
        self.links = LinkOpener(
            prepare_call=self._prepare_call,
            offer_room=self._offer_room,
            notice=self.window.show_notice,
            parent=self.window,
        )
        self.bridge.signed_in.connect(lambda _me: self.links.signed_in())
        self.bridge.signed_out.connect(self.links.signed_out)
        self.desktop = Desktop(
            self.window,
            self.bridge,
            self.preferences,
            self.colors,
            quit_app=self.request_quit,
            devices=lambda: self.devices,
        )
        if os.environ.get(ENV_REPORT_STARTUP) == "1":
            # What the installer's check waits for (packaging/check-deb-inside.sh).
            self.bridge.signed_in.connect(
                lambda me: print(f"parley: signed in as {me.user_id}", flush=True)
            )
        self.tasks.failures.subscribe(self.window.show_error)
        if self.options.user_id:
            self.window.signin_page.user_id_edit.setText(self.options.user_id)
            self.window.signin_page.name_edit.setText(self.options.name)

    # --- running ----------------------------------------------------------------------

    async def start(self) -> bool:
        """Show the first page, open the server, wire the kits, sign in if asked.

        False when the server cannot be opened (the window says why).
        """
        self.desktop.show()
        if self.options.link:
            self.links.open(self.options.link)  # says so at once, opens after the sign-in
        if os.environ.get(ENV_REPORT_STARTUP) == "1":
            # Runs once the loop has drawn the window: the first page is on screen.
            QTimer.singleShot(0, _report_first_page)
        # Let the first page paint before importing the rest and opening the server.
        for _ in range(2):
            await asyncio.sleep(0)
        options = self.options
        page = self.window.signin_page
        ca_file = options.ca_file or os.environ.get(ENV_CA_FILE) or None
        try:
            if isinstance(options.server, ServerHandle):
                self.server = options.server
            elif options.server is not None:
                self.server = await options.server()
            else:
                settings = ServerSettings.from_env(
                    server_url=options.server_url, ca_file=options.ca_file
                )
                if settings.account_url and not options.user_id:
                    page.offer_server(settings.account_url)
                self.server = await open_server(settings)
        except ServerError as exc:
            self.bridge.fail(str(exc))
            await self._fatal(str(exc))
            return False
        from app.kit.connect import SignInTarget
        from app.kit.credentials import open_credentials_async
        from app.kit.remote_account import RemoteAccounts

        target = self.target = SignInTarget(self.server)
        self.account = Account(target.make_client, on_server_lost=target.server_lost)
        credentials = options.credentials or await open_credentials_async(config_dir())
        self._build(self.account, target)
        # Everything that listens to the bridge is wired: sign-ins (waiting or new) go on.
        self.bridge.attach(
            self.account, self.server, target, RemoteAccounts(credentials), ca_file=ca_file
        )
        if options.echo:
            if self.server.mode is ServerMode.HOSTING:
                self.tasks.spawn(self._start_echo(self.server), "start the echo user")
            # The window that takes over hosting from one that quit brings echo back.
            self.server.subscribe(self._on_server_mode)
        if options.user_id:
            self.bridge.sign_in(options.user_id, options.name)
        elif (kept := page.remembered_server_sign_in()) is not None:
            self.bridge.resume_remote(*kept)
        return True

    async def run(self) -> int:
        """Run until the window is closed; returns the exit status."""
        self._closed = asyncio.get_running_loop().create_future()
        if self.options.handle_signals:
            self._undo_signals = wake_on_signals(self.qt_app, self.request_quit)
        started = await self.start()
        if started:
            await self._closed
        await self.shutdown()
        return 0 if started else 1

    def open_link(self, text: str) -> None:
        """Another start of Parley on this profile, or a ``parley://`` link: come to the
        front, and open ``text`` unless it is empty."""
        bring_to_front(self.window)
        if text:
            self.links.open(text)

    def _prepare_call(self, user_id: str) -> None:
        home = self.window.home_page
        home.callee_edit.setText(user_id)
        home.voice_button.setFocus()

    def _offer_room(self, room_id: str) -> None:
        if self.room_entry is not None:
            self.room_entry.request(room_id)

    def open_settings(self) -> None:
        """The settings window (the home page's Settings…, the tray's menu)."""
        self.desktop.open_settings()

    def request_quit(self) -> None:
        """Begin the orderly shutdown (window closed, Ctrl+C, SIGTERM)."""
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    async def shutdown(self) -> None:
        """Hang up, leave, cancel background work, sign out, stop the server if hosted
        here; idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.kits is not None:
            self.kits.close()  # nothing starts any more
        if self.rooms is not None:
            await self.rooms.close()
        if self.call_kit is not None:
            await self.call_kit.uninit()
        if self.calls is not None:
            await self.calls.close()
        if self.history is not None:
            self.history.close()  # after the calls: the one they ended is written down
        if self.devices is not None:
            await self.devices.close()  # no preview left holding a camera
        if self.device_settings is not None:
            await self.device_settings.close()
        if self.echo is not None:
            await self.echo.close()
        if self.call_alerts is not None:
            await self.call_alerts.close()
        self.bridge.detach()
        if self.account is not None:
            await self.account.close()
        await self.tasks.close()  # what the pages started and is still running
        if self.server is not None:
            await self.server.stop()
        if self.bus is not None:
            await self.bus.drain()
        if self.overlay is not None:
            self.overlay.close()
        if self._undo_signals is not None:
            self._undo_signals()
            self._undo_signals = None
        self.desktop.hide()
        self.window.close_for_good()

    async def _start_echo(self, server: ServerHandle) -> None:
        """The built-in ``echo`` user, beside the local server this window hosts."""
        from app.kit.call.echo import ECHO_USER, echo_bot

        if self.echo is not None:
            await self.echo.close()  # its server went away with the old host
        echo = echo_bot(server.url, server.mint_token(ECHO_USER.id, ECHO_USER.name))
        self.echo = echo
        await echo.sign_in()

    def _on_server_mode(self, mode: ServerMode) -> None:
        if mode is ServerMode.HOSTING and self.server is not None and not self._shut_down:
            self.tasks.spawn(self._start_echo(self.server), "start the echo user again")

    async def _fatal(self, message: str) -> None:
        print(f"parley: {message}", file=sys.stderr)
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            return  # nobody could dismiss a dialog there
        from PySide6.QtWidgets import QMessageBox

        from app.qt.dialogs import run_modal

        title = QCoreApplication.translate("main", "Parley cannot start")
        await run_modal(lambda: QMessageBox.critical(self.window, title, message))

    # --- building ---------------------------------------------------------------------

    def _build(self, account: Account, server: SignInTarget) -> None:
        """Both kits, their presenters and pages, the history and the device settings."""
        from app.kit.audio_room.kit import AudioRoomKit
        from app.kit.bus import EventBus
        from app.kit.call.service import CallInvitationService
        from app.kit.devices.settings import DeviceSettings
        from app.kit.history.recorder import CallHistory
        from app.kit.lifecycle import AccountKits, CallKitSettings
        from app.kit.media import MediaOptions
        from app.kit.notifications import DesktopCallNotifier
        from app.kit.preferences import Preferences
        from app.main.wiring import (
            open_device_settings,
            wire_calls,
            wire_home,
            wire_overlay,
            wire_rooms,
            wire_signed_out_elsewhere,
        )
        from app.qt.auto_answer import AutoAnswer
        from app.qt.call import CallPresenter
        from app.qt.call_alerts import CallAlerts
        from app.qt.defaults import DefaultActions
        from app.qt.devices import DevicesPresenter
        from app.qt.dialogs import Dialogs
        from app.qt.home_actions import (
            call_after_asking,
            clear_after_asking,
            leave_room_for_call,
        )
        from app.qt.navigation import Navigator
        from app.qt.overlay import OverlayIntents
        from app.qt.push_to_talk import PushToTalk
        from app.qt.room import RoomPresenter
        from app.qt.room_entry import RoomEntry
        from media.sounds import SoundPlayer
        from widgets.confirm_dialog import ConfirmDialog
        from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
        from widgets.join_room_dialog import JoinRoomDialog
        from widgets.minimize_overlay import MinimizeOverlay
        from widgets.outgoing_call_page import OutgoingCallPage

        options, window, colors, tasks = self.options, self.window, self.colors, self.tasks
        media = options.media or MediaOptions()
        devices = self.device_settings = DeviceSettings(QSettingsStorage(self.settings))
        presenter = self.devices = DevicesPresenter(
            devices, tasks, base=media, sounds_dir=SOUNDS, parent=window
        )
        # Saved choices match devices once listed; a call before that uses the defaults.
        presenter.refresh()
        history = self.history = CallHistory((options.data_dir or data_dir()) / "history.sqlite3")
        tray = self.desktop.tray
        history.subscribe(lambda: tray.set_missed(history.unseen_missed_count()))
        bus = self.bus = EventBus()
        if os.environ.get(ENV_REPORT_STARTUP) == "1":
            bus.subscribe(_report_call)
        call_kit = self.call_kit = CallInvitationService(bus)
        room_kit = self.room_kit = AudioRoomKit(bus)
        history.follow(bus, call_kit, name_of=self._name_of)
        self.kits = AccountKits(
            account,
            server,
            call_kit,
            room_kit,
            tasks,
            CallKitSettings(
                media=media,
                invitation=options.invitation,
                call_config=options.call_config,
                media_factory=devices.local_media,
            ),
        )
        self.kits.when_started.append(self._call_on_sign_in)
        overlay = self.overlay = MinimizeOverlay(colors, window)
        outgoing = self.outgoing_page = OutgoingCallPage(colors)
        incoming = self.incoming_page = IncomingCallPage(colors)
        banner = self.banner = IncomingCallBanner(colors, window)
        navigator = self.navigator = Navigator(
            window,
            window.stack,
            window.home_page,
            outgoing_page=outgoing,
            incoming_page=incoming,
            banner=banner,
            overlay=overlay,
            outcome_linger_ms=options.outcome_linger_ms,
            parent=window,
        )
        dialogs = Dialogs(
            confirm=lambda texts, parent: ConfirmDialog.ask(texts, colors, parent),
            choose_room=lambda parent, last: JoinRoomDialog.ask(colors, parent, last),
        )
        sounds = SoundPlayer(SOUNDS) if options.sounds else None
        calls = self.calls = CallPresenter(
            call_kit, tasks, sounds, name_of=self._name_of, parent=window
        )
        rooms = self.rooms = RoomPresenter(
            room_kit,
            tasks,
            media=media,
            media_factory=devices.local_media,
            confirm=lambda texts: dialogs.confirm(texts, navigator.room_page),
            parent=window,
        )
        # One call or room at a time: accepting a call leaves the room first.
        calls.before_joining = lambda: leave_room_for_call(rooms, window.show_notice)
        DefaultActions(
            bus,
            navigator,
            dialogs,
            window,
            call_minimize=call_kit.controller.minimize,
            room_minimize=room_kit.controller.minimize,
            room_joining=lambda: rooms.joining,
            parent=window,
        )
        entry = self.room_entry = RoomEntry(
            rooms,
            self.bridge,
            navigator,
            dialogs,
            window,
            tasks,
            busy=lambda: call_kit.session is not None or calls.phase.value != "idle",
            parent=window,
        )
        wire_home(
            window.home_page,
            self.bridge,
            calls,
            entry,
            history,
            lambda: open_device_settings(presenter, colors, window),
            lambda: tasks.spawn(clear_after_asking(history, dialogs, window), "clear Recent calls"),
            lambda ids, video: tasks.spawn(
                call_after_asking(
                    calls, rooms, dialogs, window, ids, video, lambda uid: self._name_of(uid) or uid
                ),
                "call",
            ),
        )
        wire_calls(
            calls, navigator, overlay, outgoing, incoming, banner, colors, options.menu_popper
        )
        wire_rooms(rooms, navigator, overlay, window, bus, colors, options.menu_popper)
        notifier = options.notifier or DesktopCallNotifier(icon=APP_ICON)
        preferences = self.preferences
        self.call_alerts = CallAlerts(
            calls, window, notifier, tasks, enabled=lambda: preferences.current.call_notifications
        )
        AutoAnswer(calls, preferences, in_room=lambda: rooms.in_room, parent=window)
        PushToTalk(window, calls, rooms, preferences)

        def follow_preferences(chosen: Preferences) -> None:
            call_kit.do_not_disturb = chosen.do_not_disturb
            window.set_do_not_disturb(chosen.do_not_disturb)

        follow_preferences(preferences.current)

        preferences.subscribe(follow_preferences)
        window.home_page.settings_requested.connect(self.open_settings)
        wire_signed_out_elsewhere(self.bridge, navigator, window)
        intents = OverlayIntents(navigator, calls, rooms, parent=window)
        wire_overlay(overlay, intents, outgoing, incoming)

    def _name_of(self, user_id: str) -> str | None:
        users = self.bridge.users
        return next((u.name for u in users if u.user_id == user_id), None)

    async def _call_on_sign_in(self) -> None:
        ids, self.options.call = self.options.call, []
        if ids and self.calls is not None:
            self.calls.call(ids, True)


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


def profile_dir(profile: str) -> Path:
    """A named profile's folder (its settings, history and lock); :func:`data_dir` for
    the default one."""
    if not profile:
        return data_dir()
    path = data_dir() / "profiles" / profile
    path.mkdir(parents=True, exist_ok=True)
    return path


def _report_call(path: str, args: tuple[object, ...]) -> None:
    # ``call.user.on_enter(user)``: the other side's media is connected.
    from app.kit.types import User

    user = args[0] if args else None
    if path == "call.user.on_enter" and isinstance(user, User):
        print(f"parley: in a call with {user.id}", flush=True)


def _report_first_page() -> None:
    print(f"parley: first page shown {time.perf_counter():.6f}", flush=True)
