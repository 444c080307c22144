"""One participant in the call: video or avatar, a name tag with the mic state, a status.

An invitee who has not joined yet shows a dimmed avatar, "Waiting…" and a cancel button.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QWidget

from app.kit.views.call import TileConnection, TileView
from widgets import call_style
from widgets.icons import pixmap
from widgets.plain_text import ElidedLabel, PlainLabel
from widgets.round_button import ButtonRole, RoundButton
from widgets.video_view import FitMode, VideoView

_BADGE = 14


class TileMode(StrEnum):
    """Where a tile sits, which decides its corners, margins and borders."""

    #: A cell of the gallery.
    GRID = "grid"
    #: A small cell of a crowded gallery.
    GRID_SMALL = "grid_small"
    #: Picture-in-picture's big view: the whole stage, square corners, no border.
    FULL = "full"
    #: Picture-in-picture's small view, floating over the big one.
    FLOATING = "floating"


class CallTile(QWidget):
    """A tile of the call page. Emits ``cancel_invite_requested(user_id)`` for invitees."""

    cancel_invite_requested = Signal(str)

    def __init__(self, user_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"tile_{user_id}")
        self.user_id = user_id
        self._view: TileView | None = None
        self.video = VideoView(self, fit_mode=FitMode.ADAPT)
        self.video.setObjectName("video")

        self.name_tag = QFrame(self)
        self.name_tag.setObjectName("nameTag")
        self.mic_badge = PlainLabel(self.name_tag)
        self.name_label = ElidedLabel(self.name_tag)
        tag_layout = QHBoxLayout(self.name_tag)
        tag_layout.setContentsMargins(7, 3, 9, 3)
        tag_layout.setSpacing(4)
        tag_layout.addWidget(self.mic_badge)
        tag_layout.addWidget(self.name_label)

        self.status_label = PlainLabel(self)
        self.status_label.setObjectName("tileStatus")
        self.status_label.hide()

        self.cancel_button = RoundButton("close", role=ButtonRole.DANGER, diameter=30, parent=self)
        self.cancel_button.setObjectName("cancel_invitation_button")
        self.cancel_button.setToolTip(self.tr("Cancel the invitation"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the invitation"))
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.cancel_button.hide()
        self._mode = TileMode.GRID

        # Everything shares one grid cell: the overlays float over the video by alignment.
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.video, 0, 0)
        bottom_left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
        top_left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        self._overlays = QGridLayout()
        self._overlays.setContentsMargins(10, 10, 10, 10)
        self._overlays.addWidget(self.status_label, 0, 0, top_left)
        top_right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
        self._overlays.addWidget(self.cancel_button, 0, 0, top_right)
        self._overlays.addWidget(self.name_tag, 0, 0, bottom_left)
        grid.addLayout(self._overlays, 0, 0)

    @property
    def view(self) -> TileView | None:
        """The state last rendered."""
        return self._view

    @property
    def mode(self) -> TileMode:
        """Where the tile sits."""
        return self._mode

    def set_mode(self, mode: TileMode) -> None:
        """Adapt corners, margins and borders to where the tile sits."""
        self._mode = mode
        small = mode in (TileMode.FLOATING, TileMode.GRID_SMALL)
        margin = 6 if small else 10
        self._overlays.setContentsMargins(margin, margin, margin, margin)
        inner = 4 if small else 8
        self.video.content_layout.setContentsMargins(inner, inner, inner, inner)
        radius = {TileMode.FULL: 0.0, TileMode.FLOATING: 10.0}.get(mode, 14.0)
        self.video.set_radius(radius)
        self.video.set_border(call_style.ON_STAGE_MUTED if mode is TileMode.FLOATING else None)
        self.video.avatar.set_max_radius(40 if small else 84)
        self._apply_highlight()

    def _apply_highlight(self) -> None:
        view = self._view
        speaking = view is not None and view.is_speaking and view.microphone_on and not view.waiting
        # The big view fills the page: a border round the whole window would read as an error.
        shown = speaking and self._mode is not TileMode.FULL
        self.video.set_highlight(call_style.SPEAKING if shown else None)

    @Slot(object)
    def set_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """Show a video frame, unless the camera is known to be off."""
        if self._view is None or self._view.shows_video:
            self.video.set_frame(frame)

    def set_view(self, view: TileView) -> None:
        """Show ``view``; a camera turned off drops the last frame at once."""
        self._view = view
        name = view.display_name
        if view.is_local:
            name = self.tr("{name} (You)").format(name=name)
        self.video.set_user(view.user_id, view.display_name)
        self.video.set_mirrored(view.is_local)
        # Someone's shared screen is shown whole: no edge of it (nor of its text) is cut.
        screen = view.sharing_screen and not view.is_local
        self.video.set_fit_mode(FitMode.FIT if screen else FitMode.ADAPT)
        self.name_label.setText(name)
        self.setAccessibleName(name)
        self.mic_badge.setVisible(not view.microphone_on)
        if not view.microphone_on:
            self.mic_badge.setPixmap(
                pixmap("mic-off", call_style.HANG_UP_HOVER, _BADGE, self.devicePixelRatioF())
            )
        if not view.shows_video:
            self.video.clear()
        self.video.avatar.set_dimmed(view.waiting)
        self.video.avatar.set_speaking_level(0.0 if view.waiting else view.speaking_level)
        self._apply_highlight()
        self.cancel_button.setVisible(view.waiting)
        status = self.tr("Waiting…") if view.waiting else self._status_text(view.connection)
        if not status and view.sharing_screen and view.is_local:
            # Said, not shown: a tile showing the screen it is on repeats itself endlessly.
            status = self.tr("Sharing your screen")
        self.status_label.setVisible(bool(status))
        self.status_label.setText(status)

    def _status_text(self, connection: TileConnection) -> str:
        texts = {
            TileConnection.CONNECTED: "",
            TileConnection.CONNECTING: self.tr("Connecting…"),
            TileConnection.RECONNECTING: self.tr("Reconnecting…"),
            TileConnection.FAILED: self.tr("Connection lost"),
        }
        return texts[connection]

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self.cancel_invite_requested.emit(self.user_id)
