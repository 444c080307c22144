"""The hang-up / leave confirmation, with the texts of a :class:`~app.ConfirmationDialog`.

The texts come from the integrator's config (``HANG_UP_DIALOG`` and ``LEAVE_DIALOG`` by
default); the confirm button is red because it ends something.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app import ConfirmationDialog
from widgets.call_style import call_style_sheet
from widgets.plain_text import PlainLabel
from widgets.theme import Colors


class ConfirmDialog(QDialog):
    """A modal question; ``exec()`` returns ``Accepted`` when the user confirms."""

    def __init__(
        self, texts: ConfirmationDialog, colors: Colors, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("confirm_dialog")
        self.setProperty("kind", "page")
        self.setStyleSheet(call_style_sheet(colors))
        self.setWindowTitle(texts.title)
        self.setModal(True)
        self.title_label = PlainLabel(texts.title, self)
        self.title_label.setObjectName("panelTitle")
        self.message_label = PlainLabel(texts.message, self)
        self.message_label.setWordWrap(True)
        self.cancel_button = QPushButton(texts.cancel_text, self)
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button = QPushButton(texts.confirm_text, self)
        self.confirm_button.setObjectName("danger")
        self.confirm_button.setDefault(True)
        self.confirm_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 20, 24, 18)
        column.setSpacing(12)
        column.addWidget(self.title_label)
        column.addWidget(self.message_label)
        column.addSpacing(6)
        column.addLayout(buttons)
        self.setMinimumWidth(340)
        # Size the window before it is created, so showing it does not resize it again.
        column.activate()

    @classmethod
    def ask(cls, texts: ConfirmationDialog, colors: Colors, parent: QWidget | None = None) -> bool:
        """Show the dialog modally; ``True`` when the user confirmed."""
        dialog = cls(texts, colors, parent)
        try:
            return dialog.exec() == QDialog.DialogCode.Accepted
        finally:
            dialog.deleteLater()
