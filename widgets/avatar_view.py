"""A participant's avatar: initials on a colour taken from the user id, and a sound-wave ring.

Levels arrive at about 10 Hz; the ring eases toward the latest level on a 30 fps timer
that only runs while there is something to animate, so a silent call costs nothing.
"""

from __future__ import annotations

import math
import zlib

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets import call_style

#: Avatar colours: mid-tone, so white initials read on every one of them.
AVATAR_COLORS = (
    "#3f7fbf",
    "#9b59b6",
    "#2e9b8a",
    "#d17a22",
    "#c0466e",
    "#5a6fd6",
    "#4f9a3f",
    "#b85c38",
)
_FRAME_MS = 33
#: How fast the ring follows the level, per frame: quick to rise, slower to fall.
_ATTACK = 0.45
_RELEASE = 0.12


def avatar_color(user_id: str) -> str:
    """The colour of ``user_id``'s avatar, the same on every run and every machine."""
    # crc32, not hash(): str hashes are salted per process.
    return AVATAR_COLORS[zlib.crc32(user_id.encode("utf-8")) % len(AVATAR_COLORS)]


def initials(name: str, fallback: str = "") -> str:
    """Up to two capital initials: "Ada Lovelace" → "AL", "bob" → "B"."""
    words = [word for word in (name or fallback).replace("_", " ").split() if word]
    if not words:
        return "?"
    letters = [words[0][0]] + ([words[-1][0]] if len(words) > 1 else [])
    return "".join(letters).upper()


class AvatarView(QWidget):
    """Initials in a coloured circle; a ring pulses around it while the user speaks."""

    def __init__(self, parent: QWidget | None = None, *, ring: bool = True) -> None:
        super().__init__(parent)
        self._user_id = ""
        self._name = ""
        self._ring_enabled = ring
        self._target = 0.0
        self._shown = 0.0
        self._phase = 0.0
        self._dimmed = False
        self._outline: QColor | None = None
        self._max_radius = 84.0
        self._timer = QTimer(self)
        self._timer.setInterval(_FRAME_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)

    @property
    def speaking_level(self) -> float:
        """The level the ring is heading to."""
        return self._target

    @property
    def shown_level(self) -> float:
        """The level the ring currently draws (eases toward :attr:`speaking_level`)."""
        return self._shown

    @property
    def animating(self) -> bool:
        """Whether the ring timer runs (only while the ring moves)."""
        return self._timer.isActive()

    def set_user(self, user_id: str, name: str) -> None:
        """Whose avatar this is."""
        if (user_id, name) != (self._user_id, self._name):
            self._user_id, self._name = user_id, name
            self.setAccessibleName(name or user_id)
            self.update()

    def set_outline(self, color: QColor | str | None) -> None:
        """A thin ring around the disc, to set it off from video behind it."""
        self._outline = QColor(color) if color is not None else None
        self.update()

    def set_max_radius(self, radius: float) -> None:
        """The largest disc radius in logical pixels; big tiles stay calm, not billboard-sized."""
        self._max_radius = radius
        self.update()

    def set_dimmed(self, dimmed: bool) -> None:
        """Fade the avatar (an invitee who has not joined yet)."""
        if dimmed != self._dimmed:
            self._dimmed = dimmed
            self.update()

    @Slot(float)
    def set_speaking_level(self, level: float) -> None:
        """The latest audio level, 0..1; starts the ring animation when it changes."""
        self._target = min(1.0, max(0.0, level)) if self._ring_enabled else 0.0
        if self.isHidden():
            # Behind video: nothing to animate; jump, so showing it later starts right.
            self._shown = self._target
            return
        if abs(self._target - self._shown) > 0.005 and not self._timer.isActive():
            self._timer.start()

    def settle(self) -> None:
        """Jump the ring to the target level at once (stills, screenshots, tests)."""
        self._shown = self._target
        self._timer.stop()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(96, 96)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(24, 24)

    @Slot()
    def _on_timer_timeout(self) -> None:
        rate = _ATTACK if self._target > self._shown else _RELEASE
        self._shown += (self._target - self._shown) * rate
        self._phase = (self._phase + 0.18) % (2 * math.pi)
        if abs(self._target - self._shown) < 0.005 and self._target < 0.01:
            self._shown = self._target
            self._timer.stop()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._dimmed:
            painter.setOpacity(0.55)
        side = min(self.width(), self.height())
        # Room for the ring: the disc takes 70 % of the side when a ring can appear.
        radius = min(side * (0.35 if self._ring_enabled else 0.5), self._max_radius)
        room = min(side / 2 - 3, radius / 0.7)  # the outer wave and its stroke stay inside
        outline_width = max(2.0, radius * 0.04)
        if self._outline is not None:
            radius -= outline_width / 2 + 0.5  # the outline's stroke must stay inside
        center = QPointF(self.width() / 2, self.height() / 2)
        if self._shown > 0.01:
            self._paint_ring(painter, center, radius, room)
        if self._outline is not None:
            painter.setPen(QPen(self._outline, outline_width))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(avatar_color(self._user_id or self._name)))
        painter.drawEllipse(center, radius, radius)
        font = QFont(self.font())
        # Initials scale with the circle, not with the UI font.
        font.setPixelSize(max(8, round(radius * 0.72)))
        font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        box = QRectF(center.x() - radius, center.y() - radius, 2 * radius, 2 * radius)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, initials(self._name, self._user_id))

    def _paint_ring(self, painter: QPainter, center: QPointF, radius: float, room: float) -> None:
        spread = (room - radius) * min(1.0, self._shown * 1.6)
        color = QColor(call_style.SPEAKING)
        # Two soft waves, offset in phase, read as sound leaving the avatar.
        for offset, alpha in ((0.0, 150), (math.pi, 80)):
            wobble = 0.85 + 0.15 * math.sin(self._phase + offset)
            ring = radius + spread * wobble * (1.0 if offset == 0.0 else 0.6)
            color.setAlpha(round(alpha * min(1.0, 0.4 + self._shown)))
            painter.setPen(QPen(color, max(1.5, radius * 0.06)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(center, ring, ring)
        fill = QColor(call_style.SPEAKING)
        fill.setAlpha(round(45 * self._shown))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        halo = radius + spread * 0.55
        painter.drawEllipse(center, halo, halo)
