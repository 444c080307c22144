"""What the two ringing pages share: the dark stage, the camera preview behind it, the
minimize button, the big avatar with a name and a status line, and their layout.

:class:`~widgets.outgoing_call_page.OutgoingCallPage` and
:class:`~widgets.incoming_call.IncomingCallPage` add their own buttons below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from widgets.avatar_view import AvatarView
from widgets.call_style import call_style_sheet
from widgets.plain_text import ElidedLabel, PlainLabel, id_hint
from widgets.round_button import RoundButton
from widgets.theme import Colors
from widgets.video_view import VideoView


class RingingPage(QFrame):
    """A ringing page's stage; subclasses call :meth:`lay_out` with their button rows."""

    minimize_requested = Signal()

    def __init__(
        self,
        colors: Colors,
        parent: QWidget | None = None,
        *,
        preview_scrim: int,
        avatar_size: int,
    ) -> None:
        super().__init__(parent)
        self.setProperty("kind", "stage")
        self.setStyleSheet(call_style_sheet(colors))
        self.preview = VideoView(self)
        self.preview.set_radius(0)
        self.preview.set_mirrored(True)
        self.preview.set_scrim(preview_scrim)
        self.preview.avatar.hide()
        self.preview.hide()
        self.minimize_button = RoundButton("minimize", diameter=40, parent=self)
        self.minimize_button.setToolTip(self.tr("Minimize"))
        self.minimize_button.setAccessibleName(self.tr("Minimize"))
        self.minimize_button.clicked.connect(self.minimize_requested)
        self.avatar = AvatarView(self, ring=False)
        self.avatar.set_outline("#c0ffffff")
        self.avatar.setFixedSize(avatar_size, avatar_size)
        self.name_label = ElidedLabel(self)
        self.name_label.setObjectName("stageHeadline")
        self.name_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        #: The user ID under the name, when the name is not the ID (names are not unique).
        self.id_label = ElidedLabel(self)
        self.id_label.setObjectName("stageText")
        self.id_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.id_label.hide()
        self.status_label = PlainLabel(self)
        self.status_label.setObjectName("stageText")
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def lay_out(self, rows: Sequence[QHBoxLayout], *, bottom_margin: int, row_gap: int) -> None:
        """Minimize at the top left, the avatar block in the middle, ``rows`` at the
        bottom (``row_gap`` apart), all over the full-page preview."""
        top = QHBoxLayout()
        top.addWidget(self.minimize_button)
        top.addStretch(1)
        column = QVBoxLayout()
        column.setContentsMargins(24, 20, 24, bottom_margin)
        column.setSpacing(10)
        column.addLayout(top)
        column.addStretch(2)
        column.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(8)
        column.addWidget(self.name_label)
        column.addWidget(self.id_label)
        column.addWidget(self.status_label)
        column.addStretch(3)
        for position, row in enumerate(rows):
            if position:
                column.addSpacing(row_gap)
            column.addLayout(row)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.preview, 0, 0)
        grid.addLayout(column, 0, 0)

    def show_person(self, user_id: str, name: str) -> None:
        """The avatar, the name and, when the name is not the ID, the ID under it."""
        self.avatar.set_user(user_id, name)
        self.name_label.setText(name or user_id)
        hint = id_hint(user_id, name)
        self.id_label.setText(hint)
        self.id_label.setVisible(bool(hint))

    def add_shortcut(self, keys: str, slot: Callable[[], object]) -> QShortcut:
        """``keys`` (e.g. ``"Ctrl+Shift+A"``) run ``slot`` while this page is shown in the
        active window (a shortcut on a hidden page does not fire)."""
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
        return shortcut

    @Slot(object)
    def set_preview_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """A frame of the local camera for the preview (video calls)."""
        self.preview.set_frame(frame)
