"""The audio room's member list: host, speakers, requesters, then everyone else.

Rows come sorted from :class:`~app.kit.views.audio_room.AudioRoomView`. Each row shows the
label of its role (You, Host, Co-host, Speaker); a pending application shows Agree and
Disagree to whoever holds host powers; every other member's row has a "more" button whose
menu (:func:`member_menu_actions`) offers "Invite to take seat" to hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.kit.views.audio_room import AudioRoomView, MemberRole, MemberView
from widgets import call_style
from widgets.avatar_view import AvatarView
from widgets.icons import pixmap
from widgets.plain_text import ElidedLabel, PlainLabel
from widgets.round_button import ButtonRole, RoundButton
from widgets.side_panel import SidePanel
from widgets.theme import Colors


class MemberAction(StrEnum):
    """An entry of a row's "more" menu."""

    INVITE = "invite"
    KICK = "kick"


def member_menu_actions(view: AudioRoomView, member: MemberView) -> tuple[MemberAction, ...]:
    """What the "more" menu of ``member``'s row offers the local user (may be empty):
    a host or co-host invites a listener to a seat, and removes anyone but the host from
    the room."""
    if not view.can_manage or member.is_local:
        return ()
    actions: list[MemberAction] = []
    if not member.seated:
        actions.append(MemberAction.INVITE)
    if member.role is not MemberRole.HOST:
        actions.append(MemberAction.KICK)
    return tuple(actions)


