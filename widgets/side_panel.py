"""The frame of the call page's side panels (members, chat): a title, a close button, a body."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from widgets.plain_text import PlainLabel
from widgets.round_button import ButtonRole, RoundButton
from widgets.theme import Colors


class SidePanel(QFrame):
    """A themed panel that slides over the call's right edge; emits ``close_requested``."""

    close_requested = Signal()

    def __init__(self, title: str, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.colors = colors
        self.title_label = PlainLabel(title, self)
        self.title_label.setObjectName("panelTitle")
        self.close_button = RoundButton("close", role=ButtonRole.FLAT, diameter=32, parent=self)
        self.close_button.set_flat_color(colors.muted)
        self.close_button.setToolTip(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close"))
        self.close_button.clicked.connect(self.close_requested)
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.close_button)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(16, 12, 12, 12)
        self.body.setSpacing(10)
        self.body.addLayout(header)

    def add_row_list(self) -> tuple[QWidget, QVBoxLayout]:
        """A vertically scrolling list filling the body: its content widget (the rows'
        parent) and its layout (rows are inserted above the final stretch)."""
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget(scroll)
        content.setObjectName("scrollBody")
        rows = QVBoxLayout(content)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        rows.addStretch(1)
        scroll.setWidget(content)
        self.body.addWidget(scroll, 1)
        return content, rows

    def set_title(self, title: str) -> None:
        """Change the header (e.g. with a count)."""
        self.title_label.setText(title)
