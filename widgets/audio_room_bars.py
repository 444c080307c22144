"""The audio room's bars: the top bar (title, duration, minimize, leave) and the bottom bar,
whose buttons follow the local user's current role.

The bottom bar shows :meth:`~app.AudioRoomBottomBarConfig.buttons_for` the role, the first
``max_count`` as buttons and the rest in a "More" menu. A speaker also gets "Leave seat":
the config has no button for it, and a speaker must be able to step down.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QMenu, QPushButton, QVBoxLayout, QWidget

from app.kit.config.audio_room import AudioRoomBottomBarConfig, AudioRoomMenuButton
from app.kit.types import AudioRoomRole
from app.kit.views.audio_room import AudioRoomView
from app.kit.views.call import format_duration
from widgets import call_style
from widgets.icons import icon
from widgets.plain_text import ElidedLabel, PlainLabel
from widgets.round_button import ButtonRole, RoundButton

_B = AudioRoomMenuButton
#: Icon when on, icon when off (toggles only). The apply button is a text button.
_ICONS: dict[AudioRoomMenuButton, tuple[str, str | None]] = {
    _B.TOGGLE_MICROPHONE: ("mic", "mic-off"),
    _B.SWITCH_AUDIO_OUTPUT: ("speaker", "speaker-off"),
    _B.SHOW_MEMBER_LIST: ("members", None),
    _B.CLOSE_SEAT: ("lock-open", None),
    _B.MINIMIZE: ("minimize", None),
    _B.LEAVE: ("hang-up", None),
}


class RoomTopBar(QFrame):
    """Title and duration on the left, minimize and leave on the right."""

    minimize_requested = Signal()
    leave_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, show_duration: bool = True) -> None:
        super().__init__(parent)
        self.title_label = ElidedLabel(self)
        self.title_label.setObjectName("stageTitle")
        self.duration_label = PlainLabel(self)
        self.duration_label.setObjectName("stageMuted")
        self.duration_label.setVisible(show_duration)
        self.reconnecting_label = PlainLabel(self.tr("Reconnecting…"), self)
        self.reconnecting_label.setObjectName("reconnecting")
        self.reconnecting_label.hide()
        self.minimize_button = RoundButton("minimize", diameter=36, parent=self)
        self.minimize_button.setToolTip(self.tr("Minimize"))
        self.minimize_button.setAccessibleName(self.tr("Minimize"))
        self.minimize_button.clicked.connect(self.minimize_requested)
        self.leave_button = RoundButton("hang-up", role=ButtonRole.DANGER, diameter=36, parent=self)
        self.leave_button.setToolTip(self.tr("Leave the room"))
        self.leave_button.setAccessibleName(self.tr("Leave the room"))
        self.leave_button.clicked.connect(self.leave_requested)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.title_label)
        text.addWidget(self.duration_label)
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 14, 16, 14)
        row.setSpacing(10)
        row.addLayout(text, 1)
        row.addWidget(self.reconnecting_label)
        row.addWidget(self.minimize_button)
        row.addWidget(self.leave_button)

    def set_view(self, view: AudioRoomView) -> None:
        """The room's title (its id when untitled), duration and connection state."""
        self.title_label.setText(view.title or view.room_id)
        self.duration_label.setText(format_duration(view.duration_s))
        self.reconnecting_label.setVisible(view.reconnecting)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        # The same fade as the call's top bar: the title reads without a hard edge.
        fade = QLinearGradient(0, 0, 0, self.height())
        fade.setColorAt(0.0, call_style.glass(120))
        fade.setColorAt(1.0, QColor(0, 0, 0, 0))
        painter.fillRect(self.rect(), fade)


