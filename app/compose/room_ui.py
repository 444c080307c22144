"""The audio room kit wired to the window: presenter, room page, overlay and default actions.

Part of the composition (``app/compose``): built by :class:`app.main.Application` and by
the UI tests, so both run the same wiring. The home page's audio-room button asks for a
room ID and a role (:class:`~widgets.join_room_dialog.JoinRoomDialog`), the room page
joins the window's page stack, and the page's intents go to the
:class:`~app.qt_room.RoomPresenter` (the table in ``docs/audio-room-ui.md``). Default
actions installed on the bus: the leave dialog (``on_leave_confirmation``), back to the
previous page (``on_ended``), and error toasts (``on_error``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import qasync

from app.kit.account import Session
from app.kit.audio_room.kit import AudioRoomKit
from app.kit.config.audio_room import AudioRoomConfig
from app.kit.media import LocalMedia, MediaOptions
from app.kit.types import (
    AudioRoomEndEvent,
    AudioRoomEndReason,
    AudioRoomRole,
    ConfirmationDialog,
    KitError,
    User,
)
from app.kit.views.audio_room import AudioRoomView, SeatAction
from app.qt.account import SessionBridge, TaskKeeper
from app.qt.navigation import bring_to_front, prepare_overlay, show_overlay
from app.qt.room import RoomPresenter
from widgets.audio_room_page import AudioRoomPage, overlay_view
from widgets.confirm_dialog import ConfirmDialog
from widgets.join_room_dialog import JoinRoomDialog
from widgets.main_window import MainWindow
from widgets.minimize_overlay import MinimizeOverlay
from widgets.theme import Colors

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.kit.call.service import MediaFactory
    from app.kit.types import LeaveConfirmationEvent
    from widgets.audio_room_page import MenuPopper

__all__ = ["RoomUi"]


class RoomUi:
    """Audio rooms in the window: joining from home, the room page, its overlay and end."""

    def __init__(
        self,
        window: MainWindow,
        bridge: SessionBridge,
        session: Session,
        kit: AudioRoomKit,
        tasks: TaskKeeper,
        colors: Colors,
        *,
        media: MediaOptions | None = None,
        media_factory: MediaFactory | None = None,
        busy: Callable[[], bool] | None = None,
    ) -> None:
        """``busy`` says whether a call is in progress (a room then waits for it to end);
        ``media_factory`` opens each room's devices (the device settings' choices)."""
        self.window, self.kit, self.colors = window, kit, colors
        self._session, self._tasks = session, tasks
        self._busy = busy or (lambda: False)
        self.presenter = RoomPresenter(
            kit, tasks, media=media, media_factory=media_factory or LocalMedia, parent=window
        )
        self.overlay = MinimizeOverlay(colors, window)
        prepare_overlay(self.overlay)
        self.page: AudioRoomPage | None = None
        self._return_to: QWidget | None = None
        self._last_room_id = ""
        #: How room pages pop their menus up (``menu.popup`` when ``None``); tests record.
        self.menu_popper: MenuPopper | None = None
        self._connect(bridge)
        self._install_defaults()

    def _connect(self, bridge: SessionBridge) -> None:
        p = self.presenter
        p.room_started.connect(self._on_room_started)
        p.view_changed.connect(self._on_view)
        p.minimized_changed.connect(self._on_minimized)
        p.error.connect(self.show_message)
        self.window.home_page.room_requested.connect(self.ask_and_join)
        self.overlay.restore_requested.connect(p.restore)
        self.overlay.microphone_toggled.connect(p.set_microphone)
        self.overlay.leave_requested.connect(p.leave)
        # Signing out leaves the room first (after whatever else must happen then).
        before = bridge.before_sign_out

        async def before_sign_out() -> None:
            if before is not None:
                await before()
            await self.kit.leave(confirm=False)

        bridge.before_sign_out = before_sign_out

    def _install_defaults(self) -> None:
        bus = self.kit.bus
        bus.audio_room.set_confirm_default(lambda e: e.on_leave_confirmation, self._confirm_leave)
        bus.audio_room.set_end_default(lambda e: e.on_ended, self.end_room)
        bus.audio_room.set_default(lambda e: e.on_error, self._show_error)

    # --- joining ----------------------------------------------------------------------

    def ask_and_join(self) -> None:
        """The home page's room button: back to the room in progress, or ask which room."""
        if self.presenter.in_room:
            self.presenter.restore()
            if self.page is not None:
                self.window.stack.setCurrentWidget(self.page)
            return
        if self._busy():
            self.window.show_notice(self.window.tr("Hang up the call before joining a room."))
            return
        self._tasks.spawn(self._ask_and_join(), "join an audio room")

    async def _ask_and_join(self) -> None:
        # asyncWrap runs the modal dialog outside any task, so the loop keeps working.
        answer = await qasync.asyncWrap(
            lambda: JoinRoomDialog.ask(self.colors, self.window, self._last_room_id)
        )
        if answer is not None:
            await self.join(*answer)

    async def join(
        self, room_id: str, role: AudioRoomRole, config: AudioRoomConfig | None = None
    ) -> bool:
        """Join ``room_id`` as ``role`` (the role's preset unless ``config`` is given)."""
        client, me = self._session.client, self._session.me
        if client is None or me is None:
            self.window.show_notice(self.window.tr("Sign in before joining a room."))
            return False
        if self.presenter.in_room:
            await self.kit.leave(confirm=False)
        self._last_room_id = room_id
        if config is None:
            host = role is AudioRoomRole.HOST
            config = AudioRoomConfig.host() if host else AudioRoomConfig.audience()
        joined = await self.presenter.join(User(me.user_id, me.name), client, room_id, config)
        if not joined:
            self._drop_page()
        return joined

    # --- the page ---------------------------------------------------------------------

    def _on_room_started(self, config: object) -> None:
        assert isinstance(config, AudioRoomConfig)
        self._drop_page()
        page = AudioRoomPage(config, self.colors)
        events = self.kit.bus.audio_room.events
        page.default_seat_menu = events.seat.on_clicked is None
        page.default_member_menu = events.member_list.on_more_button_pressed is None
        if self.menu_popper is not None:
            page.menu_popper = self.menu_popper
        p = self.presenter
        page.seat_clicked.connect(p.seat_clicked)
        page.seat_action.connect(self._on_seat_action)
        page.microphone_toggled.connect(p.set_microphone)
        page.speaker_toggled.connect(p.set_speaker)
        page.lock_all_toggled.connect(p.lock_all)
        page.apply_requested.connect(p.apply)
        page.cancel_apply_requested.connect(p.cancel_apply)
        page.leave_seat_requested.connect(
            lambda: self._on_seat_action(SeatAction.LEAVE.value, -1, "")
        )
        page.member_agree.connect(p.agree)
        page.member_disagree.connect(p.disagree)
        page.member_invite.connect(p.invite)
        page.member_clicked.connect(p.member_clicked)
        page.member_more_pressed.connect(p.member_more_pressed)
        page.message_send.connect(p.send_message)
        page.message_resend.connect(p.resend_message)
        page.message_clicked.connect(p.message_clicked)
        page.message_long_pressed.connect(p.message_long_pressed)
        page.invitation_accepted.connect(p.accept_invitation)
        page.invitation_declined.connect(p.decline_invitation)
        page.minimize_requested.connect(p.minimize)
        page.leave_requested.connect(p.leave)
        current = self.window.stack.currentWidget()
        self._return_to = current if current is not self.page else self.window.home_page
        self.page = page
        self.window.stack.addWidget(page)
        self.window.stack.setCurrentWidget(page)

    def _on_seat_action(self, action: str, index: int, user_id: str) -> None:
        """Removing a speaker and leaving one's seat are confirmed first (FEATURES.md)."""
        texts = self._seat_confirmation(action, user_id)
        if texts is None:
            self.presenter.seat_action(action, index, user_id)
            return
        self._tasks.spawn(self._confirm_seat_action(texts, action, index, user_id), action)

    def _seat_confirmation(self, action: str, user_id: str) -> ConfirmationDialog | None:
        tr = self.window.tr
        if action == SeatAction.LEAVE:
            return ConfirmationDialog(
                title=tr("Leave the seat"),
                message=tr("Are you sure to leave the seat?"),
                confirm_text=tr("Leave"),
            )
        if action == SeatAction.REMOVE:
            session = self.kit.session
            name = (session.state.user(user_id).name if session else "") or user_id
            return ConfirmationDialog(
                title=tr("Remove from the seat"),
                message=tr("Are you sure to remove {name} from the seat?").format(name=name),
                confirm_text=tr("Remove"),
            )
        return None

    async def _confirm_seat_action(
        self, texts: ConfirmationDialog, action: str, index: int, user_id: str
    ) -> None:
        page = self.page
        if page is None:
            return
        # asyncWrap runs the modal loop outside any task, so the loop keeps working.
        if await qasync.asyncWrap(lambda: ConfirmDialog.ask(texts, self.colors, page)):
            self.presenter.seat_action(action, index, user_id)

    def _on_view(self, view: object) -> None:
        assert isinstance(view, AudioRoomView)
        if self.page is not None:
            self.page.set_view(view)
        self.overlay.set_view(overlay_view(view))

    def _on_minimized(self, minimized: bool) -> None:
        if minimized:
            show_overlay(self.window, self.overlay)
            if self.page is not None and self.window.stack.currentWidget() is self.page:
                self._go_back()
        else:
            self.overlay.hide()
            if self.page is not None:
                self.window.stack.setCurrentWidget(self.page)
                bring_to_front(self.window)

    def _go_back(self) -> None:
        target = self._return_to
        stack = self.window.stack
        if target is None or stack.indexOf(target) < 0:
            target = self.window.home_page
        stack.setCurrentWidget(target)

    def _drop_page(self) -> None:
        page, self.page = self.page, None
        if page is None:
            return
        if self.window.stack.currentWidget() is page:
            self._go_back()
        self.window.stack.removeWidget(page)
        page.deleteLater()

    # --- default actions --------------------------------------------------------------

    def end_room(self, event: AudioRoomEndEvent) -> None:
        """``on_ended``'s default: hide the overlay, back to the page shown before."""
        self.overlay.hide()
        self._drop_page()
        self.kit.controller.minimize.hide()
        if event.reason is AudioRoomEndReason.KICK_OUT:
            self.window.show_notice(self.window.tr("You were removed from the room."))

    async def _confirm_leave(self, event: LeaveConfirmationEvent) -> bool:
        texts, page = event.dialog, self.page
        if texts is None or page is None:
            return True
        # asyncWrap runs the modal loop outside any task, so the loop keeps working.
        return bool(await qasync.asyncWrap(lambda: page.ask_leave(texts)))

    def _show_error(self, error: KitError) -> None:
        self.show_message(error.message or error.code)

    def show_message(self, text: str) -> None:
        """A toast on the room page when it is shown, else the window's status line."""
        page = self.page
        shown = page is not None and self.window.stack.currentWidget() is page
        if page is not None and shown and not self.presenter.joining:
            page.show_error(text)
        else:
            self.window.show_error(text)

    async def close(self) -> None:
        """Leave without asking (the app's shutdown)."""
        await self.presenter.close()
        self.overlay.hide()
