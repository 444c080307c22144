"""The composition root: ``parley`` builds the application, wires it, runs it, shuts it down.

Everything is built and connected here and nowhere else, and this is the one module of
``app`` that imports ``widgets``: the Qt application and its qasync loop, the window and
its pages, the account and its Qt bridge, the server (started, reused or remote), the
event bus, both kits with their presenters, the navigation, the bus's default actions,
the call history, the device settings and the echo user. Pages and presenters meet only
here: a page's intents are connected to a presenter's slots, a presenter's typed signals
to a page's setters. The UI tests and the pytest plugin's window build the same
:class:`Application`, so they run the same wiring.

The sign-in page comes first: this module imports only Qt and the light parts of the
app, shows the window, and only then imports the network stack (python-socketio,
aiohttp, pydantic, PyJWT) and the call stack (aiortc, PyAV, OpenCV) and opens the server.
A sign-in requested meanwhile waits for the server (see :class:`AccountBridge`).
``PARLEY_REPORT_STARTUP=1`` prints ``parley: first page shown <perf_counter>`` once the
first page is on screen (``benchmarks/app_start.py`` reads it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import qasync
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMenu

from app.kit.account import Account, ClientFactory
from app.kit.local_server import (
    ENV_SERVER_URL,
    ServerError,
    ServerHandle,
    ServerMode,
    ServerSettings,
    open_server,
)
from app.kit.tasks import TaskKeeper
from app.qt.account import AccountBridge
from app.qt.navigation import Navigator, Shown
from app.qt.signals import wake_on_signals
from widgets.main_window import MainWindow
from widgets.theme import Colors, Theme, apply_theme

if TYPE_CHECKING:
    # The network stack (~0.3 s) and the call stack (aiortc, PyAV, OpenCV: ~0.5 s) are
    # imported after the first page is on screen (see Application.start), never before.
    import numpy as np
    import numpy.typing as npt
    from PySide6.QtCore import QPoint

    from app.kit.audio_room.kit import AudioRoomKit
    from app.kit.bots import Bot
    from app.kit.bus import EventBus
    from app.kit.call.service import CallConfigFactory, CallInvitationService
    from app.kit.config import CallConfig, CallInvitationConfig
    from app.kit.config.audio_room import AudioRoomConfig
    from app.kit.devices.settings import DeviceSettings
    from app.kit.history.recorder import CallHistory
    from app.kit.lifecycle import AccountKits
    from app.kit.media import MediaOptions
    from app.qt.call import CallPresenter
    from app.qt.devices import DevicesPresenter
    from app.qt.room import RoomPresenter
    from app.qt.room_entry import RoomEntry
    from widgets.device_settings_dialog import DeviceSettingsDialog
    from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
    from widgets.minimize_overlay import MinimizeOverlay
    from widgets.outgoing_call_page import OutgoingCallPage

log = logging.getLogger("parley")

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
APP_ICON = RESOURCES / "icons" / "parley-app.svg"
SOUNDS = RESOURCES / "sounds"
ENV_REPORT_STARTUP = "PARLEY_REPORT_STARTUP"
ENV_DATA_DIR = "PARLEY_DATA_DIR"
ORGANIZATION = "Parley"
APPLICATION = "Parley"

MenuPopper = Callable[[QMenu, "QPoint"], None]


@dataclass
class Options:
    """How one Parley is put together; :func:`parse_args` makes them for ``parley``.

    Tests give their own: a server already running, synthetic devices, settings and data
    in a temporary folder, no sounds, short timeouts.
    """

    theme: Theme = Theme.AUTO
    #: Sign in at once as this user (and ``name``), then call ``call`` (user IDs).
    user_id: str = ""
    name: str = ""
    call: list[str] = field(default_factory=list)
    #: A remote server's URL (``--server``); the local server otherwise.
    server_url: str | None = None
    #: A server already open, or how to open one (tests): instead of the local server.
    server: ServerHandle | Callable[[], Awaitable[ServerHandle]] | None = None
    #: The settings store (device choices, the last sign-in); the user's own by default.
    settings: QSettings | None = None
    #: Where the call history lives; ``$PARLEY_DATA_DIR`` or the platform's app data.
    data_dir: Path | None = None
    #: What the devices' choices apply to (``MediaOptions(synthetic=True)`` in tests).
    media: MediaOptions | None = None
    sounds: bool = True
    invitation: CallInvitationConfig | None = None
    call_config: CallConfigFactory | None = None
    #: How long "Declined", "Busy" or "No answer" stays on the outgoing page.
    outcome_linger_ms: int = 1500
    #: How pages pop their menus (``QMenu.popup`` when None; tests record them).
    menu_popper: MenuPopper | None = None
    #: Run the ``echo`` user when this window hosts the local server.
    echo: bool = True
    #: Quit on SIGINT/SIGTERM (the app); tests leave signals to pytest.
    handle_signals: bool = True


def parse_args(argv: Sequence[str]) -> tuple[Options, str, list[str]]:
    """Parley's options, the logging level, and whatever is left for Qt (``-platform``)."""
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
    args, qt_args = parser.parse_known_args(list(argv))
    calls: list[str] = []
    if args.call:
        from app.kit.identity import parse_user_ids

        calls = parse_user_ids(args.call)
    options = Options(
        theme=Theme(args.theme),
        user_id=args.user_id or "",
        name=args.name or "",
        call=calls,
        server_url=args.server,
    )
    return options, args.log_level, qt_args


