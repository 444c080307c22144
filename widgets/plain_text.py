"""Text from other people shown as text: display names, messages, room titles.

``QLabel`` and tool tips guess whether a string is HTML (``Qt::AutoText``), so a display
name like ``<b style="font-size:40px">SECURITY ALERT</b>`` would draw as styled text in
a call tile. Every label of Parley is a :class:`PlainLabel`, and a tool tip that carries
someone's text goes through :func:`set_plain_tool_tip`; a UI test walks every widget.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFontMetricsF, QResizeEvent
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QWidget


class PlainLabel(QLabel):
    """A label whose text is never read as HTML."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.setTextFormat(Qt.TextFormat.PlainText)


class ElidedLabel(PlainLabel):
    """A one-line label that shortens its text with "…" to the width it is given, the
    whole text in its tool tip: a long name must not widen a page or push buttons out.

    ``text()`` is what is shown; :meth:`full_text` is what was set.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._full = super().text()
        self._note = ""

    def full_text(self) -> str:
        """The text as set, before shortening."""
        return self._full

    def set_note(self, note: str) -> None:
        """A tool tip of its own (below the whole text when that is shortened)."""
        self._note = note
        self._update_tool_tip()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        """Show ``text``, shortened to the label's width if it does not fit."""
        self._full = text
        self._shorten()
        self.updateGeometry()  # the size hint follows the whole text

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        # Layouts may give it less than the whole text needs: it shortens the text.
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        # QLabel's own hint (padding, margins) for the shown text, widened to the whole.
        hint = super().sizeHint()
        extra = self._text_width(self._full) - self._text_width(super().text())
        return QSize(hint.width() + max(0, extra), hint.height())

    def _text_width(self, text: str) -> int:
        # Whole pixels, rounded up: a text measured at 113.4 px does not fit in 113.
        metrics = QFontMetricsF(self.font())
        return max(
            math.ceil(metrics.horizontalAdvance(text)),
            math.ceil(metrics.boundingRect(text).width()),
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._shorten()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            # A style sheet applied later changes the font: measure again.
            self._shorten()
            self.updateGeometry()

    def _shorten(self) -> None:
        width = self.contentsRect().width()
        shown = self._full
        if self._text_width(shown) > width:
            shown = self.fontMetrics().elidedText(shown, Qt.TextElideMode.ElideRight, width)
        if shown != super().text():  # a new text re-lays the window out
            super().setText(shown)
        self._update_tool_tip()

    def _update_tool_tip(self) -> None:
        whole = self._full if super().text() != self._full else ""
        set_plain_tool_tip(self, "\n".join(part for part in (whole, self._note) if part))


def set_plain_tool_tip(widget: QWidget, text: str) -> None:
    """Show ``text`` as ``widget``'s tool tip exactly as written, never as HTML."""
    # Tool tips have no text format: one that might be HTML is escaped into HTML.
    widget.setToolTip(GuiQt.convertFromPlainText(text) if GuiQt.mightBeRichText(text) else text)


def id_hint(user_id: str, name: str) -> str:
    """The user ID to show beside a display name, or "" when the name is the ID.

    Display names are not unique: anyone may call themselves "Alice". Where who someone
    is matters (a call ringing), the ID — unique on the server — is shown too.
    """
    return "" if name.strip().casefold() in ("", user_id.casefold()) else user_id
