"""The in-call chat: messages as bubbles, an input line and a send button.

A message that failed to send is marked and offers "Resend", which emits its id; the
service resends it under the same id and the next render clears the mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.kit.types import MessageState
from app.kit.views.chat import ChatMessageView
from widgets.plain_text import PlainLabel
from widgets.round_button import ButtonRole, RoundButton
from widgets.side_panel import SidePanel
from widgets.theme import Colors

MAX_MESSAGE_LENGTH = 1000
#: The widest a bubble grows before wrapping, in logical pixels.
BUBBLE_WIDTH = 230


class MessageBubble(QFrame):
    """One message: sender and time above, the text in a bubble, a resend link if it failed."""

    def __init__(self, message: ChatMessageView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_id = message.message_id
        when = datetime.fromtimestamp(message.timestamp_ms / 1000).strftime("%H:%M")
        who = self.tr("You") if message.is_local else message.sender_name
        self.meta_label = PlainLabel(f"{who} · {when}", self)
        self.meta_label.setObjectName("panelMuted")
        self.text_label = PlainLabel(message.text, self)
        self.text_label.setObjectName("bubbleLocal" if message.is_local else "bubbleRemote")
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        # Word-wrapped labels hint a narrow width; ask for one line up to a bubble's width.
        # Margins, not style-sheet padding: QLabel's height-for-width ignores padding.
        self.text_label.setContentsMargins(11, 7, 11, 7)
        padding = 26
        self.text_label.ensurePolished()  # the style sheet's font, not the default one
        natural = self.text_label.fontMetrics().horizontalAdvance(message.text) + padding
        self.text_label.setMinimumWidth(min(natural, BUBBLE_WIDTH))
        side = Qt.AlignmentFlag.AlignRight if message.is_local else Qt.AlignmentFlag.AlignLeft
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 2, 0, 2)
        column.setSpacing(3)
        column.addWidget(self.meta_label, 0, side)
        # Not an aligned item: aligned items get their size hint and lose word wrapping's
        # height-for-width, which cut long messages to one line.
        bubble_row = QHBoxLayout()
        bubble_row.setSpacing(0)
        if message.is_local:
            bubble_row.addSpacing(40)
            bubble_row.addStretch(1)
        bubble_row.addWidget(self.text_label)
        if not message.is_local:
            bubble_row.addStretch(1)
            bubble_row.addSpacing(40)
        column.addLayout(bubble_row)
        self.resend_button: QPushButton | None = None
        if message.state is MessageState.SENDING:
            self.meta_label.setText(self.tr("{who} · sending…").format(who=who))
        elif message.failed:
            failed = PlainLabel(self.tr("Not sent"), self)
            failed.setObjectName("failed")
            self.resend_button = QPushButton(self.tr("Resend"), self)
            self.resend_button.setObjectName("link")
            self.resend_button.setCursor(Qt.CursorShape.PointingHandCursor)
            status = QHBoxLayout()
            status.setSpacing(4)
            status.addWidget(failed)
            status.addWidget(self.resend_button)
            column.addLayout(status)
            column.setAlignment(status, side)


class ChatPanel(SidePanel):
    """The chat panel. Emits ``send_requested(text)``, ``resend_requested(message_id)``."""

    send_requested = Signal(str)
    resend_requested = Signal(str)

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__("", colors, parent)
        self.set_title(self.tr("Chat"))
        self.bubbles: dict[str, MessageBubble] = {}
        self._rendered: dict[str, ChatMessageView] = {}
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content = QWidget(self.scroll_area)
        self._content.setObjectName("scrollBody")
        self._list = QVBoxLayout(self._content)
        self._list.setContentsMargins(0, 0, 4, 0)
        self._list.setSpacing(8)
        self._list.addStretch(1)
        self.empty_label = PlainLabel(self.tr("No messages yet. Say hello!"), self._content)
        self.empty_label.setObjectName("panelMuted")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._list.addWidget(self.empty_label)
        self.scroll_area.setWidget(self._content)

        self._shown: tuple[ChatMessageView, ...] = ()
        self.input = QLineEdit(self)
        self.input.setPlaceholderText(self.tr("Message"))
        self.input.setMaxLength(MAX_MESSAGE_LENGTH)
        self.input.returnPressed.connect(self._on_send)
        self.send_button = RoundButton(
            "send",
            role=ButtonRole.ACCENT,
            diameter=36,
            accent=colors.accent,
            accent_text=colors.accent_text,
            parent=self,
        )
        self.send_button.setToolTip(self.tr("Send"))
        self.send_button.setAccessibleName(self.tr("Send"))
        self.send_button.clicked.connect(self._on_send)
        self.input.textChanged.connect(self._on_input_text_changed)
        self.send_button.setEnabled(False)
        entry = QHBoxLayout()
        entry.setSpacing(8)
        entry.addWidget(self.input, 1)
        entry.addWidget(self.send_button)
        self.body.addWidget(self.scroll_area, 1)
        self.body.addLayout(entry)

    @property
    def messages(self) -> tuple[ChatMessageView, ...]:
        """The messages shown, in order."""
        return self._shown

    def set_view(self, messages: Sequence[ChatMessageView]) -> None:
        """Show ``messages`` in order; only new or changed ones are rebuilt."""
        self._shown = tuple(messages)
        wanted = {message.message_id: message for message in messages}
        for message_id in list(self.bubbles):
            if wanted.get(message_id) != self._rendered.get(message_id):
                self.bubbles.pop(message_id).deleteLater()
                del self._rendered[message_id]
        grew = False
        for index, message in enumerate(messages):
            bubble = self.bubbles.get(message.message_id)
            if bubble is None:
                bubble = MessageBubble(message, self._content)
                if bubble.resend_button is not None:
                    message_id = message.message_id
                    bubble.resend_button.clicked.connect(
                        lambda _=False, m=message_id: self.resend_requested.emit(m)
                    )
                self.bubbles[message.message_id] = bubble
                self._rendered[message.message_id] = message
                grew = True
            # Index 0 is the stretch that keeps few messages at the bottom.
            self._list.insertWidget(index + 1, bubble)
        self.empty_label.setVisible(not messages)
        if grew:
            # After layout: the new range is only known once the bubbles are laid out.
            QTimer.singleShot(0, self, self._scroll_to_end)

    @Slot()
    def _scroll_to_end(self) -> None:
        bar = self.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())

    @Slot(str)
    def _on_input_text_changed(self, text: str) -> None:
        self.send_button.setEnabled(bool(text.strip()))

    @Slot()
    def _on_send(self) -> None:
        text = self.input.text().strip()
        if text:
            self.send_requested.emit(text)
            self.input.clear()