def make_client_factory(server: ServerHandle) -> ClientFactory:
    """Clients for ``server``; each mints a fresh token whenever it (re)connects."""
    from signaling.client import SignalingClient

    def make(user_id: str, name: str) -> SignalingClient:
        return SignalingClient(server.url, lambda: server.mint_token(user_id, name))

    return make


class Application:
    """One running Parley: its parts, wired; :meth:`start`, then :meth:`shutdown`."""

    def __init__(self, qt_app: QApplication, options: Options | None = None) -> None:
        self.qt_app = qt_app
        self.options = options or Options()
        self.tasks = TaskKeeper("parley")
        self.settings = self.options.settings or QSettings()
        self.colors: Colors = apply_theme(qt_app, self.options.theme)
        remote = bool(self.options.server or self.options.server_url)
        remote = remote or bool(os.environ.get(ENV_SERVER_URL))
        self.bridge = AccountBridge(self.tasks, remote=remote)
        self.window = MainWindow(self.settings, self.colors)
        self.server: ServerHandle | None = None
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
        self._closed: asyncio.Future[None] | None = None
        self._shut_down = False
        self._undo_signals: Callable[[], None] | None = None
        self._wire_shell()

    # --- running ----------------------------------------------------------------------

    async def start(self) -> bool:
        """Show the first page, open the server, wire the kits, sign in if asked.

        False when the server cannot be opened (the window says why).
        """
        window = self.window
        window.show()
        if os.environ.get(ENV_REPORT_STARTUP) == "1":
            # Runs once the loop has drawn the window: the first page is on screen.
            QTimer.singleShot(0, _report_first_page)
        # Let the first page paint before importing the rest and opening the server.
        for _ in range(2):
            await asyncio.sleep(0)
        options = self.options
        try:
            if isinstance(options.server, ServerHandle):
                self.server = options.server
            elif options.server is not None:
                self.server = await options.server()
            else:
                settings = ServerSettings.from_env(server_url=options.server_url)
                self.server = await open_server(settings)
        except ServerError as exc:
            self.bridge.fail(str(exc))
            await self._fatal(str(exc))
            return False
        self.account = Account(
            make_client_factory(self.server), on_server_lost=self.server.take_over
        )
        self._build_kits(self.account, self.server)
        # Everything that listens to the bridge is wired: sign-ins (waiting or new) go on.
        self.bridge.attach(self.account, self.server)
        if self.server.mode is ServerMode.HOSTING and options.echo:
            self.tasks.spawn(self._start_echo(self.server), "start the echo user")
        if options.user_id:
            self.bridge.sign_in(options.user_id, options.name)
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
        self.window.close_for_good()

    async def _start_echo(self, server: ServerHandle) -> None:
        """The built-in ``echo`` user, beside the local server this window hosts."""
        from app.kit.call.echo import ECHO_USER, echo_bot

        echo = echo_bot(server.url, server.mint_token(ECHO_USER.id, ECHO_USER.name))
        self.echo = echo
        await echo.sign_in()

    async def _fatal(self, message: str) -> None:
        print(f"parley: {message}", file=sys.stderr)
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            return  # nobody could dismiss a dialog there
        from PySide6.QtWidgets import QMessageBox

        from app.qt.dialogs import run_modal

        title = QCoreApplication.translate("main", "Parley cannot start")
        await run_modal(lambda: QMessageBox.critical(self.window, title, message))

    # --- wiring -----------------------------------------------------------------------

    def _wire_shell(self) -> None:
        """The window and the sign-in page, before the server is open."""
        window, bridge = self.window, self.bridge
        window.close_requested.connect(self.request_quit)
        self.tasks.failures.subscribe(window.show_error)
        window.signin_page.sign_in_requested.connect(bridge.sign_in)
        bridge.sign_in_failed.connect(window.signin_page.show_sign_in_failed)
        bridge.server_status_changed.connect(window.set_server_status)
        bridge.link_changed.connect(window.set_link_state)
        bridge.signed_in.connect(window.signin_page.signed_in)
        bridge.signed_in.connect(window.show_home)
        bridge.signed_out.connect(window.show_sign_in)
        window.set_server_status(bridge.server_status)
        if self.options.user_id:
            window.signin_page.user_id_edit.setText(self.options.user_id)
            window.signin_page.name_edit.setText(self.options.name)

    def _build_kits(self, account: Account, server: ServerHandle) -> None:
        """Both kits, their presenters and pages, the history and the device settings."""
        from app.kit.audio_room.kit import AudioRoomKit
        from app.kit.bus import EventBus
        from app.kit.call.service import CallInvitationService
        from app.kit.devices.settings import DeviceSettings
        from app.kit.history.recorder import CallHistory
        from app.kit.lifecycle import AccountKits, CallKitSettings
        from app.kit.media import MediaOptions
        from app.qt.call import CallPresenter
        from app.qt.defaults import DefaultActions
        from app.qt.devices import DevicesPresenter, QSettingsStorage
        from app.qt.dialogs import Dialogs
        from app.qt.overlay import OverlayIntents
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
        self.devices = DevicesPresenter(
            devices, tasks, base=media, sounds_dir=SOUNDS, parent=window
        )
        # Saved choices match devices once listed; a call before that uses the defaults.
        self.devices.refresh()
        self.history = CallHistory((options.data_dir or data_dir()) / "history.sqlite3")
        bus = self.bus = EventBus()
        call_kit = self.call_kit = CallInvitationService(bus)
        room_kit = self.room_kit = AudioRoomKit(bus)
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
        self.room_entry = RoomEntry(
            rooms,
            self.bridge,
            navigator,
            dialogs,
            window,
            tasks,
            busy=lambda: call_kit.session is not None or calls.phase.value != "idle",
            parent=window,
        )
        self._wire_home(calls, self.room_entry, self.history, self.devices, bus, call_kit)
        self._wire_calls(calls, navigator, overlay, outgoing, incoming, banner)
        self._wire_rooms(rooms, navigator, overlay)
        intents = OverlayIntents(navigator, calls, rooms, parent=window)
        overlay.restore_requested.connect(intents.restore)
        overlay.microphone_toggled.connect(intents.set_microphone)
        overlay.leave_requested.connect(intents.leave)
        intents.outgoing_ringing.connect(overlay.set_ringing_view)
        intents.incoming_ringing.connect(overlay.set_ringing_view)
        outgoing.minimize_requested.connect(intents.minimize_ringing)
        incoming.minimize_requested.connect(intents.minimize_ringing)

    def _wire_home(
        self,
        calls: CallPresenter,
        room_entry: RoomEntry,
        history: CallHistory,
        devices: DevicesPresenter,
        bus: EventBus,
        call_kit: CallInvitationService,
    ) -> None:
        from widgets.device_settings_dialog import DeviceSettingsDialog

        home, bridge = self.window.home_page, self.bridge
        bridge.signed_in.connect(home.set_me)
        bridge.signed_in.connect(lambda me: home.reset_roster(bridge.users))
        bridge.signed_in.connect(lambda me: history.set_account(me.user_id))
        bridge.signed_out.connect(home.clear)
        bridge.roster_reset.connect(home.reset_roster)
        bridge.user_changed.connect(home.update_user)
        home.sign_out_requested.connect(bridge.sign_out)
        home.call_requested.connect(calls.call)
        home.room_requested.connect(room_entry.request)

        def open_devices() -> None:
            dialog = DeviceSettingsDialog(self.colors, self.window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            connect_device_settings(dialog, devices)
            dialog.open()  # window-modal, without a nested event loop

        home.devices_requested.connect(open_devices)
        panel = home.history_list
        history.follow(bus, call_kit, name_of=self._name_of)

        def show_history() -> None:
            panel.set_view(history.entries(), history.unseen_missed_count())

        history.subscribe(show_history)
        show_history()
        panel.call_back_requested.connect(calls.call)
        panel.clear_requested.connect(history.clear)
        panel.looked_at.connect(history.mark_seen)

    def _wire_calls(
        self,
        calls: CallPresenter,
        navigator: Navigator,
        overlay: MinimizeOverlay,
        outgoing: OutgoingCallPage,
        incoming: IncomingCallPage,
        banner: IncomingCallBanner,
    ) -> None:
        from widgets.call_page import CallPage

        calls.phase_changed.connect(navigator.on_call_phase)
        calls.phase_changed.connect(
            lambda phase: navigator.leave_outgoing_now() if calls.cancelled_by_user else None
        )
        calls.outcome_without_ringing.connect(navigator.show_outcome)
        calls.minimized_changed.connect(lambda on: navigator.on_minimized(Shown.CALL, on))
        calls.outgoing_view_changed.connect(outgoing.set_view)
        calls.incoming_view_changed.connect(banner.set_view)
        calls.incoming_view_changed.connect(incoming.set_view)
        calls.call_view_changed.connect(overlay.set_view)
        outgoing.cancel_requested.connect(calls.cancel)
        outgoing.microphone_toggled.connect(calls.set_microphone)
        outgoing.camera_toggled.connect(calls.set_camera)
        outgoing.speaker_toggled.connect(calls.set_speaker)
        for ringing in (banner, incoming):
            ringing.accept_requested.connect(calls.accept)
            ringing.decline_requested.connect(calls.decline)
        banner.open_requested.connect(navigator.open_incoming_page)

        pages: dict[str, CallPage] = {}  # the call page in progress, for its frames

        def call_started(config: CallConfig) -> None:
            page = pages["call"] = CallPage(config, self.colors)
            if self.options.menu_popper is not None:
                page.menu_popper = self.options.menu_popper
            page.microphone_toggled.connect(calls.set_microphone)
            page.camera_toggled.connect(calls.set_camera)
            page.switch_camera_requested.connect(calls.switch_camera)
            page.speaker_toggled.connect(calls.set_speaker)
            page.audio_output_menu_requested.connect(calls.list_audio_outputs)
            page.audio_output_chosen.connect(calls.switch_audio_output)
            page.hang_up_requested.connect(calls.hang_up)
            page.minimize_requested.connect(calls.minimize)
            page.remove_member_requested.connect(calls.remove_member)
            page.cancel_invite_requested.connect(calls.cancel_invitee)
            page.send_message_requested.connect(calls.send_message)
            page.resend_message_requested.connect(calls.resend_message)
            page.chat_visibility_changed.connect(calls.set_chat_visible)
            calls.call_view_changed.connect(page.set_view)
            calls.messages_changed.connect(page.set_messages)
            calls.audio_outputs_listed.connect(page.show_audio_output_menu)
            navigator.set_call_page(page, page.show_error)

        calls.call_started.connect(call_started)

        def frame(user_id: str, array: npt.NDArray[np.uint8]) -> None:
            # Paint only where it is seen: the call page, or the overlay when minimized.
            page = pages.get("call")
            if overlay.isVisible():
                overlay.set_frame(user_id, array)
            elif page is not None and page is navigator.call_page:
                page.set_frame(user_id, array)

        calls.frame_ready.connect(frame)

    def _wire_rooms(
        self, rooms: RoomPresenter, navigator: Navigator, overlay: MinimizeOverlay
    ) -> None:
        from widgets.audio_room_page import AudioRoomPage

        assert self.room_kit is not None
        events = self.room_kit.bus.audio_room
        rooms.minimized_changed.connect(lambda on: navigator.on_minimized(Shown.ROOM, on))
        rooms.overlay_view_changed.connect(overlay.set_view)
        rooms.error.connect(self.window.show_error)

        def room_started(config: AudioRoomConfig) -> None:
            page = AudioRoomPage(config, self.colors)
            page.default_seat_menu = events.events.seat.on_clicked is None
            page.default_member_menu = events.events.member_list.on_more_button_pressed is None
            if self.options.menu_popper is not None:
                page.menu_popper = self.options.menu_popper
            page.seat_clicked.connect(rooms.seat_clicked)
            page.seat_action.connect(rooms.seat_action)
            page.microphone_toggled.connect(rooms.set_microphone)
            page.speaker_toggled.connect(rooms.set_speaker)
            page.lock_all_toggled.connect(rooms.lock_all)
            page.apply_requested.connect(rooms.apply)
            page.cancel_apply_requested.connect(rooms.cancel_apply)
            page.leave_seat_requested.connect(rooms.leave_seat)
            page.member_agree.connect(rooms.agree)
            page.member_disagree.connect(rooms.disagree)
            page.member_invite.connect(rooms.invite)
            page.member_clicked.connect(rooms.member_clicked)
            page.member_more_pressed.connect(rooms.member_more_pressed)
            page.message_send.connect(rooms.send_message)
            page.message_resend.connect(rooms.resend_message)
            page.message_clicked.connect(rooms.message_clicked)
            page.message_long_pressed.connect(rooms.message_long_pressed)
            page.invitation_accepted.connect(rooms.accept_invitation)
            page.invitation_declined.connect(rooms.decline_invitation)
            page.minimize_requested.connect(rooms.minimize)
            page.leave_requested.connect(rooms.leave)
            rooms.view_changed.connect(page.set_view)
            navigator.set_room_page(page, page.show_error)

        rooms.room_started.connect(room_started)

    def _name_of(self, user_id: str) -> str | None:
        users = self.bridge.users
        return next((u.name for u in users if u.user_id == user_id), None)

    async def _call_on_sign_in(self) -> None:
        ids, self.options.call = self.options.call, []
        if ids and self.calls is not None:
            self.calls.call(ids, True)


def connect_device_settings(dialog: DeviceSettingsDialog, devices: DevicesPresenter) -> None:
    """Wire the device settings dialog and its presenter both ways: lists, frames and
    levels in, choices out; OK saves the choices, Cancel drops them, hiding the dialog
    releases the devices."""
    devices.devices_changed.connect(dialog.set_view)
    devices.frame_ready.connect(dialog.set_frame)
    devices.level_changed.connect(dialog.set_level)
    devices.preview_state_changed.connect(dialog.set_preview_state)
    devices.test_sound_changed.connect(dialog.set_test_sound_playing)
    dialog.camera_chosen.connect(devices.choose_camera)
    dialog.microphone_chosen.connect(devices.choose_microphone)
    dialog.speaker_chosen.connect(devices.choose_speaker)
    dialog.test_sound_requested.connect(devices.play_test_sound)
    dialog.preview_started.connect(devices.start_preview)
    dialog.preview_stopped.connect(devices.stop_preview)
    dialog.accepted.connect(devices.save)
    dialog.rejected.connect(devices.discard)
    dialog.set_test_sound_available(devices.can_play_test_sound)
    dialog.set_view(devices.view)


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
    options, log_level, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
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
    application = Application(qt_app, options)
    try:
        status = int(loop.run_until_complete(_run_to_the_end(application)))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except KeyboardInterrupt:
        status = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
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
