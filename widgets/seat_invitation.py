"""The audience's invitation to a seat: "The host invites you to take a seat".

Drawn inside the page over a dimmed scrim rather than as its own window: it belongs to
the room (it goes away with it, and follows it when the window moves), and it needs no
window manager to appear. It is shown while ``AudioRoomView.invited_by`` is set; the
answer goes out as ``accepted`` or ``declined``, and the next view hides it.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.kit.types import User
from widgets.avatar_view import AvatarView
from widgets.plain_text import PlainLabel

_CARD_WIDTH = 380


class SeatInvitation(QWidget):
    """A scrim over the whole page with the invitation card in its middle."""

    accepted = Signal()
    declined = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("seatInvitation")
        self.host: User | None = None
        self.card = QFrame(self)
        self.card.setObjectName("inviteCard")
        self.avatar = AvatarView(self.card, ring=False)
        self.avatar.setFixedSize(56, 56)
        self.title_label = PlainLabel(self.tr("The host invites you to take a seat"), self.card)
        self.title_label.setObjectName("panelTitle")
        self.title_label.setWordWrap(True)
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.message_label = PlainLabel(self.card)
        self.message_label.setObjectName("panelMuted")
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.decline_button = QPushButton(self.tr("Decline"), self.card)
        self.decline_button.clicked.connect(self.declined)
        self.accept_button = QPushButton(self.tr("Accept"), self.card)
        self.accept_button.setObjectName("accept")
        self.accept_button.setDefault(True)
        self.accept_button.clicked.connect(self.accepted)
        for button in (self.decline_button, self.accept_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        buttons.addWidget(self.decline_button, 1)
        buttons.addWidget(self.accept_button, 1)
        column = QVBoxLayout(self.card)
        column.setContentsMargins(24, 22, 24, 20)
        column.setSpacing(10)
        column.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.title_label)
        column.addWidget(self.message_label)
        column.addSpacing(6)
        column.addLayout(buttons)
        self.hide()

    @property
    def message(self) -> str:
        """The invitation's text as shown (the kit's words, then who invites)."""
        return f"{self.title_label.text()}\n{self.message_label.text()}"

    def set_host(self, host: User | None) -> None:
        """Show the invitation from ``host``; ``None`` hides it."""
        self.host = host
        if host is None:
            self.hide()
            return
        self.avatar.set_user(host.id, host.name)
        self.message_label.setText(
            self.tr("{host} would like you to join the speakers.").format(host=host.name or host.id)
        )
        self.reposition()
        self.show()
        self.raise_()
        self.accept_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def reposition(self) -> None:
        """Cover the parent and centre the card; call when the parent resizes."""
        parent = self.parentWidget()
        if parent is None:
            return
        self.setGeometry(parent.rect())
        layout = self.card.layout()
        assert layout is not None
        width = min(_CARD_WIDTH, max(240, parent.width() - 40))
        height = layout.totalHeightForWidth(width)
        if height <= 0:
            height = layout.totalSizeHint().height()
        self.card.setGeometry(
            QRect((self.width() - width) // 2, (self.height() - height) // 2, width, height)
        )

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 120))
