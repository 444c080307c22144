"""Error toasts: a short message over the top of a page that fades out by itself."""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QPropertyAnimation, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QGraphicsOpacityEffect, QHBoxLayout, QWidget

from widgets import call_style
from widgets.icons import pixmap
from widgets.plain_text import PlainLabel


class Toast(QWidget):
    """A message floating over its parent's top edge; ``finished`` once it has faded.

    ``visible_ms`` and ``fade_ms`` are injectable so tests need not wait seconds.
    """

    finished = Signal()

    def __init__(self, parent: QWidget, *, visible_ms: int = 4000, fade_ms: int = 400) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet(
            f"QWidget#toast {{ background: {call_style.HANG_UP}; border-radius: 10px; }}"
            "QWidget#toast QLabel { color: #ffffff; background: transparent; font-weight: 600; }"
        )
        self.icon_label = PlainLabel(self)
        self.text_label = PlainLabel(self)
        self.text_label.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 9, 16, 9)
        row.setSpacing(8)
        row.addWidget(self.icon_label)
        row.addWidget(self.text_label, 1)
        self._effect = QGraphicsOpacityEffect(self)
        self._effect.setOpacity(1.0)
        self.setGraphicsEffect(self._effect)
        self._fade = QPropertyAnimation(self._effect, b"opacity", self)
        self._fade.setDuration(fade_ms)
        self._fade.setStartValue(1.0)
        self._fade.setEndValue(0.0)
        self._fade.setEasingCurve(QEasingCurve.Type.InQuad)
        self._fade.finished.connect(self._on_fade_finished)
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.setInterval(visible_ms)
        self._hold.timeout.connect(self._fade.start)
        self._top = 76
        self.hide()

    @property
    def text(self) -> str:
        """The message shown (or last shown)."""
        return self.text_label.text()

    @Slot(str)
    def show_message(self, text: str) -> None:
        """Show ``text`` now (replacing any toast still up) and start the countdown."""
        self._fade.stop()
        self._effect.setOpacity(1.0)
        self.icon_label.setPixmap(pixmap("warning", "#ffffff", 18, self.devicePixelRatioF()))
        self.text_label.setText(text)
        self.reposition()
        self.show()
        self.raise_()
        self._hold.start()

    def set_top(self, top: int) -> None:
        """Distance from the parent's top edge (below whatever the page shows there)."""
        self._top = top
        self.reposition()

    def reposition(self) -> None:
        """Centre near the parent's top, one line wide if it fits; call on parent resize."""
        parent = self.parentWidget()
        layout = self.layout()
        if parent is None or layout is None or not self.text_label.text():
            return
        margins = layout.contentsMargins()
        chrome = margins.left() + margins.right() + layout.spacing() + 18 + 4
        natural = self.text_label.fontMetrics().horizontalAdvance(self.text_label.text()) + chrome
        width = max(160, min(natural, parent.width() - 32, 560))
        height = layout.totalHeightForWidth(width)
        self.setFixedSize(width, height if height > 0 else layout.totalSizeHint().height())
        self.move((parent.width() - width) // 2, self._top)

    @Slot()
    def _on_fade_finished(self) -> None:
        self.hide()
        self.finished.emit()
