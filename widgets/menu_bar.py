"""The call page's top and bottom menu bars, and the idle timer that hides them.

A bar shows the buttons of its :class:`~app.CallMenuBarConfig` in order; past
``max_count`` the rest go into a "More" menu. The bars emit what the user asks for and
show what :meth:`MenuBar.render` says: a toggle flips at once for feedback and is then
confirmed (or corrected) by the next rendered :class:`~app.kit.views.call.CallView`. The
audio-output button asks for the output menu instead of toggling (the page opens it;
muting is an entry there). Menus pop through ``menu_popper``, which tests replace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QColor, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QMenu, QVBoxLayout, QWidget

from app import AudioRoute, CallMenuBarConfig, CallMenuButton
from app.kit.views.call import CallView, format_duration
from widgets import call_style
from widgets.icons import icon
from widgets.plain_text import ElidedLabel, PlainLabel
from widgets.round_button import ButtonRole, RoundButton

_B = CallMenuButton
#: Icon when on, icon when off (toggles only).
_ICONS: dict[CallMenuButton, tuple[str, str | None]] = {
    _B.TOGGLE_MICROPHONE: ("mic", "mic-off"),
    _B.TOGGLE_CAMERA: ("camera", "camera-off"),
    _B.SWITCH_CAMERA: ("switch-camera", None),
    _B.SWITCH_AUDIO_OUTPUT: ("speaker", "speaker-off"),
    _B.HANG_UP: ("hang-up", None),
    _B.CHAT: ("chat", None),
    _B.SHOW_MEMBER_LIST: ("members", None),
    _B.MINIMIZE: ("minimize", None),
    _B.SHARE_SCREEN: ("screen-share", "screen-share-off"),
}
_ROUTE_ICONS = {AudioRoute.HEADPHONE: "headphone", AudioRoute.BLUETOOTH: "bluetooth"}

MenuPopper = Callable[[QMenu, QPoint], None]
"""Shows a menu at a global point (``QMenu.popup`` unless a test replaces it)."""


def popup(menu: QMenu, at: QPoint) -> None:
    """The default :data:`MenuPopper`."""
    menu.popup(at)


class BarPosition(StrEnum):
    """Where a bar sits; the top bar also shows the title and the duration."""

    TOP = "top"
    BOTTOM = "bottom"


class MenuBar(QFrame):
    """A row of round buttons; the top one also shows the call's title and duration."""

    microphone_toggled = Signal(bool)
    camera_toggled = Signal(bool)
    switch_camera_requested = Signal()
    speaker_toggled = Signal(bool)
    #: The audio-output button or its "More" entry: the page opens the output menu.
    audio_output_menu_requested = Signal()
    hang_up_requested = Signal()
    chat_requested = Signal()
    member_list_requested = Signal()
    minimize_requested = Signal()
    screen_share_toggled = Signal(bool)

    def __init__(
        self,
        config: CallMenuBarConfig,
        position: BarPosition,
        parent: QWidget | None = None,
        *,
        show_duration: bool = True,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.position = position
        self.buttons: dict[CallMenuButton, RoundButton] = {}
        self.overflow_actions: dict[CallMenuButton, QAction] = {}
        self.more_button: RoundButton | None = None
        self.more_menu: QMenu | None = None
        self.menu_popper: MenuPopper = popup
        self._speaker_on = True
        small = position is BarPosition.TOP
        diameter = 40 if small else 52

        row = QHBoxLayout(self)
        row.setSpacing(10 if small else 14)
        if small:
            row.setContentsMargins(20, 14, 20, 26)
            self.title_label = ElidedLabel(self)
            self.title_label.setObjectName("stageTitle")
            self.duration_label = PlainLabel(self)
            self.duration_label.setObjectName("stageMuted")
            self.duration_label.setVisible(show_duration)
            text = QVBoxLayout()
            text.setSpacing(0)
            text.addWidget(self.title_label)
            text.addWidget(self.duration_label)
            row.addLayout(text, 1)
        else:
            row.setContentsMargins(18, 12, 18, 12)

        shown = config.buttons[: config.max_count]
        for name in shown:
            button = self._make_button(name, diameter)
            self.buttons[name] = button
            row.addWidget(button)
        hidden = config.buttons[config.max_count :]
        if hidden:
            self.more_button = self._make_overflow(hidden, diameter)
            row.addWidget(self.more_button)

    def _handler(self, name: CallMenuButton) -> Callable[[bool], None]:
        handlers: dict[CallMenuButton, Callable[[bool], None]] = {
            # Lambdas with a parameter: PySide picks clicked(bool) for them, while a bare
            # emit would be connected to clicked() and called without the state.
            _B.TOGGLE_MICROPHONE: lambda checked: self.microphone_toggled.emit(checked),
            _B.TOGGLE_CAMERA: lambda checked: self.camera_toggled.emit(checked),
            _B.SWITCH_AUDIO_OUTPUT: lambda _checked: self._on_audio_output_clicked(),
            _B.SWITCH_CAMERA: lambda _checked: self.switch_camera_requested.emit(),
            _B.HANG_UP: lambda _checked: self.hang_up_requested.emit(),
            _B.CHAT: lambda _checked: self.chat_requested.emit(),
            _B.SHOW_MEMBER_LIST: lambda _checked: self.member_list_requested.emit(),
            _B.MINIMIZE: lambda _checked: self.minimize_requested.emit(),
            _B.SHARE_SCREEN: lambda checked: self.screen_share_toggled.emit(checked),
        }
        return handlers[name]

    def label(self, name: CallMenuButton) -> str:
        """The translated name of a button (tooltip, accessible name, menu entry)."""
        labels = {
            _B.TOGGLE_MICROPHONE: self.tr("Microphone"),
            _B.TOGGLE_CAMERA: self.tr("Camera"),
            _B.SWITCH_CAMERA: self.tr("Switch camera"),
            _B.SWITCH_AUDIO_OUTPUT: self.tr("Audio output"),
            _B.HANG_UP: self.tr("Hang up"),
            _B.CHAT: self.tr("Chat"),
            _B.SHOW_MEMBER_LIST: self.tr("Members"),
            _B.MINIMIZE: self.tr("Minimize"),
            _B.SHARE_SCREEN: self.tr("Share screen"),
        }
        return labels[name]

    def _make_button(self, name: CallMenuButton, diameter: int) -> RoundButton:
        on_icon, off_icon = _ICONS[name]
        role = ButtonRole.DANGER if name is _B.HANG_UP else ButtonRole.GLASS
        button = RoundButton(
            on_icon, off_icon_name=off_icon, role=role, diameter=diameter, parent=self
        )
        button.setObjectName(f"bar_{name.value}")
        button.setToolTip(self.label(name))
        button.setAccessibleName(self.label(name))
        button.clicked.connect(self._handler(name))
        return button

    def _make_overflow(self, hidden: Sequence[CallMenuButton], diameter: int) -> RoundButton:
        more = RoundButton("more", diameter=diameter, parent=self)
        more.setObjectName("bar_more")
        more.setToolTip(self.tr("More"))
        more.setAccessibleName(self.tr("More"))
        more.clicked.connect(self._on_more_button_clicked)
        self.more_menu = QMenu(self)
        ink = self.palette().color(self.palette().ColorRole.Text)
        for name in hidden:
            action = self.more_menu.addAction(icon(_ICONS[name][0], ink, 18), self.label(name))
            action.setObjectName(f"more_{name.value}")
            action.setData(name.value)
            # The audio output opens its own menu: no checkmark to flip here.
            action.setCheckable(_ICONS[name][1] is not None and name is not _B.SWITCH_AUDIO_OUTPUT)
            action.setChecked(True)
            action.triggered.connect(self._handler(name))
            self.overflow_actions[name] = action
        return more

    @Slot()
    def _on_more_button_clicked(self) -> None:
        assert self.more_button is not None
        assert self.more_menu is not None
        below = self.position is BarPosition.TOP
        anchor = (
            self.more_button.rect().bottomLeft() if below else self.more_button.rect().topLeft()
        )
        point = self.more_button.mapToGlobal(anchor)
        if not below:
            point.setY(point.y() - self.more_menu.sizeHint().height())
        self.menu_popper(self.more_menu, point)

    def _on_audio_output_clicked(self) -> None:
        # The click flipped the button; it shows the speaker state, which only the menu's
        # "Mute speaker" entry changes.
        self._set_toggle(_B.SWITCH_AUDIO_OUTPUT, self._speaker_on)
        self.audio_output_menu_requested.emit()

    def menu_anchor(self, name: CallMenuButton) -> QWidget | None:
        """Where a menu for button ``name`` pops: the button, or "More" when it is there."""
        if (button := self.buttons.get(name)) is not None:
            return button
        return self.more_button if name in self.overflow_actions else None

    def _set_toggle(self, name: CallMenuButton, on: bool) -> None:
        # Blocked: rendering the state must not echo it back as a user intent.
        if (button := self.buttons.get(name)) is not None:
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
            button.update()
        if (action := self.overflow_actions.get(name)) is not None:
            action.blockSignals(True)
            action.setChecked(on)
            action.blockSignals(False)

    def set_badge(self, name: CallMenuButton, count: int) -> None:
        """A count on a button (unread chat messages); 0 removes it."""
        if (button := self.buttons.get(name)) is not None:
            button.set_badge(count)
        elif (action := self.overflow_actions.get(name)) is not None:
            label = self.label(name)
            action.setText(f"{label} ({count})" if count else label)
            if self.more_button is not None:
                self.more_button.set_badge(count)

    def set_view(self, view: CallView) -> None:
        """Reflect the call's title, duration and device states."""
        if self.position is BarPosition.TOP:
            self.title_label.setText(view.title)
            self.duration_label.setText(format_duration(view.duration_s))
        self._set_toggle(_B.TOGGLE_MICROPHONE, view.microphone_on)
        self._set_toggle(_B.TOGGLE_CAMERA, view.camera_on)
        self._set_toggle(_B.SHARE_SCREEN, view.sharing_screen)
        self._speaker_on = view.speaker_on
        self._set_toggle(_B.SWITCH_AUDIO_OUTPUT, view.speaker_on)
        if (output := self.buttons.get(_B.SWITCH_AUDIO_OUTPUT)) is not None:
            output.set_icon_name(_ROUTE_ICONS.get(view.audio_route, "speaker"))
        if (switch := self.buttons.get(_B.SWITCH_CAMERA)) is not None:
            switch.setEnabled(view.camera_on)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        if self.position is BarPosition.TOP:
            # A fade from dark keeps the title readable over bright video without a hard edge.
            fade = QLinearGradient(0, 0, 0, self.height())
            fade.setColorAt(0.0, call_style.glass(185))
            fade.setColorAt(1.0, QColor(0, 0, 0, 0))
            painter.fillRect(self.rect(), fade)
        else:
            painter.setBrush(call_style.glass(170))
            radius = self.height() / 2
            painter.drawRoundedRect(QRectF(self.rect()), radius, radius)


class IdleHider(QObject):
    """Hides ``targets`` after ``timeout_ms`` without mouse or key activity in ``watched``.

    ``watched`` gets mouse tracking and hover events, so movement over any child counts.
    A target under the mouse, or with an open menu, stays up.
    """

    def __init__(
        self, watched: QWidget, targets: Sequence[QWidget], timeout_ms: int = 5000
    ) -> None:
        super().__init__(watched)
        self._watched = watched
        self._targets = tuple(targets)
        self._enabled = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        watched.setMouseTracking(True)
        watched.setAttribute(Qt.WidgetAttribute.WA_Hover)
        watched.installEventFilter(self)

    @property
    def timeout_ms(self) -> int:
        """Idle time before hiding."""
        return self._timer.interval()

    @property
    def counting(self) -> bool:
        """Whether the countdown to hiding runs."""
        return self._timer.isActive()

    def set_enabled(self, enabled: bool) -> None:
        """Disabled: the targets stay visible (config ``hide_automatically=False``)."""
        self._enabled = enabled
        self.poke()

    def set_targets(self, targets: Sequence[QWidget]) -> None:
        """Replace the widgets to hide."""
        self._targets = tuple(targets)

    @Slot()
    def poke(self) -> None:
        """Activity: show the targets and restart the countdown."""
        for target in self._targets:
            # No raise_(): the page owns the stacking (its banners sit above the bars).
            if target.property("barEnabled") is not False:
                target.show()
        if self._enabled:
            self._timer.start()
        else:
            self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if (
            kind in (QEvent.Type.MouseMove, QEvent.Type.HoverMove, QEvent.Type.KeyPress)
            or kind is QEvent.Type.Show
        ):
            self.poke()
        return False

    @Slot()
    def _on_timer_timeout(self) -> None:
        busy = any(
            target.underMouse() or any(menu.isVisible() for menu in target.findChildren(QMenu))
            for target in self._targets
        )
        if busy:
            self._timer.start()
            return
        for target in self._targets:
            target.hide()
