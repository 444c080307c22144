"""The recent-calls panel: past calls with their outcome, and a "Call back" button on each.

It renders :class:`~app.kit.views.history.CallEntry` values handed to :meth:`set_view` and
keeps no history of its own; pressing "Call back" emits :attr:`call_back_requested`,
"Clear" emits :attr:`clear_requested`. Rows are painted by a delegate in the manner of
the online-users list, so five hundred calls cost no widgets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QCoreApplication,
    QDateTime,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.kit.views.call import format_duration
from app.kit.views.history import Ago, CallDirection, CallEntry, CallOutcome, time_ago
from widgets.icons import pixmap
from widgets.plain_text import PlainLabel
from widgets.theme import Colors

__all__ = ["ENTRY_ROLE", "CallHistoryDelegate", "CallHistoryList", "CallHistoryModel"]

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1

_AnyIndex = QModelIndex | QPersistentModelIndex
_CONTEXT = "CallHistory"
# How often "5 min ago" is brought up to date.
_REFRESH_MS = 30_000


def _tr(text: str, n: int = -1) -> str:
    return QCoreApplication.translate(_CONTEXT, text, None, n)


def outcome_text(entry: CallEntry) -> str:
    """What happened, in a word or two: "Missed", "Outgoing", "No answer" …"""
    if entry.outcome is CallOutcome.ANSWERED:
        return _tr("Incoming") if entry.direction is CallDirection.INCOMING else _tr("Outgoing")
    texts = {
        CallOutcome.MISSED: _tr("Missed"),
        CallOutcome.DECLINED: _tr("Declined"),
        CallOutcome.BUSY: _tr("Busy"),
        CallOutcome.NO_ANSWER: _tr("No answer"),
        CallOutcome.CANCELLED: _tr("Cancelled"),
        CallOutcome.OFFLINE: _tr("Not online"),
    }
    return texts[entry.outcome]


def ago_text(started_at: float, now: float) -> str:
    """ "Just now", "5 min ago", "3 h ago", "Yesterday", "2 days ago", or from a week on
    the date ("13 Nov")."""
    unit, count = time_ago(started_at, now)
    if unit is Ago.NOW:
        return _tr("Just now")
    if unit is Ago.MINUTES:
        return _tr("%n min ago", count)
    if unit is Ago.HOURS:
        return _tr("%n h ago", count)
    if unit is Ago.DAYS:
        return _tr("Yesterday") if count == 1 else _tr("%n days ago", count)
    day = QDateTime.fromMSecsSinceEpoch(round(started_at * 1000)).date()
    this_year = QDateTime.fromMSecsSinceEpoch(round(now * 1000)).date().year()
    return QLocale().toString(day, "d MMM" if day.year() == this_year else "d MMM yyyy")


def peers_text(entry: CallEntry) -> str:
    names = [peer.name or peer.id for peer in entry.peers]
    return ", ".join(names) if names else _tr("Unknown")


def details_text(entry: CallEntry, *, kind: bool = True) -> str:
    """The second line: outcome, the kind unless ``kind`` is False (the icon says it too),
    and how long, when answered."""
    parts = [outcome_text(entry)]
    if kind:
        parts.append(_tr("Video") if entry.is_video else _tr("Voice"))
    if entry.in_progress:
        parts.append(_tr("in progress"))
    elif entry.interrupted:
        parts.append(_tr("length unknown"))
    elif entry.outcome is CallOutcome.ANSWERED:
        parts.append(format_duration(entry.duration_s))
    return " · ".join(parts)


class CallHistoryModel(QAbstractListModel):
    """The entries shown, newest first, as :meth:`CallHistoryList.set_view` gave them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[CallEntry] = []

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{peers_text(entry)} — {details_text(entry)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            moment = QDateTime.fromMSecsSinceEpoch(round(entry.started_at * 1000))
            when = QLocale().toString(moment, QLocale.FormatType.ShortFormat)
            ids = ", ".join(entry.user_ids)
            return f"{peers_text(entry)} ({ids})\n{details_text(entry)}\n{when}"
        if role == ENTRY_ROLE:
            return entry
        return None

    def entries(self) -> list[CallEntry]:
        return list(self._entries)

    def reset(self, entries: Sequence[CallEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()


class CallHistoryDelegate(QStyledItemDelegate):
    """Paints a call: direction badge, names, outcome and kind, when, and "Call back"."""

    call_back_clicked = Signal(QModelIndex)

    _PAD = 10
    _BADGE = 32
    _BUTTON_HEIGHT = 28
    _ICON = 14
    _COMPACT_BELOW = 420

    def __init__(
        self, colors: Colors, clock: Callable[[], float], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.colors = colors
        self._clock = clock
        self._hovered_button: int | None = None  # the row whose button the mouse is over

    # --- geometry -------------------------------------------------------------------

    def button_text(self) -> str:
        return _tr("Call back")

    def is_compact(self, row_rect: QRect) -> bool:
        """Narrow rows show an icon-only button and the time on the second line."""
        return row_rect.width() < self._COMPACT_BELOW

    def button_rect(self, row_rect: QRect, font: QFont) -> QRect:
        """Where a row's "Call back" button is, in the view's viewport coordinates."""
        if self.is_compact(row_rect):
            width = self._BUTTON_HEIGHT + 8
        else:
            text_width = QFontMetrics(font).horizontalAdvance(self.button_text())
            width = text_width + self._ICON + 6 + 2 * 12
        top = row_rect.top() + (row_rect.height() - self._BUTTON_HEIGHT) // 2
        left = row_rect.right() - self._PAD - width
        return QRect(left, top, width, self._BUTTON_HEIGHT)

    def sizeHint(self, option: QStyleOptionViewItem, index: _AnyIndex) -> QSize:  # noqa: N802
        line = QFontMetrics(option.font).height()
        return QSize(240, max(line * 2 + 4, self._BADGE) + self._PAD * 2)

    # --- painting -------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _AnyIndex) -> None:
        entry = index.data(ENTRY_ROLE)
        if not isinstance(entry, CallEntry):
            return
        widget: QWidget | None = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget
            )
        colors = self.colors
        rect: QRect = option.rect
        base: QFont = option.font
        line = QFontMetrics(base).height()
        missed = entry.is_missed
        compact = self.is_compact(rect)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)

        badge = QRect(
            rect.left() + self._PAD,
            rect.top() + (rect.height() - self._BADGE) // 2,
            self._BADGE,
            self._BADGE,
        )
        self._paint_badge(painter, badge, entry)
        button = self.button_rect(rect, base)
        self._paint_button(
            painter, button, base, entry, hovered=self._hovered_button == index.row(), bare=compact
        )

        ago = ago_text(entry.started_at, self._clock())
        details = details_text(entry, kind=not compact)
        text_left = badge.right() + 1 + self._PAD
        text_right = button.left() - self._PAD
        if compact:
            details = f"{details} · {ago}"
        else:
            small = QFont(base)
            small.setPointSizeF(base.pointSizeF() * 0.9)
            ago_width = QFontMetrics(small).horizontalAdvance(ago)
            ago_rect = QRect(text_right - ago_width, rect.top(), ago_width, rect.height())
            painter.setFont(small)
            painter.setPen(QColor(colors.muted))
            painter.drawText(ago_rect, Qt.AlignmentFlag.AlignVCenter, ago)
            text_right = ago_rect.left() - self._PAD
        top = rect.top() + (rect.height() - 2 * line - 4) // 2

        name_font = QFont(base)
        name_font.setWeight(QFont.Weight.DemiBold if entry.seen else QFont.Weight.Bold)
        name_rect = QRect(text_left, top, max(0, text_right - text_left), line)
        self._draw_line(
            painter,
            name_rect,
            peers_text(entry),
            name_font,
            colors.danger if missed else colors.text,
        )

        detail_top = top + line + 4
        detail_color = colors.danger if missed else colors.muted
        icon_name = "camera" if entry.is_video else "accept-call"
        icon_top = detail_top + (line - self._ICON) // 2
        painter.drawPixmap(text_left, icon_top, pixmap(icon_name, detail_color, self._ICON))
        detail_left = text_left + self._ICON + 6
        detail_rect = QRect(detail_left, detail_top, max(0, text_right - detail_left), line)
        self._draw_line(painter, detail_rect, details, base, detail_color)
        painter.restore()

    @staticmethod
    def _draw_line(painter: QPainter, rect: QRect, text: str, font: QFont, color: str) -> None:
        painter.setFont(font)
        painter.setPen(QColor(color))
        elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter, elided)

    def _paint_badge(self, painter: QPainter, badge: QRect, entry: CallEntry) -> None:
        colors = self.colors
        missed = entry.is_missed
        answered = entry.outcome is CallOutcome.ANSWERED
        fill = QColor(colors.danger if missed else colors.surface_alt)
        if missed:
            fill.setAlpha(40)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawEllipse(badge)
        color = QColor(colors.danger if missed else colors.accent if answered else colors.muted)
        pen = QPen(color, 2.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        center = QPointF(badge.center()) + QPointF(0.5, 0.5)
        reach = badge.width() * 0.2
        # Outgoing points up and away (↗), incoming comes down and in (↙).
        sign = 1.0 if entry.direction is CallDirection.OUTGOING else -1.0
        tail = center + QPointF(-reach * sign, reach * sign)
        head = center + QPointF(reach * sign, -reach * sign)
        painter.drawLine(tail, head)
        wing = reach * 1.1
        painter.drawLine(head, head + QPointF(-wing * sign, 0))
        painter.drawLine(head, head + QPointF(0, wing * sign))
        if missed and not entry.seen:
            dot = 9
            painter.setPen(QPen(QColor(colors.surface), 2.0))
            painter.setBrush(QColor(colors.danger))
            painter.drawEllipse(badge.right() - dot + 2, badge.top() - 1, dot, dot)

    def _paint_button(
        self,
        painter: QPainter,
        button: QRect,
        font: QFont,
        entry: CallEntry,
        *,
        hovered: bool,
        bare: bool,
    ) -> None:
        """The "Call back" button; ``bare`` shows its icon alone (narrow rows)."""
        colors = self.colors
        painter.setPen(QPen(QColor(colors.accent if hovered else colors.border), 1.0))
        painter.setBrush(QColor(colors.surface_alt))
        painter.drawRoundedRect(button.adjusted(0, 0, -1, -1), 8, 8)
        icon_name = "camera" if entry.is_video else "accept-call"
        icon_left = (
            button.left() + (button.width() - self._ICON) // 2 if bare else button.left() + 12
        )
        icon_top = button.top() + (button.height() - self._ICON) // 2
        painter.drawPixmap(icon_left, icon_top, pixmap(icon_name, colors.accent, self._ICON))
        if not bare:
            painter.setFont(font)
            painter.setPen(QColor(colors.text))
            text_left = icon_left + self._ICON + 6
            text_rect = QRect(text_left, button.top(), button.right() - text_left, button.height())
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, self.button_text())

    # --- the button -----------------------------------------------------------------

    def editorEvent(  # noqa: N802
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: _AnyIndex,
    ) -> bool:
        if isinstance(event, QMouseEvent):
            on_button = self.button_rect(option.rect, option.font).contains(
                event.position().toPoint()
            )
            if event.type() == QEvent.Type.MouseMove:
                self.set_hovered_row(index.row() if on_button else None, option.widget)
            elif (
                event.type() == QEvent.Type.MouseButtonRelease
                and event.button() == Qt.MouseButton.LeftButton
                and on_button
            ):
                self.call_back_clicked.emit(index.model().index(index.row(), 0))
                return True
        return super().editorEvent(event, model, option, index)

    def set_hovered_row(self, row: int | None, view: QWidget | None) -> None:
        if row != self._hovered_button:
            self._hovered_button = row
            if view is not None:
                view.update()


class CallHistoryList(QFrame):
    """Recent calls on a card: rows with "Call back", a "Clear" button, an empty state."""

    call_back_requested = Signal(list, bool)
    """``(user_ids, is_video)``: call these people again, the same kind of call."""
    clear_requested = Signal()
    """The "Clear" button was pressed: forget the calls shown."""
    looked_at = Signal()
    """The user clicked or focused the list: the missed calls in it are no longer new."""

    def __init__(
        self,
        colors: Colors,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("recent_calls")
        self.setProperty("kind", "card")
        self.colors = colors
        self._clock = clock

        self.title_label = PlainLabel(self.tr("RECENT CALLS"), self)
        self.title_label.setObjectName("section")
        self.missed_label = PlainLabel(self)
        self.missed_label.setStyleSheet(
            f"color: {colors.danger}; font-weight: 600; font-size: 9.5pt;"
        )
        self.missed_label.hide()
        self.clear_button = QPushButton(self.tr("Clear"), self)
        self.clear_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clear_button.setToolTip(self.tr("Forget every call listed here"))
        keep_place = self.clear_button.sizePolicy()
        keep_place.setRetainSizeWhenHidden(True)  # the header must not jump on the first call
        self.clear_button.setSizePolicy(keep_place)
        header = QHBoxLayout()
        header.setSpacing(8)
        header.addWidget(self.title_label)
        header.addWidget(self.missed_label)
        header.addStretch(1)
        header.addWidget(self.clear_button)

        self.model = CallHistoryModel(self)
        self.delegate = CallHistoryDelegate(colors, clock, self)
        self.list_view = QListView(self)
        self.list_view.setObjectName("callHistory")
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(self.delegate)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setMouseTracking(True)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_view.setAccessibleName(self.tr("Recent calls"))
        # The card is the frame: the list inside it draws none of its own.
        self.list_view.setStyleSheet(
            "QListView#callHistory { border: none; background: transparent; padding: 0; }"
        )
        self.list_view.viewport().installEventFilter(self)
        self.list_view.installEventFilter(self)

        self.empty_label = PlainLabel(self.tr("No calls yet"), self)
        empty_font = QFont(self.empty_label.font())
        empty_font.setWeight(QFont.Weight.DemiBold)
        self.empty_label.setFont(empty_font)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint = PlainLabel(
            self.tr("Calls you make or receive will be listed here."), self
        )
        self.empty_hint.setObjectName("hint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        # Not a QStackedWidget: the theme paints those in the window colour, not the card's.
        self.empty_state = QWidget(self)
        empty_layout = QVBoxLayout(self.empty_state)
        empty_layout.setContentsMargins(0, 16, 0, 16)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.empty_hint)
        empty_layout.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 10)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self.empty_state, 1)
        layout.addWidget(self.list_view, 1)

        self._refresh = QTimer(self)
        self._refresh.setInterval(_REFRESH_MS)
        self._refresh.timeout.connect(self.list_view.viewport().update)
        self._refresh.start()

        self.clear_button.clicked.connect(self.clear_requested)
        self.delegate.call_back_clicked.connect(self.on_delegate_call_back_clicked)
        self.list_view.activated.connect(self.on_delegate_call_back_clicked)
        self.set_view(())

    @property
    def is_empty(self) -> bool:
        """Whether the empty state ("No calls yet") is shown."""
        return self.list_view.isHidden()

    def set_view(self, entries: Sequence[CallEntry], unseen_missed: int = 0) -> None:
        """Show ``entries`` (newest first) and how many missed calls are new."""
        self.model.reset(entries)
        self.list_view.setVisible(bool(entries))
        self.empty_state.setVisible(not entries)
        self.clear_button.setVisible(bool(entries))
        self.missed_label.setVisible(unseen_missed > 0)
        self.missed_label.setText(self.tr("%n NEW MISSED", None, unseen_missed))

    def button_center(self, row: int) -> QPoint:
        """The middle of row ``row``'s "Call back" button, in the list's viewport."""
        rect = self.list_view.visualRect(self.model.index(row))
        return self.delegate.button_rect(rect, self.list_view.font()).center()

    @Slot(QModelIndex)
    def on_delegate_call_back_clicked(self, index: QModelIndex) -> None:
        entry = index.data(ENTRY_ROLE)
        if isinstance(entry, CallEntry) and entry.user_ids:
            self.call_back_requested.emit(entry.user_ids, entry.is_video)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # While this widget is destroyed, Qt still sends its children's last events here
        # (focus out, leave) after Python has let go of the attributes.
        list_view: QListView | None = self.__dict__.get("list_view")
        if list_view is None:
            return False
        viewport = list_view.viewport()
        kind = event.type()
        if watched is viewport and kind == QEvent.Type.Leave:
            self.delegate.set_hovered_row(None, viewport)
        elif (watched is viewport and kind == QEvent.Type.MouseButtonPress) or (
            watched is list_view and kind == QEvent.Type.FocusIn
        ):
            self.looked_at.emit()
        return super().eventFilter(watched, event)
