"""The round icon buttons of the call pages (mic, camera, hang up, accept …).

Painted rather than styled: a style sheet cannot swap a tinted SVG by checked state, and
painting keeps the circle crisp at any device pixel ratio.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QEnterEvent,
    QFocusEvent,
    QFont,
    QFontMetricsF,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QAbstractButton, QSizePolicy, QVBoxLayout, QWidget

from widgets import call_style
from widgets.icons import pixmap
from widgets.plain_text import PlainLabel


class ButtonRole(StrEnum):
    """How a round button looks."""

    #: Translucent white on the stage; a checkable one turns solid white when off.
    GLASS = "glass"
    #: Red: hang up, decline, leave.
    DANGER = "danger"
    #: Green: accept.
    ACCEPT = "accept"
    #: The theme's accent (send).
    ACCENT = "accent"
    #: No circle until hovered: small actions inside panels.
    FLAT = "flat"


_FILL = {
    ButtonRole.DANGER: (call_style.HANG_UP, call_style.HANG_UP_HOVER),
    ButtonRole.ACCEPT: (call_style.ACCEPT, call_style.ACCEPT_HOVER),
}


class RoundButton(QAbstractButton):
    """A circular icon button; checkable ones show ``icon_name`` on, ``off_icon_name`` off."""

    def __init__(
        self,
        icon_name: str,
        *,
        off_icon_name: str | None = None,
        role: ButtonRole = ButtonRole.GLASS,
        diameter: int = 52,
        accent: str = "#2f6f73",
        accent_text: str = "#ffffff",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.icon_name = icon_name
        self.off_icon_name = off_icon_name
        self.role = role
        self._diameter = diameter
        self._accent = accent
        self._accent_text = accent_text
        self._flat_color = call_style.ON_STAGE
        self._hovered = False
        self._keyboard_focus = False
        self._badge = 0
        self.setCheckable(off_icon_name is not None)
        self.setChecked(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_icon_name(self, name: str) -> None:
        """Change the (on) icon, e.g. the audio output's speaker/headphone/bluetooth."""
        self.icon_name = name
        self.update()

    @property
    def badge(self) -> int:
        """The count shown on the button; 0 for none."""
        return self._badge

    def set_badge(self, count: int) -> None:
        """Show ``count`` in a red dot at the top right (unread messages); 0 hides it."""
        if count != self._badge:
            self._badge = max(0, count)
            self.update()

    def set_flat_color(self, color: str) -> None:
        """The icon colour of a ``FLAT`` button (it sits on a themed panel)."""
        self._flat_color = color
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._diameter, self._diameter)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        # A ring only for keyboard users; a window opening must not look like a selection.
        reasons = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason)
        self._keyboard_focus = event.reason() in reasons
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        self._keyboard_focus = False
        super().focusOutEvent(event)

    def enterEvent(self, event: QEnterEvent) -> None:  # noqa: N802
        self._hovered = True
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._hovered = False
        self.update()
        super().leaveEvent(event)

    def _colors(self) -> tuple[QColor, QColor]:
        active = self._hovered or self.isDown()
        if self.role in _FILL:
            normal, hover = _FILL[self.role]
            return QColor(hover if active else normal), QColor("#ffffff")
        if self.role is ButtonRole.ACCENT:
            fill = QColor(self._accent).lighter(112) if active else QColor(self._accent)
            return fill, QColor(self._accent_text)
        if self.role is ButtonRole.FLAT:
            back = QColor(128, 128, 128, 50 if active else 0)
            return back, QColor(self._flat_color)
        if self.isCheckable() and not self.isChecked():
            # Off reads at a glance: a solid light disc with a dark icon.
            return QColor("#f3f5f9" if not active else "#ffffff"), QColor("#1c2230")
        return QColor(255, 255, 255, 70 if active else 42), QColor(call_style.ON_STAGE)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height())
        circle = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        fill, ink = self._colors()
        if not self.isEnabled():
            fill.setAlpha(fill.alpha() // 2)
            ink.setAlpha(120)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawEllipse(circle.adjusted(0.5, 0.5, -0.5, -0.5))
        if self.hasFocus() and self._keyboard_focus:
            painter.setPen(QColor(call_style.ON_STAGE_MUTED))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(circle.adjusted(1.5, 1.5, -1.5, -1.5))
        name = self.icon_name
        if self.isCheckable() and not self.isChecked() and self.off_icon_name:
            name = self.off_icon_name
        glyph = max(12, round(side * 0.46))
        image = pixmap(name, ink, glyph, self.devicePixelRatioF())
        painter.drawPixmap(
            round(circle.center().x() - glyph / 2), round(circle.center().y() - glyph / 2), image
        )
        if self._badge:
            self._paint_badge(painter, circle)

    def _paint_badge(self, painter: QPainter, circle: QRectF) -> None:
        text = str(self._badge) if self._badge < 100 else "99+"
        font = QFont(self.font())
        font.setPixelSize(max(9, round(circle.height() * 0.22)))
        font.setBold(True)
        height = font.pixelSize() * 1.5
        width = max(height, QFontMetricsF(font).horizontalAdvance(text) + height * 0.6)
        dot = QRectF(circle.right() - width, circle.top(), width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(call_style.HANG_UP))
        painter.drawRoundedRect(dot, height / 2, height / 2)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(dot, Qt.AlignmentFlag.AlignCenter, text)


class CaptionedButton(QWidget):
    """A round button with a caption under it (ringing pages: "Decline", "Accept")."""

    def __init__(self, button: RoundButton, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = button
        button.setParent(self)
        button.setAccessibleName(caption)
        self.caption = PlainLabel(caption, self)
        self.caption.setObjectName("buttonCaption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
