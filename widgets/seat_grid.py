"""The seat grid of an audio room: rows of seats laid out as the room's config says.

Each seat shows its occupant's avatar (with the sound-wave ring while they speak), name,
a host or co-host badge and a mic-off badge; an empty seat shows a seat icon, or a lock
when it is locked. Clicking a seat emits ``seat_clicked(index)``; what happens next (a
menu, or the integrator's ``seat.on_clicked``) is the page's business.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QVBoxLayout, QWidget

from app.kit.config.audio_room import SeatAlignment, SeatRowConfig
from app.kit.views.audio_room import AudioRoomView, SeatView
from widgets import audio_room_style, call_style
from widgets.avatar_view import AvatarView
from widgets.icons import pixmap
from widgets.plain_text import PlainLabel, set_plain_tool_tip

#: A seat's box in logical pixels: the avatar (ring included) over a line for the name.
SEAT_WIDTH = 112
AVATAR_SIDE = 92
NAME_HEIGHT = 20
#: Room under the name, so rows do not crowd each other with the default row spacing 0.
SEAT_HEIGHT = AVATAR_SIDE + 4 + NAME_HEIGHT + 12
#: AvatarView draws its disc at 35 % of its side when it has a ring.
DISC_RADIUS = AVATAR_SIDE * 0.35
_MIC_BADGE = 20


class SeatWidget(QAbstractButton):
    """One seat; ``clicked`` is emitted by the button machinery (mouse, Space, Enter)."""

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.seat: SeatView | None = None
        self.room_locked = False
        self.setFixedSize(SEAT_WIDTH, SEAT_HEIGHT)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.avatar = AvatarView(self)
        self.avatar.setGeometry((SEAT_WIDTH - AVATAR_SIDE) // 2, 0, AVATAR_SIDE, AVATAR_SIDE)
        # Clicks belong to the seat; the avatar only paints.
        self.avatar.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.name_label = PlainLabel(self)
        self.name_label.setObjectName("seatName")
        self.name_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.name_label.setGeometry(0, AVATAR_SIDE + 4, SEAT_WIDTH, NAME_HEIGHT)
        self.badge_label = PlainLabel(self)
        self.badge_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mic_off_label = PlainLabel(self)
        self.mic_off_label.setObjectName("micOffBadge")
        self.mic_off_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mic_off_label.setFixedSize(_MIC_BADGE, _MIC_BADGE)
        center = SEAT_WIDTH / 2
        self.mic_off_label.move(
            round(center + DISC_RADIUS * 0.72 - _MIC_BADGE / 2),
            round(AVATAR_SIDE / 2 + DISC_RADIUS * 0.72 - _MIC_BADGE / 2),
        )
        for child in (self.name_label, self.badge_label, self.mic_off_label):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    @property
    def shows_lock(self) -> bool:
        """The seat is empty and locked (alone, or with the whole room)."""
        return self.seat is not None and self.seat.empty and (self.seat.locked or self.room_locked)

    @property
    def badge(self) -> str:
        """The badge shown on the avatar: "host", "cohost" or "" for none."""
        if self.badge_label.isHidden():
            return ""
        return "host" if self.badge_label.objectName() == "hostBadge" else "cohost"

    def set_view(self, seat: SeatView, room_locked: bool) -> None:
        """Show ``seat``; ``room_locked`` puts a lock on it too when it is empty."""
        if seat == self.seat and room_locked == self.room_locked:
            return
        self.seat, self.room_locked = seat, room_locked
        user = seat.user
        number = seat.index + 1
        self.avatar.setVisible(user is not None)
        if user is None:
            self.avatar.set_speaking_level(0.0)
            self.name_label.setObjectName("seatNameEmpty")
            self.name_label.setText(str(number))
            self.badge_label.hide()
            self.mic_off_label.hide()
            state = self.tr("locked") if self.shows_lock else self.tr("empty")
            description = self.tr("Seat {number}, {state}").format(number=number, state=state)
        else:
            name = user.name or user.id
            self.avatar.set_user(user.id, name)
            self.avatar.set_speaking_level(seat.speaking_level)
            self.name_label.setObjectName("seatName")
            self.name_label.setText(self._elided(name))
            self._show_badge(seat)
            self.mic_off_label.setVisible(not seat.microphone_on)
            if not seat.microphone_on:
                ratio = self.devicePixelRatioF()
                self.mic_off_label.setPixmap(pixmap("mic-off", "#ffffff", 13, ratio))
            description = self.tr("Seat {number}: {name}").format(number=number, name=name)
            if not seat.microphone_on:
                description = self.tr("{seat}, muted").format(seat=description)
        # A new object name takes effect only after re-polishing.
        self.name_label.style().unpolish(self.name_label)
        self.name_label.style().polish(self.name_label)
        set_plain_tool_tip(self, description)
        self.setAccessibleName(description)
        self.update()

    def _elided(self, name: str) -> str:
        self.name_label.ensurePolished()  # the style sheet's font, not the default one
        metrics = self.name_label.fontMetrics()
        return metrics.elidedText(name, Qt.TextElideMode.ElideRight, SEAT_WIDTH - 6)

    def _show_badge(self, seat: SeatView) -> None:
        if not (seat.is_host or seat.is_cohost):
            self.badge_label.hide()
            return
        self.badge_label.setObjectName("hostBadge" if seat.is_host else "cohostBadge")
        self.badge_label.setText(self.tr("Host") if seat.is_host else self.tr("Co-host"))
        self.badge_label.style().unpolish(self.badge_label)
        self.badge_label.style().polish(self.badge_label)
        self.badge_label.adjustSize()
        width = max(34, self.badge_label.sizeHint().width())
        self.badge_label.setFixedSize(width, 15)
        # Over the bottom edge of the disc, like a name tag pinned to the avatar.
        self.badge_label.move((SEAT_WIDTH - width) // 2, round(AVATAR_SIDE / 2 + DISC_RADIUS - 10))
        self.badge_label.show()
        self.badge_label.raise_()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(SEAT_WIDTH, SEAT_HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.underMouse() or self.hasFocus():
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(255, 255, 255, 16))
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 12, 12)
        if self.seat is None or not self.seat.empty:
            return
        center = QPointF(SEAT_WIDTH / 2, AVATAR_SIDE / 2)
        radius = DISC_RADIUS
        painter.setPen(QPen(QColor(*audio_room_style.EMPTY_SEAT_BORDER), 1.5))
        painter.setBrush(QColor(*audio_room_style.EMPTY_SEAT_FILL))
        painter.drawEllipse(center, radius, radius)
        glyph = 24
        name = "lock" if self.shows_lock else "seat"
        image = pixmap(name, call_style.ON_STAGE_MUTED, glyph, self.devicePixelRatioF())
        painter.drawPixmap(round(center.x() - glyph / 2), round(center.y() - glyph / 2), image)


def _row_layout(row: SeatRowConfig, seats: list[SeatWidget]) -> QHBoxLayout:
    """A row of ``seats`` spread as ``row.alignment`` says (CSS flexbox's meanings)."""
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(row.spacing)
    align = row.alignment
    # Stretch factors model the free space: "around" gives each seat equal space on both
    # sides (so the ends get half a gap), "evenly" makes every gap equal, ends included.
    edge = {SeatAlignment.SPACE_AROUND: 1, SeatAlignment.SPACE_EVENLY: 1}.get(align, 0)
    between = {
        SeatAlignment.SPACE_AROUND: 2,
        SeatAlignment.SPACE_EVENLY: 1,
        SeatAlignment.SPACE_BETWEEN: 1,
    }.get(align, 0)
    if align in (SeatAlignment.END, SeatAlignment.CENTER):
        layout.addStretch(1)
    elif edge:
        layout.addStretch(edge)
    for position, seat in enumerate(seats):
        if position and between:
            layout.addStretch(between)
        layout.addWidget(seat)
    if align in (SeatAlignment.START, SeatAlignment.CENTER):
        layout.addStretch(1)
    elif edge:
        layout.addStretch(edge)
    if align is SeatAlignment.SPACE_BETWEEN and len(seats) == 1:
        layout.addStretch(1)  # one seat "between" nothing sits at the start, as in CSS
    return layout


class SeatGrid(QWidget):
    """The seats in their rows; emits ``seat_clicked(index)``."""

    seat_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, row_spacing: int = 0) -> None:
        super().__init__(parent)
        self.row_spacing = row_spacing
        self.seats: list[SeatWidget] = []
        self._shape: tuple[tuple[int, SeatAlignment, int], ...] = ()
        self._body: QWidget | None = None
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(0, 0, 0, 0)

    @property
    def row_layouts(self) -> list[QHBoxLayout]:
        """The rows as laid out (for tests of the alignment)."""
        if self._body is None or (column := self._body.layout()) is None:
            return []
        items = (column.itemAt(i) for i in range(column.count()))
        rows = (item.layout() for item in items if item is not None)
        return [row for row in rows if isinstance(row, QHBoxLayout)]

    def seat(self, index: int) -> SeatWidget:
        """The seat widget at ``index``."""
        return self.seats[index]

    def set_view(self, view: AudioRoomView) -> None:
        """Show ``view``'s seats; the rows are rebuilt only when their shape changes."""
        rows = view.rows or (SeatRowConfig(count=max(1, len(view.seats))),)
        shape = tuple((row.count, row.alignment, row.spacing) for row in rows)
        if shape != self._shape or len(self.seats) != len(view.seats):
            self._build(rows, view)
            self._shape = shape
        for widget, seat in zip(self.seats, view.seats, strict=True):
            widget.set_view(seat, view.locked)

    def _build(self, rows: tuple[SeatRowConfig, ...], view: AudioRoomView) -> None:
        if self._body is not None:
            # Out of the layout and hidden now: deleteLater only acts on the next loop turn.
            self._outer.removeWidget(self._body)
            self._body.hide()
            self._body.deleteLater()
        self._body = QWidget(self)
        column = QVBoxLayout(self._body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(self.row_spacing)
        self.seats = []
        for row, seats in zip(rows, view.seat_rows(), strict=True):
            widgets = [SeatWidget(seat.index, self._body) for seat in seats]
            for widget in widgets:
                widget.clicked.connect(lambda _=False, i=widget.index: self.seat_clicked.emit(i))
            self.seats.extend(widgets)
            column.addLayout(_row_layout(row, widgets))
        self._outer.addWidget(self._body)
        # Shown now, not on the next loop turn (as a layout would): until then it counts
        # for nothing in the page's minimum size, and the window may be made too narrow.
        self._body.show()