class AudioRoomMemberRow(QFrame):
    """One member; ``agree_button``/``disagree_button``/``more_button`` are ``None`` if absent.

    A click on the row (not on a button) emits ``clicked``.
    """

    clicked = Signal()

    def __init__(
        self,
        member: MemberView,
        can_manage: bool,
        colors: Colors,
        parent: QWidget | None = None,
        *,
        has_more: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("memberRow")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.user_id = member.user.id
        name = member.user.name or member.user.id
        avatar = AvatarView(self, ring=False)
        avatar.set_user(member.user.id, name)
        avatar.setFixedSize(36, 36)
        self.name_label = ElidedLabel(name, self)
        # A long name is cut, not allowed to widen the rows past the panel.
        self.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.role_label = PlainLabel(self.role_text(member.role), self)
        self.role_label.setObjectName("roleLabel")
        self.role_label.setVisible(bool(self.role_label.text()))
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name_label)
        text.addWidget(self.role_label)
        if member.requesting:
            request = PlainLabel(self.tr("Wants to speak"), self)
            request.setObjectName("requestLabel")
            text.addWidget(request)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 6, 4, 6)
        row.setSpacing(8)
        row.addWidget(avatar)
        row.addLayout(text, 1)
        self.mic_icon: QLabel | None = None
        if member.seated:
            self.mic_icon = PlainLabel(self)
            color = colors.muted if member.microphone_on else call_style.HANG_UP
            glyph = "mic" if member.microphone_on else "mic-off"
            self.mic_icon.setPixmap(pixmap(glyph, color, 18, self.devicePixelRatioF()))
            self.mic_icon.setToolTip(
                self.tr("Microphone on") if member.microphone_on else self.tr("Muted")
            )
            row.addWidget(self.mic_icon)
        self.agree_button: QPushButton | None = None
        self.disagree_button: QPushButton | None = None
        if member.requesting and can_manage:
            # Under the name: beside it they would squeeze the name out of a narrow panel.
            self.disagree_button = QPushButton(self.tr("Disagree"), self)
            self.disagree_button.setObjectName("disagree")
            self.agree_button = QPushButton(self.tr("Agree"), self)
            self.agree_button.setObjectName("agree")
            answers = QHBoxLayout()
            answers.setContentsMargins(0, 4, 0, 0)
            answers.setSpacing(6)
            for button in (self.disagree_button, self.agree_button):
                button.setCursor(Qt.CursorShape.PointingHandCursor)
                answers.addWidget(button)
            answers.addStretch(1)
            text.addLayout(answers)
        self.more_button: RoundButton | None = None
        if has_more and not member.is_local:
            self.more_button = RoundButton("more", role=ButtonRole.FLAT, diameter=28, parent=self)
            self.more_button.set_flat_color(colors.muted)
            self.more_button.setToolTip(self.tr("More"))
            self.more_button.setAccessibleName(self.tr("More"))
            row.addWidget(self.more_button)
        else:
            row.addSpacing(28)  # keeps the mic icons of all rows in one column

    def role_text(self, role: MemberRole) -> str:
        """The translated label of ``role``; the audience has none."""
        texts = {
            MemberRole.YOU: self.tr("You"),
            MemberRole.HOST: self.tr("Host"),
            MemberRole.COHOST: self.tr("Co-host"),
            MemberRole.SPEAKER: self.tr("Speaker"),
            MemberRole.AUDIENCE: "",
        }
        return texts[role]

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() is Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class AudioRoomMemberList(SidePanel):
    """The member panel of an audio room.

    Emits ``agree_requested``, ``disagree_requested``, ``invite_requested``,
    ``member_clicked`` and ``more_pressed``, each with a user id. ``more_pressed`` is
    emitted on every press; the default menu opens as well while
    :attr:`default_more_menu` is true (an integrator's ``on_more_button_pressed`` turns it
    off). ``menu_popper`` shows menus; tests replace it, since popups need a real display.
    """

    agree_requested = Signal(str)
    disagree_requested = Signal(str)
    invite_requested = Signal(str)
    kick_requested = Signal(str)
    """A user ID: remove that member from the room (the presenter asks first)."""
    member_clicked = Signal(str)
    more_pressed = Signal(str)

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__("", colors, parent)
        self.set_title(self.tr("Members"))
        self.rows: dict[str, AudioRoomMemberRow] = {}
        self._default_more_menu = True
        self.more_menu: QMenu | None = None
        self.menu_popper: Callable[[QMenu, QPoint], None] = _popup
        self._view: AudioRoomView | None = None
        self._key: tuple[object, ...] = ()
        self._content, self._rows_layout = self.add_row_list()

    @property
    def default_more_menu(self) -> bool:
        """Whether "more" opens the default menu; off, every other row has a "more" button
        that only emits ``more_pressed`` (for the integrator's hook)."""
        return self._default_more_menu

    @default_more_menu.setter
    def default_more_menu(self, enabled: bool) -> None:
        self._default_more_menu = enabled
        if self._view is not None:
            self.set_view(self._view)

    @property
    def order(self) -> list[str]:
        """User ids as listed, top to bottom."""
        return list(self.rows)

    def set_view(self, view: AudioRoomView) -> None:
        """List ``view.members`` in the view's order; unchanged lists are not rebuilt."""
        self._view = view
        # Levels and the duration change every second; this list shows neither.
        key = (view.can_manage, self.default_more_menu, *view.members)
        if key == self._key:
            return
        self._key = key
        for row in self.rows.values():
            row.hide()  # at once; deleteLater only acts on the next loop turn
            row.deleteLater()
        self.rows.clear()
        for position, member in enumerate(view.members):
            # A "more" button that opens nothing would be a dead end; with a hook it always
            # has a use.
            has_more = not self.default_more_menu or bool(member_menu_actions(view, member))
            row = AudioRoomMemberRow(
                member, view.can_manage, self.colors, self._content, has_more=has_more
            )
            user_id = member.user.id
            row.clicked.connect(lambda u=user_id: self.member_clicked.emit(u))
            if row.agree_button is not None and row.disagree_button is not None:
                row.agree_button.clicked.connect(
                    lambda _=False, u=user_id: self.agree_requested.emit(u)
                )
                row.disagree_button.clicked.connect(
                    lambda _=False, u=user_id: self.disagree_requested.emit(u)
                )
            if row.more_button is not None:
                row.more_button.clicked.connect(lambda _=False, u=user_id: self._on_more(u))
            self._rows_layout.insertWidget(position, row)
            self.rows[user_id] = row
        self.set_title(self.tr("Members ({count})").format(count=len(view.members)))

    def _on_more(self, user_id: str) -> None:
        self.more_pressed.emit(user_id)
        if not self.default_more_menu or self._view is None:
            return
        member = next((m for m in self._view.members if m.user.id == user_id), None)
        actions = member_menu_actions(self._view, member) if member is not None else ()
        if not actions:
            return
        menu = QMenu(self)
        menu.setObjectName("memberMenu")
        labels = {
            MemberAction.INVITE: self.tr("Invite to take seat"),
            MemberAction.KICK: self.tr("Remove from the room"),
        }
        intents = {
            MemberAction.INVITE: self.invite_requested,
            MemberAction.KICK: self.kick_requested,
        }
        for action in actions:
            entry = menu.addAction(labels[action])
            entry.setData(action.value)
            entry.triggered.connect(lambda _=False, u=user_id, s=intents[action]: s.emit(u))
        menu.addSeparator()
        menu.addAction(self.tr("Cancel"))
        if self.more_menu is not None:
            self.more_menu.deleteLater()
        self.more_menu = menu
        button = self.rows[user_id].more_button
        assert button is not None
        self.menu_popper(menu, button.mapToGlobal(button.rect().bottomLeft()))


def _popup(menu: QMenu, at: QPoint) -> None:
    menu.popup(at)
