"""The audio room's in-room messages: the call chat's list and send box, always docked.

On top of :class:`~widgets.chat_panel.ChatPanel` (bubbles, send, "Not sent · Resend") it
reports a click on a message and a long press — or a right click, the desktop's long
press — as ``message_clicked(id)`` and ``message_long_pressed(id)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.kit.views.chat import ChatMessageView
from widgets.chat_panel import ChatPanel, MessageBubble
from widgets.theme import Colors

#: How long a press must be held to count as a long press.
LONG_PRESS_MS = 600


class RoomMessages(ChatPanel):
    """Messages of the room. Emits ``send_requested``, ``resend_requested``,
    ``message_clicked`` and ``message_long_pressed`` (message ids except the first)."""

    message_clicked = Signal(str)
    message_long_pressed = Signal(str)

    def __init__(
        self, colors: Colors, parent: QWidget | None = None, *, long_press_ms: int = LONG_PRESS_MS
    ) -> None:
        super().__init__(colors, parent)
        self.set_title(self.tr("Messages"))
        # Always shown beside the seats: nothing to close.
        self.close_button.hide()
        self._pressed: str | None = None
        self._press_at = QPoint()
        self._long_fired = False
        self._long_timer = QTimer(self)
        self._long_timer.setSingleShot(True)
        self._long_timer.setInterval(long_press_ms)
        self._long_timer.timeout.connect(self._on_long_timer_timeout)

    def set_view(self, messages: Sequence[ChatMessageView]) -> None:
        """Show ``messages``; new bubbles learn to report clicks and long presses."""
        super().set_view(messages)
        for message_id, bubble in self.bubbles.items():
            if bubble.property("messageId") is None:
                bubble.setProperty("messageId", message_id)
                # The labels take the mouse (selectable text), so they are watched too.
                for watched in (bubble, *bubble.findChildren(QLabel)):
                    watched.setProperty("messageId", message_id)
                    watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        message_id = watched.property("messageId")
        if not isinstance(message_id, str):
            return False
        kind = event.type()
        if kind is QEvent.Type.ContextMenu:
            self.message_long_pressed.emit(message_id)
            return True
        if not isinstance(event, QMouseEvent) or event.button() not in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.NoButton,
        ):
            return False
        if kind is QEvent.Type.MouseButtonPress:
            self._pressed, self._long_fired = message_id, False
            self._press_at = event.globalPosition().toPoint()
            self._long_timer.start()
        elif kind is QEvent.Type.MouseMove and self._pressed is not None:
            moved = (event.globalPosition().toPoint() - self._press_at).manhattanLength()
            if moved >= QApplication.startDragDistance():
                # Selecting text, not pressing the message.
                self._pressed = None
                self._long_timer.stop()
        elif kind is QEvent.Type.MouseButtonRelease and self._pressed == message_id:
            self._long_timer.stop()
            self._pressed = None
            if not self._long_fired:
                self.message_clicked.emit(message_id)
        # Never consumed: text selection and the resend link keep working.
        return False

    @Slot()
    def _on_long_timer_timeout(self) -> None:
        if self._pressed is not None:
            self._long_fired = True
            self.message_long_pressed.emit(self._pressed)

    def bubble(self, message_id: str) -> MessageBubble:
        """The bubble of ``message_id``."""
        return self.bubbles[message_id]
