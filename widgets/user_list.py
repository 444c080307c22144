"""The online-users list: a model fed by the session bridge and a delegate that paints it."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app import PresenceState
from app.kit.account import OnlineUser
from widgets.theme import Colors

USER_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_TEXT_ROLE = Qt.ItemDataRole.UserRole + 2

_AnyIndex = QModelIndex | QPersistentModelIndex


def presence_text(state: PresenceState) -> str:
    """The translated name of a presence state."""
    texts = {
        PresenceState.IDLE: QCoreApplication.translate("Presence", "Available"),
        PresenceState.RINGING: QCoreApplication.translate("Presence", "Ringing"),
        PresenceState.INVITING: QCoreApplication.translate("Presence", "Calling someone"),
        PresenceState.IN_CALL: QCoreApplication.translate("Presence", "In a call"),
    }
    return texts[state]


def _order(user: OnlineUser) -> tuple[bool, str, str]:
    return (not user.is_self, user.name.casefold(), user.user_id)


class UserListModel(QAbstractListModel):
    """Online users, yourself first; updates only the rows a change concerns."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._users: list[OnlineUser] = []

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._users)

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._users):
            return None
        user = self._users[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if user.is_self:
                you = QCoreApplication.translate("UserList", "(You)")
                return f"{user.name} {you}"
            return user.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{user.user_id} — {presence_text(user.state)}"
        if role == USER_ROLE:
            return user
        if role == STATE_TEXT_ROLE:
            return presence_text(user.state)
        return None

    def users(self) -> list[OnlineUser]:
        """The users shown, in display order."""
        return list(self._users)

    def reset(self, users: tuple[OnlineUser, ...]) -> None:
        """Show exactly ``users``."""
        self.beginResetModel()
        self._users = sorted(users, key=_order)
        self.endResetModel()

    def clear(self) -> None:
        """Show nobody (signed out)."""
        self.reset(())

    def update_user(self, user: OnlineUser, online: bool) -> None:
        """Add, change or remove one user."""
        row = next((i for i, u in enumerate(self._users) if u.user_id == user.user_id), None)
        if row is not None and online and _order(self._users[row]) == _order(user):
            self._users[row] = user
            index = self.index(row)
            self.dataChanged.emit(index, index)
            return
        if row is not None:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._users[row]
            self.endRemoveRows()
        if online:
            at = sum(1 for u in self._users if _order(u) < _order(user))
            self.beginInsertRows(QModelIndex(), at, at)
            self._users.insert(at, user)
            self.endInsertRows()


class UserDelegate(QStyledItemDelegate):
    """Paints a user as a coloured presence dot, the name, the user ID and the state."""

    _PAD = 10
    _DOT = 10

    def __init__(self, colors: Colors, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.colors = colors

    def sizeHint(self, option: QStyleOptionViewItem, index: _AnyIndex) -> QSize:  # noqa: N802
        metrics = QFontMetrics(option.font)
        # Narrow: the list gives each row its own width, and the names are shortened.
        return QSize(120, metrics.height() * 2 + self._PAD * 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _AnyIndex) -> None:
        user = index.data(USER_ROLE)
        if not isinstance(user, OnlineUser):
            return
        widget: QWidget | None = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            # The selection and hover background, as the style sheet says.
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget
            )
        rect: QRect = option.rect
        base_font: QFont = option.font
        metrics = QFontMetrics(base_font)
        line = metrics.height()
        top = rect.top() + (rect.height() - 2 * line) // 2
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        dot = QColor(self.colors.presence[user.state])
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(dot)
        dot_y = top + (line - self._DOT) // 2
        painter.drawEllipse(rect.left() + self._PAD, dot_y, self._DOT, self._DOT)
        text_left = rect.left() + self._PAD * 2 + self._DOT
        state = presence_text(user.state)
        state_font = QFont(base_font)
        state_font.setPointSizeF(base_font.pointSizeF() * 0.92)
        state_width = QFontMetrics(state_font).horizontalAdvance(state) + self._PAD
        name_rect = QRect(text_left, top, rect.right() - text_left - state_width, line)
        name_font = QFont(base_font)
        name_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(name_font)
        painter.setPen(QColor(self.colors.text))
        name = str(index.data(Qt.ItemDataRole.DisplayRole))
        elided = QFontMetrics(name_font).elidedText(
            name, Qt.TextElideMode.ElideRight, name_rect.width()
        )
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter, elided)
        painter.setFont(base_font)
        painter.setPen(QColor(self.colors.muted))
        id_rect = QRect(text_left, top + line, name_rect.width(), line)
        painter.drawText(
            id_rect,
            Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(user.user_id, Qt.TextElideMode.ElideMiddle, id_rect.width()),
        )
        painter.setFont(state_font)
        painter.setPen(dot)
        state_rect = QRect(rect.right() - state_width, top, state_width - self._PAD // 2, line)
        painter.drawText(
            state_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, state
        )
        painter.restore()
