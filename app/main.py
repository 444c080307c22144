"""The composition root: ``parley`` builds the application, wires it, runs it, shuts it down.

Everything is built and connected here and nowhere else: the Qt application and its
qasync loop, the event bus, the server (started, reused or remote), the session, the
Qt bridge, the call kit with its presenter and navigation, the echo user, and the
windows. ``PARLEY_REPORT_STARTUP=1`` prints ``parley: first page shown <perf_counter>``
once the first page is on screen (``benchmarks/app_start.py`` reads it).
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
from PySide6.QtWidgets import QApplication, QMessageBox

from app.bus import EventBus
from app.config import CallInvitationConfig
from app.identity import parse_user_ids
from app.local_server import (
    ServerError,
    ServerHandle,
    ServerMode,
    ServerSettings,
    open_server,
)
from app.qt_bridge import SessionBridge, TaskKeeper
from app.session import ClientFactory, LinkState, Session
from app.types import CallEndEvent, HangUpConfirmationEvent, KitError, User
from media.errors import DeviceExceptionType
from signaling.client import SignalingClient
from widgets.call_page import CallPage
from widgets.confirm_dialog import ConfirmDialog
from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
from widgets.main_window import MainWindow
from widgets.minimize_overlay import MinimizeOverlay
from widgets.outgoing_call_page import OutgoingCallPage
from widgets.theme import Colors, Theme, apply_theme

if TYPE_CHECKING:
    # The call stack (aiortc, PyAV, OpenCV) costs half a second to import: it is imported
    # after the first page is on screen (see Application.run), never before.
    from app.bots import Bot
    from app.kit import CallInvitationService, ServerInfo
    from app.services.invitations import Phase
    from app.services.local_media import MediaOptions
    from media.sounds import SoundPlayer

log = logging.getLogger("parley")

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
APP_ICON = RESOURCES / "icons" / "parley-app.svg"
SOUNDS = RESOURCES / "sounds"
ENV_REPORT_STARTUP = "PARLEY_REPORT_STARTUP"
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

    def make(user_id: str, name: str) -> SignalingClient:
        return SignalingClient(server.url, lambda: server.mint_token(user_id, name))

    return make


class CallUi:
    """The call kit wired to the window: presenter, navigation, pages and default actions.

    Built by :class:`Application` and by the UI tests, so both run the same wiring.
    """

    def __init__(
        self,
        window: MainWindow,
        bridge: SessionBridge,
        session: Session,
        server: ServerHandle,
        kit: CallInvitationService,
        tasks: TaskKeeper,
        colors: Colors,
        *,
        sounds: SoundPlayer | None = None,
        media: MediaOptions | None = None,
        invitation_config: CallInvitationConfig | None = None,
        outcome_linger_ms: int = 1500,
    ) -> None:
        self.window, self.kit, self.colors = window, kit, colors
        self._bridge, self._session, self._server, self._tasks = bridge, session, server, tasks
        from app.navigation import Navigator
        from app.qt_call import CallPresenter
        from app.services.local_media import MediaOptions

        self._media = media or MediaOptions()
        self._invitation_config = invitation_config
        self.call_on_sign_in: list[str] = []
        """User IDs to call (video) once the call service has started (``--call``)."""
        self.presenter = CallPresenter(kit, tasks, sounds, name_of=self._name_of, parent=window)
        self.outgoing_page = OutgoingCallPage(colors)
        self.incoming_page = IncomingCallPage(colors)
        self.banner = IncomingCallBanner(colors, window)
        self.overlay = MinimizeOverlay(colors, window)
        self.navigator = Navigator(
            window,
            window.stack,
            self.outgoing_page,
            self.incoming_page,
            self.banner,
            self.overlay,
            outcome_linger_ms=outcome_linger_ms,
            parent=window,
        )
        self.call_page: CallPage | None = None
        self._connect()
        self._install_defaults()
        bridge.before_sign_out = kit.uninit

    def _connect(self) -> None:
        p, nav = self.presenter, self.navigator
        p.phase_changed.connect(self._on_phase_changed)
        p.outgoing_view_changed.connect(self.outgoing_page.set_view)
        p.incoming_view_changed.connect(self.banner.set_view)
        p.incoming_view_changed.connect(self.incoming_page.set_view)
        p.call_started.connect(self._on_call_started)
        p.call_view_changed.connect(self._on_call_view)
        p.frame_ready.connect(self._on_frame)
        p.messages_changed.connect(self._on_messages)
        p.minimized_changed.connect(nav.on_minimized_changed)
        p.outcome_without_ringing.connect(nav.show_outcome)
        self.window.home_page.call_requested.connect(p.call)
        page = self.outgoing_page
        page.cancel_requested.connect(p.cancel)
        page.minimize_requested.connect(self._minimize_ringing)
        page.microphone_toggled.connect(p.set_microphone)
        page.camera_toggled.connect(p.set_camera)
        page.speaker_toggled.connect(p.set_speaker)
        for accept, decline in (
            (self.banner.accept_requested, self.banner.decline_requested),
            (self.incoming_page.accept_requested, self.incoming_page.decline_requested),
        ):
            accept.connect(p.accept)
            decline.connect(p.decline)
        self.banner.open_requested.connect(nav.open_incoming_page)
        self.incoming_page.minimize_requested.connect(self._minimize_ringing)
        self.overlay.restore_requested.connect(self._on_overlay_restore)
        self.overlay.microphone_toggled.connect(p.set_microphone)
        self.overlay.leave_requested.connect(self._on_overlay_leave)
        self._bridge.signed_in.connect(self._on_signed_in)
        self._bridge.link_changed.connect(self._on_link_changed)

    def _install_defaults(self) -> None:
        bus = self.kit.bus
        bus.call.set_end_default(lambda e: e.on_call_end, self.end_call)
        bus.call.set_confirm_default(lambda e: e.on_hang_up_confirmation, self._confirm_hang_up)
        bus.call.set_default(lambda e: e.on_error, self._show_error)
        bus.invitation.set_default(lambda e: e.on_error, self._show_error)
        bus.call.set_default(
            lambda e: e.audio_video.on_remote_camera_exception_occurred,
            lambda user, kind: self.show_message(
                self.window.tr("{name}'s camera: {problem}").format(
                    name=user.name, problem=_problem(kind)
                )
            ),
        )
        bus.call.set_default(
            lambda e: e.audio_video.on_remote_microphone_exception_occurred,
            lambda user, kind: self.show_message(
                self.window.tr("{name}'s microphone: {problem}").format(
                    name=user.name, problem=_problem(kind)
                )
            ),
        )

    def _name_of(self, user_id: str) -> str | None:
        return next((u.name for u in self._session.users if u.user_id == user_id), None)

    # --- the kit's life follows the session -------------------------------------------

    def _on_signed_in(self, me: object) -> None:
        client = self._session.client
        user = self._session.me
        if client is None or user is None:
            return
        server = self._server
        from app.kit import ServerInfo

        info = ServerInfo(server.url, lambda: server.mint_token(user.user_id, user.name))
        self._tasks.spawn(
            self._start_kit(User(user.user_id, user.name), info, client),
            "start the call service",
        )

    async def _start_kit(self, user: User, info: ServerInfo, client: SignalingClient) -> None:
        await self.kit.init(
            user, info, client=client, media=self._media, config=self._invitation_config
        )
        ids, self.call_on_sign_in = self.call_on_sign_in, []
        if ids:
            self.presenter.call(ids, True)

    def _on_link_changed(self, state: LinkState, detail: str) -> None:
        if state in (LinkState.SIGNED_IN_ELSEWHERE, LinkState.OFFLINE):
            self._tasks.spawn(self.kit.uninit(), "stop the call service")

    # --- pages ------------------------------------------------------------------------

    def _on_phase_changed(self, phase: Phase) -> None:
        self.navigator.on_phase_changed(phase)
        if self.presenter.cancelled_by_user:
            self.navigator.leave_outgoing_now()

    def _on_call_started(self, config: object) -> None:
        page = CallPage(config, self.colors)  # type: ignore[arg-type]
        p = self.presenter
        page.microphone_toggled.connect(p.set_microphone)
        page.camera_toggled.connect(p.set_camera)
        page.switch_camera_requested.connect(p.switch_camera)
        page.speaker_toggled.connect(p.set_speaker)
        page.hang_up_requested.connect(p.hang_up)
        page.minimize_requested.connect(p.minimize)
        page.remove_member_requested.connect(p.remove_member)
        page.send_message_requested.connect(p.send_message)
        page.resend_message_requested.connect(p.resend_message)
        page.chat_visibility_changed.connect(p.set_chat_visible)
        self.call_page = page
        self.navigator.set_call_page(page)

    def _on_call_view(self, view: object) -> None:
        if self.call_page is not None:
            self.call_page.set_view(view)  # type: ignore[arg-type]
        self.overlay.set_view(view)  # type: ignore[arg-type]

    def _on_messages(self, messages: object) -> None:
        if self.call_page is not None:
            self.call_page.set_messages(messages)  # type: ignore[arg-type]

    def _on_frame(self, user_id: str, frame: object) -> None:
        # Paint only where it is seen: the call page, or the overlay when minimized.
        if self.overlay.isVisible():
            self.overlay.set_frame(user_id, frame)  # type: ignore[arg-type]
        elif self.call_page is not None:
            self.call_page.set_frame(user_id, frame)  # type: ignore[arg-type]

    def _minimize_ringing(self) -> None:
        ringing_out = self.presenter.phase.value == "outgoing"
        view = self.outgoing_page.view if ringing_out else None
        ringing = view or self.incoming_page.view
        if ringing is not None:
            self.overlay.set_ringing_view(ringing)
        self.navigator.minimize_ringing()

    def _on_overlay_restore(self) -> None:
        if self.presenter.session is not None:
            self.presenter.restore()
        else:
            self.navigator.restore_ringing()

    def _on_overlay_leave(self) -> None:
        phase = self.presenter.phase.value
        if phase == "outgoing":
            self.presenter.cancel()
        elif phase == "incoming":
            self.presenter.decline()
        else:
            self.presenter.hang_up()

    # --- default actions --------------------------------------------------------------

    def end_call(self, event: CallEndEvent) -> None:
        """``on_call_end``'s default: back to the previous page, or hide the overlay."""
        self.navigator.end_call(event)
        self.call_page = None
        self.kit.controller.minimize.hide()

    async def _confirm_hang_up(self, event: HangUpConfirmationEvent) -> bool:
        dialog = event.dialog
        if dialog is None:
            return True
        parent = self.call_page or self.window
        # asyncWrap runs the modal loop outside any task, so the loop keeps working.
        answer = await qasync.asyncWrap(lambda: ConfirmDialog.ask(dialog, self.colors, parent))
        return bool(answer)

    def _show_error(self, error: KitError) -> None:
        self.show_message(error.message or error.code)

    def show_message(self, text: str) -> None:
        """A toast on the call page when it is shown, else the status line."""
        page = self.call_page
        if page is not None and self.navigator.current is page:
            page.show_error(text)
        else:
            self.window.show_error(text)

    async def close(self) -> None:
        """Hang up and stop (the app's shutdown)."""
        await self.kit.uninit()
        await self.presenter.close()


