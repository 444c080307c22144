"""The minimized call: a small frameless window that stays on top of everything.

It shows the active speaker (video, or avatar with the sound-wave ring), the duration,
a mic toggle and a leave button. Drag it anywhere; a click (press and release without
moving) restores the call.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QVBoxLayout, QWidget

from app.kit.views.call import (
    CallView,
    IncomingCallView,
    OutgoingCallView,
    format_duration,
)
from widgets import call_style
from widgets.call_style import call_style_sheet
from widgets.incoming_call import invitation_text
from widgets.plain_text import ElidedLabel, PlainLabel
from widgets.round_button import ButtonRole, RoundButton
from widgets.theme import Colors
from widgets.video_view import VideoView


class MinimizeOverlay(QWidget):
    """Emits ``restore_requested``, ``microphone_toggled(bool)`` and ``leave_requested``."""

    restore_requested = Signal()
    microphone_toggled = Signal(bool)
    leave_requested = Signal()

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlags(
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setWindowTitle(self.tr("Parley call"))
        self.setStyleSheet(call_style_sheet(colors))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(self.tr("Click to return to the call"))
        self._view: CallView | None = None
        self.speaker_id: str | None = None
        self._press_at: QPoint | None = None
        self._window_at = QPoint()
        self._dragged = False

        self.video = VideoView(self)
        self.video.set_radius(12)
        self.name_label = ElidedLabel(self)
        self.name_label.setObjectName("stageText")
        self.duration_label = PlainLabel(self)
        self.duration_label.setObjectName("stageMuted")
        self.mic_button = RoundButton("mic", off_icon_name="mic-off", diameter=36, parent=self)
        self.mic_button.setToolTip(self.tr("Microphone"))
        self.mic_button.setAccessibleName(self.tr("Microphone"))
        self.mic_button.clicked.connect(self.microphone_toggled)
        self.leave_button = RoundButton("hang-up", role=ButtonRole.DANGER, diameter=36, parent=self)
        self.leave_button.setToolTip(self.tr("Leave the call"))
        self.leave_button.setAccessibleName(self.tr("Leave the call"))
        self.leave_button.clicked.connect(self.leave_requested)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name_label)
        text.addWidget(self.duration_label)
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addLayout(text, 1)
        row.addWidget(self.mic_button)
        row.addWidget(self.leave_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 10)
        column.setSpacing(8)
        column.addWidget(self.video, 1)
        column.addLayout(row)
        # A fixed size: the layout never resizes the window as names and states change.
        self.setFixedSize(self.sizeHint())

    @property
    def view(self) -> CallView | None:
        """The call last rendered."""
        return self._view

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(220, 230)

    def set_view(self, view: CallView) -> None:
        """Show the active speaker, the duration and the mic state of ``view``."""
        self._view = view
        speaker = view.active_speaker()
        if speaker is None:
            return
        if speaker.user_id != self.speaker_id or not speaker.camera_on:
            self.video.clear()
        self.speaker_id = speaker.user_id
        self.video.set_user(speaker.user_id, speaker.display_name)
        self.video.set_mirrored(speaker.is_local)
        self.video.avatar.set_speaking_level(speaker.speaking_level)
        self.name_label.setText(
            self.tr("{name} (You)").format(name=speaker.display_name)
            if speaker.is_local
            else speaker.display_name
        )
        self.duration_label.setText(format_duration(view.duration_s))
        self.mic_button.setVisible(view.microphone_available)
        self.mic_button.blockSignals(True)
        self.mic_button.setChecked(view.microphone_on)
        self.mic_button.blockSignals(False)
        self.mic_button.update()

    def set_ringing_view(self, view: OutgoingCallView | IncomingCallView) -> None:
        """A minimized ringing page: who and "Calling…" (or the invitation); no mic toggle.

        ``leave_requested`` then means cancel (outgoing) or decline (incoming).
        """
        self._view = None
        if isinstance(view, OutgoingCallView):
            user, status = view.callees[0], self.tr("Calling…")
        else:
            user, status = view.caller, invitation_text(view)
        self.speaker_id = user.id
        self.video.clear()
        self.video.set_user(user.id, user.name)
        self.video.set_mirrored(False)
        self.name_label.setText(user.name or user.id)
        self.duration_label.setText(status)
        self.mic_button.hide()

    @Slot(str, object)
    def set_frame(self, user_id: str, frame: npt.NDArray[np.uint8]) -> None:
        """A frame of ``user_id``: shown only if they are the active speaker, camera on."""
        if user_id != self.speaker_id or self._view is None:
            return
        tile = self._view.tile(user_id)
        if tile is not None and tile.camera_on:
            self.video.set_frame(frame)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(call_style.TILE_BORDER)
        painter.setBrush(call_style.glass(235))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 16, 16)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() is Qt.MouseButton.LeftButton:
            self._press_at = event.globalPosition().toPoint()
            self._window_at = self.pos()
            self._dragged = False
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._press_at is None:
            return
        delta = event.globalPosition().toPoint() - self._press_at
        if delta.manhattanLength() >= QApplication.startDragDistance():
            self._dragged = True
        if self._dragged:
            self.move(self._window_at + delta)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() is Qt.MouseButton.LeftButton and self._press_at is not None:
            clicked = not self._dragged
            self._press_at = None
            if clicked:
                self.restore_requested.emit()