class RoomBottomBar(QFrame):
    """Round buttons in a glass pill; rebuilt when the local role changes."""

    microphone_toggled = Signal(bool)
    speaker_toggled = Signal(bool)
    member_list_requested = Signal()
    lock_all_toggled = Signal(bool)
    apply_requested = Signal()
    cancel_apply_requested = Signal()
    leave_seat_requested = Signal()
    minimize_requested = Signal()
    leave_requested = Signal()

    def __init__(self, config: AudioRoomBottomBarConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.role: AudioRoomRole | None = None
        self.buttons: dict[AudioRoomMenuButton, RoundButton] = {}
        self.apply_button: QPushButton | None = None
        self.leave_seat_button: RoundButton | None = None
        self.more_button: RoundButton | None = None
        self.more_menu: QMenu | None = None
        self._locked = False
        self._requesting = False
        self._mic_on = False
        # The view carries no output state: the bar remembers what the user chose.
        self._speaker_on = True
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(14, 10, 14, 10)
        self._row.setSpacing(12)

    def label(self, name: AudioRoomMenuButton) -> str:
        """The translated name of a button (tooltip, accessible name, menu entry)."""
        labels = {
            _B.TOGGLE_MICROPHONE: self.tr("Microphone"),
            _B.SWITCH_AUDIO_OUTPUT: self.tr("Speaker"),
            _B.SHOW_MEMBER_LIST: self.tr("Members"),
            _B.CLOSE_SEAT: self.tr("Lock all seats"),
            _B.APPLY_TO_TAKE_SEAT: self.tr("Apply to take seat"),
            _B.MINIMIZE: self.tr("Minimize"),
            _B.LEAVE: self.tr("Leave the room"),
        }
        return labels[name]

    def _handler(self, name: AudioRoomMenuButton) -> Callable[[bool], None]:
        # Lambdas with a parameter: PySide then connects clicked(bool) and passes the state.
        handlers: dict[AudioRoomMenuButton, Callable[[bool], None]] = {
            _B.TOGGLE_MICROPHONE: lambda checked: self.microphone_toggled.emit(checked),
            _B.SWITCH_AUDIO_OUTPUT: self._on_speaker,
            _B.SHOW_MEMBER_LIST: lambda _checked: self.member_list_requested.emit(),
            _B.CLOSE_SEAT: lambda _checked: self.lock_all_toggled.emit(not self._locked),
            _B.APPLY_TO_TAKE_SEAT: lambda _checked: self._on_apply(),
            _B.MINIMIZE: lambda _checked: self.minimize_requested.emit(),
            _B.LEAVE: lambda _checked: self.leave_requested.emit(),
        }
        return handlers[name]

    def _rebuild(self, role: AudioRoomRole) -> None:
        while (item := self._row.takeAt(0)) is not None:
            if (widget := item.widget()) is not None:
                widget.hide()  # deleteLater waits for the event loop; no stale frame meanwhile
                widget.deleteLater()
        self.buttons.clear()
        self.apply_button = self.leave_seat_button = self.more_button = None
        self.more_menu = None
        names = self.config.buttons_for(role)
        shown, hidden = names[: self.config.max_count], names[self.config.max_count :]
        for name in shown:
            if name is _B.APPLY_TO_TAKE_SEAT:
                self.apply_button = QPushButton(self)
                self.apply_button.setObjectName("applyButton")
                self.apply_button.setCursor(Qt.CursorShape.PointingHandCursor)
                self.apply_button.clicked.connect(self._handler(name))
                self._row.addWidget(self.apply_button)
                continue
            on_icon, off_icon = _ICONS[name]
            role_look = ButtonRole.DANGER if name is _B.LEAVE else ButtonRole.GLASS
            button = RoundButton(
                on_icon, off_icon_name=off_icon, role=role_look, diameter=48, parent=self
            )
            button.setObjectName(f"bar_{name.value}")
            button.setToolTip(self.label(name))
            button.setAccessibleName(self.label(name))
            button.clicked.connect(self._handler(name))
            self.buttons[name] = button
            self._row.addWidget(button)
        if role is AudioRoomRole.SPEAKER:
            self.leave_seat_button = RoundButton("leave-seat", diameter=48, parent=self)
            self.leave_seat_button.setObjectName("bar_leave_seat")
            self.leave_seat_button.setToolTip(self.tr("Leave seat"))
            self.leave_seat_button.setAccessibleName(self.tr("Leave seat"))
            self.leave_seat_button.clicked.connect(self.leave_seat_requested)
            self._row.addWidget(self.leave_seat_button)
        if hidden:
            self._add_overflow(hidden)
        self.role = role

    def _add_overflow(self, hidden: tuple[AudioRoomMenuButton, ...]) -> None:
        self.more_button = RoundButton("more", diameter=48, parent=self)
        self.more_button.setObjectName("bar_more")
        self.more_button.setToolTip(self.tr("More"))
        self.more_button.setAccessibleName(self.tr("More"))
        self.more_menu = QMenu(self)
        ink = self.palette().color(self.palette().ColorRole.Text)
        for name in hidden:
            glyph = _ICONS.get(name, ("hand", None))[0]
            action = self.more_menu.addAction(icon(glyph, ink, 18), self.label(name))
            action.setData(name.value)
            # Menu entries are plain actions: toggles pass the flipped state themselves.
            action.triggered.connect(lambda _c=False, n=name: self._on_overflow(n))
        self.more_button.clicked.connect(self._on_more_button_clicked)
        self._row.addWidget(self.more_button)

    def _on_overflow(self, name: AudioRoomMenuButton) -> None:
        current = {_B.TOGGLE_MICROPHONE: self._mic_on, _B.SWITCH_AUDIO_OUTPUT: self._speaker_on}
        self._handler(name)(not current[name] if name in current else False)

    @Slot()
    def _on_more_button_clicked(self) -> None:
        if self.more_menu is not None and self.more_button is not None:
            point = self.more_button.mapToGlobal(self.more_button.rect().topLeft())
            point.setY(point.y() - self.more_menu.sizeHint().height())
            self.more_menu.popup(point)

    @Slot(bool)
    def _on_speaker(self, on: bool) -> None:
        self._speaker_on = on
        self.speaker_toggled.emit(on)

    def _on_apply(self) -> None:
        if self._requesting:
            self.cancel_apply_requested.emit()
        else:
            self.apply_requested.emit()

    def set_view(self, view: AudioRoomView) -> None:
        """Follow ``view``: its role's buttons, mic state, lock state, application state."""
        if view.local_role is not self.role:
            self._rebuild(view.local_role)
        self._mic_on = view.microphone_on
        self._speaker_on = view.speaker_on
        self._locked = view.locked
        self._requesting = view.requesting
        if (mic := self.buttons.get(_B.TOGGLE_MICROPHONE)) is not None:
            # Blocked: rendering the state must not echo back as a user intent.
            mic.blockSignals(True)
            mic.setChecked(view.microphone_on)
            mic.blockSignals(False)
            mic.update()
        if (speaker := self.buttons.get(_B.SWITCH_AUDIO_OUTPUT)) is not None:
            speaker.blockSignals(True)
            speaker.setChecked(view.speaker_on)
            speaker.blockSignals(False)
            speaker.update()
        if (lock := self.buttons.get(_B.CLOSE_SEAT)) is not None:
            lock.set_icon_name("lock" if view.locked else "lock-open")
            tip = self.tr("Unlock all seats") if view.locked else self.tr("Lock all seats")
            lock.setToolTip(tip)
            lock.setAccessibleName(tip)
        if self.apply_button is not None:
            # With a seat free for the taking there is nobody to ask: one clicks the seat.
            self.apply_button.setVisible(view.requesting or not _seat_free_for_audience(view))
            text = self.tr("Cancel request") if view.requesting else self.tr("Apply to take seat")
            self.apply_button.setText(text)
            self.apply_button.setProperty("requesting", view.requesting)
            self.apply_button.style().unpolish(self.apply_button)
            self.apply_button.style().polish(self.apply_button)

    def set_member_dot(self, count: int) -> None:
        """A red dot with ``count`` on the member button while applications wait."""
        if (members := self.buttons.get(_B.SHOW_MEMBER_LIST)) is not None:
            members.set_badge(count)
        elif self.more_button is not None:
            self.more_button.set_badge(count)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(call_style.glass(170))
        radius = self.height() / 2
        painter.drawRoundedRect(QRectF(self.rect()), radius, radius)


def _seat_free_for_audience(view: AudioRoomView) -> bool:
    """An empty seat a listener may take without asking (the server's rule)."""
    return not view.locked and any(
        seat.user is None and not seat.locked and not seat.is_host_seat for seat in view.seats
    )