class Application:
    """One running Parley: the parts main() wires, with an orderly async shutdown."""

    def __init__(self, qt_app: QApplication, args: argparse.Namespace) -> None:
        self.qt_app = qt_app
        self.args = args
        self.bus = EventBus()
        self.tasks = TaskKeeper()
        self.server: ServerHandle | None = None
        self.session: Session | None = None
        self.window: MainWindow | None = None
        self.kit: CallInvitationService | None = None
        self.calls: CallUi | None = None
        self.echo: Bot | None = None
        self._closed: asyncio.Future[None] | None = None

    async def run(self) -> int:
        """Run until the window is closed; returns the exit status."""
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        try:
            self.server = await open_server(ServerSettings.from_env(server_url=self.args.server))
        except ServerError as exc:
            await self._fatal(str(exc))
            return 1
        self.session = Session(
            make_client_factory(self.server), on_server_lost=self.server.take_over
        )
        bridge = SessionBridge(self.session, self.server, self.tasks)
        colors = apply_theme(self.qt_app, Theme(self.args.theme))
        self.window = MainWindow(bridge, QSettings(), colors)
        self.window.close_requested.connect(self.request_quit)
        self.tasks.failed.connect(self.window.show_error)
        self._install_signal_handlers(loop)
        self.window.show()
        if os.environ.get(ENV_REPORT_STARTUP) == "1":
            # Runs once the loop has drawn the window: the first page is on screen.
            QTimer.singleShot(0, _report_first_page)
        # Let the first page paint before importing and building the call stack.
        for _ in range(2):
            await asyncio.sleep(0)
        from app.kit import CallInvitationService
        from media.sounds import SoundPlayer

        self.kit = CallInvitationService(self.bus)
        self.calls = CallUi(
            self.window,
            bridge,
            self.session,
            self.server,
            self.kit,
            self.tasks,
            colors,
            sounds=SoundPlayer(SOUNDS),
        )
        if self.server.mode is ServerMode.HOSTING:
            self.tasks.spawn(self._start_echo(self.server), "start the echo user")
        if self.args.user_id:
            if self.args.call:
                self.calls.call_on_sign_in = parse_user_ids(self.args.call)
            self.window.signin_page.user_id_edit.setText(self.args.user_id)
            self.window.signin_page.name_edit.setText(self.args.name or "")
            bridge.sign_in(self.args.user_id, self.args.name or "")
        await self._closed
        await self.shutdown()
        return 0

    def request_quit(self) -> None:
        """Begin the orderly shutdown (window closed, Ctrl+C, SIGTERM)."""
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    async def _start_echo(self, server: ServerHandle) -> None:
        """The built-in ``echo`` user, beside the local server this window hosts."""
        from app.echo import ECHO_USER, echo_bot

        echo = echo_bot(server.url, server.mint_token(ECHO_USER.id, ECHO_USER.name))
        self.echo = echo
        await echo.sign_in()

    async def shutdown(self) -> None:
        """Hang up, cancel background work, sign out, stop the server if hosted here."""
        if self.calls is not None:
            await self.calls.close()
        await self.tasks.close()
        if self.echo is not None:
            await self.echo.close()
        if self.session is not None:
            await self.session.close()
        if self.server is not None:
            await self.server.stop()
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
        title = QCoreApplication.translate("main", "Parley cannot start")
        # asyncWrap runs the modal box outside any task, so the loop keeps working under it.
        await qasync.asyncWrap(lambda: QMessageBox.critical(None, title, message))


def _problem(kind: DeviceExceptionType | None) -> str:
    return (kind or DeviceExceptionType.UNKNOWN).value.replace("_", " ")


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
