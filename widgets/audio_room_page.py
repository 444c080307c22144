"""The live audio room page: seats on a dark stage, messages or members beside them.

The page shows what :meth:`AudioRoomPage.set_view` gives it and emits what the user asks
for; it keeps no room state beyond the mouse's (an open menu, a typed message). Clicking
a seat emits ``seat_clicked(index)`` and, unless an integrator's ``seat.on_clicked``
replaces it (:attr:`AudioRoomPage.default_seat_menu`), opens the seat's menu, whose choice
comes out as ``seat_action(action, index, user_id)`` with a
:class:`~app.kit.views.audio_room.SeatAction` value.

Keyboard: **Ctrl+D** toggles the microphone when the bottom bar has it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QRadialGradient,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QMenu, QVBoxLayout, QWidget

from app.kit.config.audio_room import AudioRoomConfig, AudioRoomMenuButton
from app.kit.types import User
from app.kit.views.audio_room import AudioRoomView, SeatAction
from app.kit.views.chat import ChatMessageView
from widgets import call_style
from widgets.audio_room_bars import RoomBottomBar, RoomTopBar
from widgets.audio_room_member_list import AudioRoomMemberList
from widgets.audio_room_style import room_style_sheet
from widgets.room_messages import LONG_PRESS_MS, RoomMessages
from widgets.seat_grid import SeatGrid
from widgets.seat_invitation import SeatInvitation
from widgets.seat_menu import SeatMenu, seat_menu_actions
from widgets.theme import Colors
from widgets.toast import Toast

#: Width of the message and member column, in logical pixels.
PANEL_WIDTH = 320
MenuPopper = Callable[[QMenu, QPoint], None]


class RoomStage(QFrame):
    """The dark stage behind the seats, lit softly from above like a room."""

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(call_style.STAGE))
        glow = QRadialGradient(QPointF(self.width() / 2, self.height() * 0.3), self.width() * 0.6)
        glow.setColorAt(0.0, QColor(95, 179, 179, 34))
        glow.setColorAt(1.0, QColor(0, 0, 0, 0))
        painter.fillRect(self.rect(), glow)


class AudioRoomPage(QWidget):
    """The audio room. Renders :class:`AudioRoomView`; emits the user's intents."""

    seat_clicked = Signal(int)
    #: ``(action, index, user_id)``: a :class:`~app.kit.views.audio_room.SeatAction` value, the
    #: seat, its occupant ("" when empty).
    seat_action = Signal(SeatAction, int, str)
    microphone_toggled = Signal(bool)
    speaker_toggled = Signal(bool)
    #: True: lock (close) all seats; False: unlock them.
    lock_all_toggled = Signal(bool)
    apply_requested = Signal()
    cancel_apply_requested = Signal()
    leave_seat_requested = Signal()
    member_agree = Signal(str)
    member_disagree = Signal(str)
    member_invite = Signal(str)
    member_kick = Signal(str)
    member_clicked = Signal(str)
    member_more_pressed = Signal(str)
    message_send = Signal(str)
    message_resend = Signal(str)
    message_clicked = Signal(str)
    message_long_pressed = Signal(str)
    invitation_accepted = Signal()
    invitation_declined = Signal()
    minimize_requested = Signal()
    leave_requested = Signal()

    def __init__(
        self,
        config: AudioRoomConfig,
        colors: Colors,
        parent: QWidget | None = None,
        *,
        long_press_ms: int = LONG_PRESS_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("audio_room_page")
        self.setStyleSheet(room_style_sheet(colors))
        self.config = config
        self.colors = colors
        self._view: AudioRoomView | None = None
        self._answered_invitation: User | None = None
        #: Whether clicking a seat opens the default menu (off when ``seat.on_clicked`` is set).
        self.default_seat_menu = True
        self.seat_menu: SeatMenu | None = None
        self._menu_popper: MenuPopper = _popup

        self.stage = RoomStage(self)
        self.top_bar = RoomTopBar(self.stage, show_duration=config.show_duration)
        self.seat_grid = SeatGrid(self.stage, row_spacing=config.row_spacing)
        self.bottom_bar = RoomBottomBar(config.bottom_menu_bar, self.stage)
        self.messages = RoomMessages(colors, self, long_press_ms=long_press_ms)
        self.member_list = AudioRoomMemberList(colors, self)
        self.member_list.hide()
        self.messages.setVisible(config.show_in_room_messages)
        for panel in (self.messages, self.member_list):
            panel.setFixedWidth(PANEL_WIDTH)
        self.invitation = SeatInvitation(self)
        self.toast = Toast(self)
        self.toast.set_top(72)

        grid_row = QHBoxLayout()
        grid_row.setContentsMargins(24, 0, 24, 0)
        grid_row.addWidget(self.seat_grid)
        bar_row = QHBoxLayout()
        bar_row.setContentsMargins(16, 0, 16, 20)
        bar_row.addStretch(1)
        bar_row.addWidget(self.bottom_bar)
        bar_row.addStretch(1)
        stage_column = QVBoxLayout(self.stage)
        stage_column.setContentsMargins(0, 0, 0, 0)
        stage_column.setSpacing(0)
        stage_column.addWidget(self.top_bar)
        stage_column.addStretch(1)
        stage_column.addLayout(grid_row)
        stage_column.addStretch(1)
        stage_column.addLayout(bar_row)
        page_row = QHBoxLayout(self)
        page_row.setContentsMargins(0, 0, 0, 0)
        page_row.setSpacing(0)
        page_row.addWidget(self.stage, 1)
        page_row.addWidget(self.messages)
        page_row.addWidget(self.member_list)
        self._connect()

        shortcut = QShortcut(QKeySequence("Ctrl+D"), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(self._on_mic_shortcut)
        self.setMinimumSize(640, 420)

    def _connect(self) -> None:
        self.seat_grid.seat_clicked.connect(self._on_seat_grid_seat_clicked)
        top, bottom = self.top_bar, self.bottom_bar
        top.minimize_requested.connect(self.minimize_requested)
        top.leave_requested.connect(self.leave_requested)
        bottom.microphone_toggled.connect(self.microphone_toggled)
        bottom.speaker_toggled.connect(self.speaker_toggled)
        bottom.lock_all_toggled.connect(self.lock_all_toggled)
        bottom.apply_requested.connect(self.apply_requested)
        bottom.cancel_apply_requested.connect(self.cancel_apply_requested)
        bottom.leave_seat_requested.connect(self.leave_seat_requested)
        bottom.minimize_requested.connect(self.minimize_requested)
        bottom.leave_requested.connect(self.leave_requested)
        bottom.member_list_requested.connect(self.toggle_member_list)
        members = self.member_list
        members.agree_requested.connect(self.member_agree)
        members.disagree_requested.connect(self.member_disagree)
        members.invite_requested.connect(self.member_invite)
        members.kick_requested.connect(self.member_kick)
        members.member_clicked.connect(self.member_clicked)
        members.more_pressed.connect(self.member_more_pressed)
        members.close_requested.connect(self.close_member_list)
        messages = self.messages
        messages.send_requested.connect(self.message_send)
        messages.resend_requested.connect(self.message_resend)
        messages.message_clicked.connect(self.message_clicked)
        messages.message_long_pressed.connect(self.message_long_pressed)
        self.invitation.accepted.connect(self._on_invitation_accepted)
        self.invitation.declined.connect(self._on_invitation_declined)

    # -- rendering -------------------------------------------------------------------

    @property
    def view(self) -> AudioRoomView | None:
        """The state last rendered."""
        return self._view

    @property
    def default_member_menu(self) -> bool:
        """Whether a row's "more" button opens the default menu (off with a hook)."""
        return self.member_list.default_more_menu

    @default_member_menu.setter
    def default_member_menu(self, enabled: bool) -> None:
        self.member_list.default_more_menu = enabled

    @property
    def menu_popper(self) -> MenuPopper:
        """Shows a menu at a global point: ``menu.popup`` unless replaced (tests do)."""
        return self._menu_popper

    @menu_popper.setter
    def menu_popper(self, popper: MenuPopper) -> None:
        self._menu_popper = popper
        self.member_list.menu_popper = popper

    def set_view(self, view: AudioRoomView) -> None:
        """Show ``view``: bars, seats, members, messages and the invitation."""
        previous, self._view = self._view, view
        self.top_bar.set_view(view)
        self.seat_grid.set_view(view)
        self.bottom_bar.set_view(view)
        self.bottom_bar.set_member_dot(view.pending_requests)
        self.member_list.set_view(view)
        if previous is None or previous.messages != view.messages:
            self.messages.set_view(view.messages)
        if view.invited_by is None:
            self._answered_invitation = None
        shown = view.invited_by is not None and view.invited_by != self._answered_invitation
        if shown and self.invitation.host != view.invited_by:
            self.invitation.set_host(view.invited_by)
        elif not shown and self.invitation.host is not None:
            self.invitation.set_host(None)

    def set_messages(self, messages: tuple[ChatMessageView, ...]) -> None:
        """Show ``messages`` without a whole view (the session may send them apart)."""
        self.messages.set_view(messages)

    @Slot(str)
    def show_error(self, text: str) -> None:
        """An error toast over the room."""
        self.toast.show_message(text)

    # -- seats -----------------------------------------------------------------------

    @Slot(int)
    def _on_seat_grid_seat_clicked(self, index: int) -> None:
        self.seat_clicked.emit(index)
        if self.default_seat_menu:
            self.open_seat_menu(index)

    def open_seat_menu(self, index: int) -> SeatMenu | None:
        """Open seat ``index``'s menu below the seat; ``None`` when it offers nothing."""
        if self._view is None or not 0 <= index < len(self._view.seats):
            return None
        actions = seat_menu_actions(self._view, index)
        if len(actions) < 2:  # "Cancel" alone: nothing to offer
            return None
        seat = self._view.seat(index)
        menu = SeatMenu(actions, index, seat.user.id if seat.user else "", self)
        menu.setStyleSheet(room_style_sheet(self.colors))
        menu.action_chosen.connect(self.seat_action)
        if self.seat_menu is not None:
            self.seat_menu.deleteLater()
        self.seat_menu = menu
        widget = self.seat_grid.seat(index)
        self._menu_popper(menu, widget.mapToGlobal(widget.rect().center()))
        return menu

    # -- panels and overlays ---------------------------------------------------------

    @property
    def member_list_open(self) -> bool:
        """Whether the member list is shown (in place of the messages)."""
        return not self.member_list.isHidden()

    @Slot()
    def toggle_member_list(self) -> None:
        """Show the member list in the side column, or go back to the messages."""
        if self.member_list_open:
            self.close_member_list()
            return
        self.messages.hide()
        self.member_list.show()

    @Slot()
    def close_member_list(self) -> None:
        """Back to the messages (or to the stage alone when messages are off)."""
        self.member_list.hide()
        self.messages.setVisible(self.config.show_in_room_messages)

    @Slot()
    def _on_invitation_accepted(self) -> None:
        self._answer_invitation()
        self.invitation_accepted.emit()

    @Slot()
    def _on_invitation_declined(self) -> None:
        self._answer_invitation()
        self.invitation_declined.emit()

    def _answer_invitation(self) -> None:
        # Hidden at once; a view still carrying this invitation must not bring it back.
        self._answered_invitation = self.invitation.host
        self.invitation.set_host(None)

    @Slot()
    def _on_mic_shortcut(self) -> None:
        if self._view is not None and AudioRoomMenuButton.TOGGLE_MICROPHONE in (
            self.config.bottom_menu_bar.buttons_for(self._view.local_role)
        ):
            self.microphone_toggled.emit(not self._view.microphone_on)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if not self.invitation.isHidden():
            self.invitation.reposition()
        self.toast.reposition()


def _popup(menu: QMenu, at: QPoint) -> None:
    menu.popup(at)
