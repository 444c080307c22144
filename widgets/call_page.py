"""The call page: tiles in picture-in-picture or gallery, bars over them, side panels.

Picture-in-picture shows one big remote view and the local view small in a corner; drag
the small view to another corner, click it to swap the two. With more than two people it
falls back to the gallery, a grid with the local user first. The bars hide after the
configured idle time and come back when the mouse moves. The chat and member panels
slide in from the right and narrow the stage. The audio-output button opens a menu of
output devices (the current one checked) with "Mute speaker" below them.

Keyboard shortcuts: Ctrl+D toggles the microphone, Ctrl+E the camera, Ctrl+Shift+H hangs up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QEvent, QObject, QPoint, QPropertyAnimation, QRect, Qt, Signal, Slot
from PySide6.QtGui import QActionGroup, QKeySequence, QMouseEvent, QResizeEvent, QShortcut
from PySide6.QtWidgets import QApplication, QFrame, QMenu, QWidget

from app import CallConfig, CallLayoutMode, CallMenuButton
from app.kit.views.call import CallView
from app.kit.views.chat import ChatMessageView
from app.kit.views.outputs import AudioOutputView
from widgets.call_layout import (
    GAP,
    TOP_ROOM,
    gallery_rects,
    grid_shape,
    nearest_corner,
    small_view_rect,
)
from widgets.call_style import call_style_sheet
from widgets.call_tile import CallTile, TileMode
from widgets.chat_panel import ChatPanel
from widgets.member_list import MemberList
from widgets.menu_bar import BarPosition, IdleHider, MenuBar, MenuPopper, popup
from widgets.plain_text import PlainLabel
from widgets.round_button import RoundButton
from widgets.side_panel import SidePanel
from widgets.theme import Colors
from widgets.toast import Toast

_PANEL_WIDTH = 340


class CallPage(QWidget):
    """The in-call page; emits user intents, shows what :meth:`render` gives it."""

    microphone_toggled = Signal(bool)
    camera_toggled = Signal(bool)
    switch_camera_requested = Signal()
    speaker_toggled = Signal(bool)
    #: The audio-output button was pressed: answer with :meth:`show_audio_output_menu`.
    audio_output_menu_requested = Signal()
    #: An output device was chosen in the menu (its ``AudioOutputView.device``).
    audio_output_chosen = Signal(AudioOutputView)
    hang_up_requested = Signal()
    minimize_requested = Signal()
    #: Share the screen (True) or stop.
    screen_share_toggled = Signal(bool)
    send_message_requested = Signal(str)
    resend_message_requested = Signal(str)
    remove_member_requested = Signal(str)
    cancel_invite_requested = Signal(str)
    #: The chat panel opened (True) or closed (False): the service may mark messages read.
    chat_visibility_changed = Signal(bool)

    def __init__(
        self,
        config: CallConfig,
        colors: Colors,
        parent: QWidget | None = None,
        *,
        idle_timeout_ms: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("call_page")
        self.setStyleSheet(call_style_sheet(colors))
        self.config = config
        self.tiles: dict[str, CallTile] = {}
        self._view: CallView | None = None
        self._swapped = False
        self._corner = config.small_view_corner
        self._drag_origin: QPoint | None = None
        self._dragging = False
        self.big_tile_id: str | None = None
        self.small_tile_id: str | None = None
        self._menu_popper: MenuPopper = popup
        self.audio_output_menu: QMenu | None = None

        self.stage = QFrame(self)
        self.stage.setObjectName("callStage")
        self.top_bar = MenuBar(
            config.top_menu_bar, BarPosition.TOP, self, show_duration=config.show_duration
        )
        self.bottom_bar = MenuBar(config.bottom_menu_bar, BarPosition.BOTTOM, self)
        for bar, bar_config in (
            (self.top_bar, config.top_menu_bar),
            (self.bottom_bar, config.bottom_menu_bar),
        ):
            bar.setProperty("barEnabled", bar_config.visible)
            bar.setVisible(bar_config.visible)
            self._connect_bar(bar)
        self.reconnecting_label = PlainLabel(self.tr("Reconnecting…"), self)
        self.reconnecting_label.setObjectName("reconnecting")
        self.reconnecting_label.hide()

        self.chat_panel = ChatPanel(colors, self)
        self.chat_panel.send_requested.connect(self.send_message_requested)
        self.chat_panel.resend_requested.connect(self.resend_message_requested)
        self.member_list = MemberList(colors, self)
        self.member_list.remove_requested.connect(self.remove_member_requested)
        self._open_panel: SidePanel | None = None
        self._slide = QPropertyAnimation(self)
        self._slide.setPropertyName(b"pos")
        self._slide.setDuration(180)
        for panel in (self.chat_panel, self.member_list):
            panel.hide()
            panel.close_requested.connect(self.close_panel)

        self.toast = Toast(self)
        # A one-to-one call's bars have no Members button; when someone is added and the
        # call becomes a group, its members are listed all the same (this button).
        configured = CallMenuButton.SHOW_MEMBER_LIST in (
            *config.top_menu_bar.buttons,
            *config.bottom_menu_bar.buttons,
        )
        self.members_button: RoundButton | None = None
        if not configured:
            button = RoundButton("members", diameter=40, parent=self)
            button.setObjectName("members_button")
            button.setToolTip(self.tr("Members"))
            button.setAccessibleName(self.tr("Members"))
            button.clicked.connect(lambda: self.toggle_panel(self.member_list))
            button.setProperty("barEnabled", False)
            button.hide()
            self.members_button = button
        # One timer for both bars (they come and go together); each bar's config decides
        # whether it takes part. The shortest configured delay wins.
        hiding = [
            (bar, bar_config)
            for bar, bar_config in (
                (self.top_bar, config.top_menu_bar),
                (self.bottom_bar, config.bottom_menu_bar),
            )
            if bar_config.hide_automatically
        ]
        timeout = idle_timeout_ms
        if timeout is None:
            seconds = min((c.hide_after_s for _, c in hiding), default=5.0)
            timeout = round(seconds * 1000)
        hidden_with_bars: list[QWidget] = [bar for bar, _ in hiding]
        if self.members_button is not None:
            hidden_with_bars.append(self.members_button)
        self.idle_hider = IdleHider(self, hidden_with_bars, timeout)
        self.idle_hider.set_enabled(bool(hiding))
        self._unread_shown = 0

        self._shortcuts = []
        for keys, slot in (
            ("Ctrl+D", self._on_mic_shortcut),
            ("Ctrl+E", self._on_camera_shortcut),
            ("Ctrl+Shift+H", self.hang_up_requested.emit),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(480, 360)

    def _connect_bar(self, bar: MenuBar) -> None:
        bar.microphone_toggled.connect(self.microphone_toggled)
        bar.camera_toggled.connect(self.camera_toggled)
        bar.switch_camera_requested.connect(self.switch_camera_requested)
        bar.speaker_toggled.connect(self.speaker_toggled)
        bar.audio_output_menu_requested.connect(self.audio_output_menu_requested)
        bar.hang_up_requested.connect(self.hang_up_requested)
        bar.minimize_requested.connect(self.minimize_requested)
        bar.screen_share_toggled.connect(self.screen_share_toggled)
        bar.chat_requested.connect(lambda: self.toggle_panel(self.chat_panel))
        bar.member_list_requested.connect(lambda: self.toggle_panel(self.member_list))

    # -- rendering -------------------------------------------------------------------

    @property
    def view(self) -> CallView | None:
        """The state last rendered."""
        return self._view

    @property
    def effective_layout(self) -> CallLayoutMode:
        """The layout in use: picture-in-picture needs at most two people."""
        if self._view is None or len(self._view.tiles) > 2:
            return CallLayoutMode.GALLERY
        return self._view.layout

    def set_view(self, view: CallView) -> None:
        """Show ``view``: tiles added, updated or removed, bars and panels refreshed."""
        self._view = view
        wanted = {tile.user_id for tile in view.tiles}
        for user_id in [uid for uid in self.tiles if uid not in wanted]:
            self.tiles.pop(user_id).deleteLater()
        for tile_view in view.tiles:
            tile = self.tiles.get(tile_view.user_id)
            if tile is None:
                tile = CallTile(tile_view.user_id, self.stage)
                tile.cancel_invite_requested.connect(self.cancel_invite_requested)
                tile.installEventFilter(self)
                tile.show()
                self.tiles[tile_view.user_id] = tile
            tile.set_view(tile_view)
        self.top_bar.set_view(view)
        self.bottom_bar.set_view(view)
        # Unread messages show on the chat button until the chat is opened; a new one
        # brings hidden bars back, so the badge is seen.
        unread = 0 if self._open_panel is self.chat_panel else view.unread_messages
        for bar in (self.top_bar, self.bottom_bar):
            bar.set_badge(CallMenuButton.CHAT, unread)
        if unread > self._unread_shown:
            self.idle_hider.poke()
        self._unread_shown = unread
        self.member_list.set_view(view.tiles, view.can_remove_members)
        if self.members_button is not None:
            group = len(view.tiles) > 2
            was_group = self.members_button.property("barEnabled") is True
            self.members_button.setProperty("barEnabled", group)
            if group and not was_group:
                self.members_button.show()
            elif not group:
                self.members_button.hide()
        self.reconnecting_label.setVisible(view.reconnecting)
        self._relayout()

    def set_messages(self, messages: tuple[ChatMessageView, ...]) -> None:
        """Show the chat's messages."""
        self.chat_panel.set_view(messages)

    @Slot(str, object)
    def set_frame(self, user_id: str, frame: npt.NDArray[np.uint8]) -> None:
        """Show a video frame of ``user_id`` (ignored for unknown users)."""
        if (tile := self.tiles.get(user_id)) is not None:
            tile.set_frame(frame)

    @Slot(str)
    def show_error(self, text: str) -> None:
        """An error toast over the call."""
        self.toast.show_message(text)

    # -- menus -----------------------------------------------------------------------

    @property
    def menu_popper(self) -> MenuPopper:
        """Shows the page's menus at a global point: ``menu.popup`` unless replaced."""
        return self._menu_popper

    @menu_popper.setter
    def menu_popper(self, popper: MenuPopper) -> None:
        self._menu_popper = popper
        self.top_bar.menu_popper = popper
        self.bottom_bar.menu_popper = popper

    def show_audio_output_menu(self, outputs: Sequence[AudioOutputView]) -> QMenu:
        """Open the output menu by the audio-output button: ``outputs`` (the current one
        checked), then "Mute speaker" checked while the speaker is off."""
        name = CallMenuButton.SWITCH_AUDIO_OUTPUT
        # A child of its bar: the bar stays up while its menu is open (IdleHider).
        bar = next((b for b in (self.bottom_bar, self.top_bar) if b.menu_anchor(name)), None)
        menu = QMenu(bar or self)
        menu.setObjectName("audioOutputMenu")
        # The call menus hide check marks (``call_style``); this one needs them.
        menu.setStyleSheet("QMenu::indicator { width: 16px; height: 16px; padding-left: 6px; }")
        devices = QActionGroup(menu)
        devices.setExclusive(True)
        for output in outputs:
            text = output.name
            if output.is_system_default:
                text = self.tr("{name} (system default)").format(name=output.name)
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(output.current)
            action.setData(output.device)
            devices.addAction(action)
            action.triggered.connect(lambda _checked, o=output: self.audio_output_chosen.emit(o))
        if not outputs:
            menu.addAction(self.tr("No output devices found")).setEnabled(False)
        menu.addSeparator()
        mute = menu.addAction(self.tr("Mute speaker"))
        mute.setObjectName("muteSpeaker")
        mute.setCheckable(True)
        mute.setChecked(self._view is not None and not self._view.speaker_on)
        mute.triggered.connect(lambda checked: self.speaker_toggled.emit(not checked))
        if self.audio_output_menu is not None:
            self.audio_output_menu.deleteLater()
        self.audio_output_menu = menu
        self._menu_popper(menu, self._menu_point(name, menu))
        return menu

    def _menu_point(self, name: CallMenuButton, menu: QMenu) -> QPoint:
        """Clear above the bottom bar at the button (below the top bar's button), else the
        page's centre."""
        for bar, below in ((self.bottom_bar, False), (self.top_bar, True)):
            anchor = bar.menu_anchor(name)
            if anchor is not None:
                if below:
                    return anchor.mapToGlobal(anchor.rect().bottomLeft())
                x = anchor.mapToGlobal(anchor.rect().topLeft()).x()
                top = bar.mapToGlobal(bar.rect().topLeft()).y()
                return QPoint(x, top - menu.sizeHint().height() - GAP)
        return self.mapToGlobal(self.rect().center())

    # -- layout ----------------------------------------------------------------------

    def _stage_rect(self) -> QRect:
        panel = self._panel_width() if self._open_panel is not None else 0
        return QRect(0, 0, self.width() - panel, self.height())

    def _panel_width(self) -> int:
        return min(_PANEL_WIDTH, max(240, self.width() * 2 // 5))

    def _relayout(self) -> None:
        stage = self._stage_rect()
        self.stage.setGeometry(stage)
        if self._view is not None:
            if self.effective_layout is CallLayoutMode.PICTURE_IN_PICTURE:
                self._layout_pip(stage)
            else:
                self._layout_gallery(stage)
        self.top_bar.setGeometry(0, 0, stage.width(), self.top_bar.sizeHint().height())
        hint = self.bottom_bar.sizeHint()
        width = min(hint.width(), stage.width() - 2 * GAP)
        self.bottom_bar.setGeometry(
            (stage.width() - width) // 2, stage.height() - hint.height() - 20, width, hint.height()
        )
        label = self.reconnecting_label
        label.adjustSize()
        # In the top bar's empty middle: over no tile, and visible while the bars hide.
        label.move((stage.width() - label.width()) // 2, 16)
        if self._open_panel is not None and self._slide.state() != QPropertyAnimation.State.Running:
            self._open_panel.setGeometry(stage.width(), 0, self._panel_width(), self.height())
        self.toast.set_top(TOP_ROOM)
        if self.members_button is not None:
            size = self.members_button.sizeHint()
            self.members_button.setGeometry(
                stage.width() - size.width() - GAP,
                self.top_bar.sizeHint().height() + GAP,
                size.width(),
                size.height(),
            )
            self.members_button.raise_()
        for widget in (self.top_bar, self.bottom_bar, self.reconnecting_label, self.toast):
            widget.raise_()

    def _pip_pair(self) -> tuple[str | None, str | None]:
        assert self._view is not None
        local = self._view.local_tile
        remotes = self._view.remote_tiles
        if not remotes:
            return (local.user_id if local else None), None
        big, small = remotes[0].user_id, (local.user_id if local else None)
        return (small, big) if self._swapped and small is not None else (big, small)

    def _layout_pip(self, stage: QRect) -> None:
        self.big_tile_id, self.small_tile_id = self._pip_pair()
        for user_id, tile in self.tiles.items():
            tile.set_mode(TileMode.FLOATING if user_id == self.small_tile_id else TileMode.FULL)
        if self.big_tile_id is not None:
            big = self.tiles[self.big_tile_id]
            big.setGeometry(0, 0, stage.width(), stage.height())
            big.lower()
        if self.small_tile_id is not None:
            small = self.tiles[self.small_tile_id]
            small.setGeometry(small_view_rect(stage, self._corner))
            small.raise_()

    def _layout_gallery(self, stage: QRect) -> None:
        self.big_tile_id = self.small_tile_id = None
        assert self._view is not None
        ordered = sorted(self._view.tiles, key=lambda tile: not tile.is_local)
        crowded = grid_shape(len(ordered))[0] > 2
        for tile_view, rect in zip(ordered, gallery_rects(len(ordered), stage), strict=True):
            tile = self.tiles[tile_view.user_id]
            tile.set_mode(TileMode.GRID_SMALL if crowded else TileMode.GRID)
            tile.setGeometry(rect)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._relayout()

    # -- picture-in-picture: drag and swap -------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if not isinstance(watched, CallTile) or watched.user_id != self.small_tile_id:
            return False
        if not isinstance(event, QMouseEvent) or event.button() not in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.NoButton,
        ):
            return False
        position = event.globalPosition().toPoint()
        kind = event.type()
        if kind is QEvent.Type.MouseButtonPress:
            self._drag_origin = position - watched.pos()
            self._press_at = position
            self._dragging = False
            return True
        if kind is QEvent.Type.MouseMove and self._drag_origin is not None:
            distance = (position - self._press_at).manhattanLength()
            if distance >= QApplication.startDragDistance():
                self._dragging = True
            if self._dragging:
                watched.move(position - self._drag_origin)
            return True
        if kind is QEvent.Type.MouseButtonRelease and self._drag_origin is not None:
            self._drag_origin = None
            if self._dragging:
                self._snap_to_corner(watched)
            else:
                self.swap_views()
            return True
        return False

    def _snap_to_corner(self, tile: QWidget) -> None:
        self._corner = nearest_corner(self._stage_rect(), tile.geometry())
        self._relayout()

    @Slot()
    def swap_views(self) -> None:
        """Exchange the big and the small view (picture-in-picture only)."""
        if self.effective_layout is CallLayoutMode.PICTURE_IN_PICTURE and self.small_tile_id:
            self._swapped = not self._swapped
            self._relayout()

    # -- side panels -----------------------------------------------------------------

    def toggle_panel(self, panel: SidePanel, *, animate: bool = True) -> None:
        """Open ``panel`` (closing the other one), or close it if it is open."""
        if self._open_panel is panel:
            self.close_panel()
            return
        self.close_panel()
        self._open_panel = panel
        if panel is self.chat_panel:
            for bar in (self.top_bar, self.bottom_bar):
                bar.set_badge(CallMenuButton.CHAT, 0)
            self.chat_visibility_changed.emit(True)
        self._relayout()
        width = self._panel_width()
        panel.setGeometry(self.width(), 0, width, self.height())
        panel.show()
        panel.raise_()
        self._slide.stop()
        self._slide.setTargetObject(panel)
        self._slide.setStartValue(QPoint(self.width(), 0))
        self._slide.setEndValue(QPoint(self.width() - width, 0))
        if animate:
            self._slide.start()
        else:
            panel.move(self.width() - width, 0)

    @Slot()
    def close_panel(self) -> None:
        """Close the open side panel, if any."""
        if self._open_panel is not None:
            self._slide.stop()
            self._open_panel.hide()
            closed, self._open_panel = self._open_panel, None
            if closed is self.chat_panel:
                self.chat_visibility_changed.emit(False)
            self._relayout()

    @property
    def open_panel(self) -> SidePanel | None:
        """The side panel shown, if any."""
        return self._open_panel

    # -- shortcuts -------------------------------------------------------------------

    @Slot()
    def _on_mic_shortcut(self) -> None:
        on = self._view.microphone_on if self._view is not None else True
        self.microphone_toggled.emit(not on)

    @Slot()
    def _on_camera_shortcut(self) -> None:
        on = self._view.camera_on if self._view is not None else True
        self.camera_toggled.emit(not on)
