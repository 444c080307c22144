"""Text from other people shown as text: display names, messages, room titles.

``QLabel`` and tool tips guess whether a string is HTML (``Qt::AutoText``), so a display
name like ``<b style="font-size:40px">SECURITY ALERT</b>`` would draw as styled text in
a call tile. Every label of Parley is a :class:`PlainLabel`, and a tool tip that carries
someone's text goes through :func:`set_plain_tool_tip`; a UI test walks every widget.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QWidget


class PlainLabel(QLabel):
    """A label whose text is never read as HTML."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.setTextFormat(Qt.TextFormat.PlainText)


def set_plain_tool_tip(widget: QWidget, text: str) -> None:
    """Show ``text`` as ``widget``'s tool tip exactly as written, never as HTML."""
    # Tool tips have no text format: one that might be HTML is escaped into HTML.
    widget.setToolTip(GuiQt.convertFromPlainText(text) if GuiQt.mightBeRichText(text) else text)
