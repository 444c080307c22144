"""Who is in the call: avatar, name ("(You)" for the local user), mic and camera state.

Remote members get a remove action when the local user may remove people; invitees who
have not joined are listed as "Waiting…".
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from app.kit.views.call import TileView
from widgets import call_style
from widgets.avatar_view import AvatarView
from widgets.icons import pixmap
from widgets.plain_text import ElidedLabel, PlainLabel
from widgets.round_button import ButtonRole, RoundButton
from widgets.side_panel import SidePanel
from widgets.theme import Colors

_ICON = 18


class MemberRow(QFrame):
    """One member; ``remove_button`` is ``None`` unless removing is allowed."""

    def __init__(
        self, tile: TileView, can_remove: bool, colors: Colors, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("memberRow")
        self.user_id = tile.user_id
        avatar = AvatarView(self, ring=False)
        avatar.set_user(tile.user_id, tile.display_name)
        avatar.set_dimmed(tile.waiting)
        avatar.setFixedSize(36, 36)
        name = tile.display_name
        if tile.is_local:
            name = self.tr("{name} (You)").format(name=name)
        self.name_label = ElidedLabel(name, self)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name_label)
        if tile.waiting:
            waiting = PlainLabel(self.tr("Waiting…"), self)
            waiting.setObjectName("panelMuted")
            text.addWidget(waiting)
        ratio = self.devicePixelRatioF()
        self.mic_icon = PlainLabel(self)
        mic_color = colors.muted if tile.microphone_on else call_style.HANG_UP
        self.mic_icon.setPixmap(
            pixmap("mic" if tile.microphone_on else "mic-off", mic_color, _ICON, ratio)
        )
        self.mic_icon.setToolTip(
            self.tr("Microphone on") if tile.microphone_on else self.tr("Muted")
        )
        self.camera_icon = PlainLabel(self)
        camera_color = colors.muted if tile.camera_on else call_style.HANG_UP
        camera_name = "camera" if tile.camera_on else "camera-off"
        self.camera_icon.setPixmap(pixmap(camera_name, camera_color, _ICON, ratio))
        self.camera_icon.setToolTip(
            self.tr("Camera on") if tile.camera_on else self.tr("Camera off")
        )
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 6, 6, 6)
        row.setSpacing(10)
        row.addWidget(avatar)
        row.addLayout(text, 1)
        row.addWidget(self.mic_icon)
        row.addWidget(self.camera_icon)
        self.remove_button: RoundButton | None = None
        if can_remove and not tile.is_local:
            self.remove_button = RoundButton(
                "close", role=ButtonRole.FLAT, diameter=28, parent=self
            )
            self.remove_button.set_flat_color(call_style.HANG_UP)
            tip = self.tr("Cancel the invitation") if tile.waiting else self.tr("Remove from call")
            self.remove_button.setToolTip(tip)
            self.remove_button.setAccessibleName(tip)
            row.addWidget(self.remove_button)


class MemberList(SidePanel):
    """The member panel. Emits ``remove_requested(user_id)`` and ``close_requested``."""

    remove_requested = Signal(str)

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__("", colors, parent)
        self.set_title(self.tr("Members"))
        self.rows: dict[str, MemberRow] = {}
        self._key: tuple[object, ...] = ()
        self._content, self._rows_layout = self.add_row_list()

    def set_view(self, tiles: Sequence[TileView], can_remove: bool = False) -> None:
        """List ``tiles`` (local first, as the call page orders them)."""
        # Levels change ten times a second and this list does not show them: skip those.
        key = (
            can_remove,
            *(
                (t.user_id, t.name, t.microphone_on, t.camera_on, t.waiting, t.is_local)
                for t in tiles
            ),
        )
        if key == self._key:
            return
        self._key = key
        for row in self.rows.values():
            row.deleteLater()
        self.rows.clear()
        ordered = sorted(tiles, key=lambda tile: not tile.is_local)
        for index, tile in enumerate(ordered):
            row = MemberRow(tile, can_remove, self.colors, self._content)
            if row.remove_button is not None:
                user_id = tile.user_id
                row.remove_button.clicked.connect(lambda _=False, u=user_id: self._remove(u))
            self._rows_layout.insertWidget(index, row)
            self.rows[tile.user_id] = row
        joined = sum(1 for tile in tiles if not tile.waiting)
        self.set_title(self.tr("Members ({count})").format(count=joined))

    def _remove(self, user_id: str) -> None:
        self.remove_requested.emit(user_id)
