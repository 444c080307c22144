"""The caller's page while a one-to-one invitation rings: whom, "Calling…", cancel, toggles.

A video call shows the local camera behind it (mirrored), so the caller can check how
they look before the other side answers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.call_view import OutgoingCallView, OutgoingState
from widgets.avatar_view import AvatarView
from widgets.call_style import call_style_sheet
from widgets.round_button import ButtonRole, CaptionedButton, RoundButton
from widgets.theme import Colors
from widgets.video_view import VideoView


class OutgoingCallPage(QFrame):
    """Emits ``cancel_requested``, ``minimize_requested`` and the three toggles."""

    cancel_requested = Signal()
    minimize_requested = Signal()
    microphone_toggled = Signal(bool)
    speaker_toggled = Signal(bool)
    camera_toggled = Signal(bool)

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callStage")
        self.setStyleSheet(call_style_sheet(colors))
        self._view: OutgoingCallView | None = None

        self.preview = VideoView(self)
        self.preview.set_radius(0)
        self.preview.set_mirrored(True)
        self.preview.set_scrim(110)
        self.preview.avatar.hide()
        self.preview.hide()

        self.minimize_button = RoundButton("minimize", diameter=40, parent=self)
        self.minimize_button.setToolTip(self.tr("Minimize"))
        self.minimize_button.setAccessibleName(self.tr("Minimize"))
        self.minimize_button.clicked.connect(self.minimize_requested)

        self.avatar = AvatarView(self, ring=False)
        self.avatar.set_outline("#c0ffffff")
        self.avatar.setFixedSize(128, 128)
        self.name_label = QLabel(self)
        self.name_label.setObjectName("stageHeadline")
        self.name_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name_label.setWordWrap(True)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("stageText")
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.mic_button = RoundButton("mic", off_icon_name="mic-off", parent=self)
        self.mic_button.clicked.connect(self.microphone_toggled)
        self.speaker_button = RoundButton("speaker", off_icon_name="speaker-off", parent=self)
        self.speaker_button.clicked.connect(self.speaker_toggled)
        self.camera_button = RoundButton("camera", off_icon_name="camera-off", parent=self)
        self.camera_button.clicked.connect(self.camera_toggled)
        self.cancel_button = RoundButton(
            "hang-up", role=ButtonRole.DANGER, diameter=64, parent=self
        )
        self.cancel_button.clicked.connect(self.cancel_requested)
        self._camera_item = CaptionedButton(self.camera_button, self.tr("Camera"), self)

        buttons = QHBoxLayout()
        buttons.setSpacing(28)
        buttons.addStretch(1)
        buttons.addWidget(CaptionedButton(self.mic_button, self.tr("Microphone"), self))
        buttons.addWidget(CaptionedButton(self.speaker_button, self.tr("Speaker"), self))
        buttons.addWidget(self._camera_item)
        buttons.addStretch(1)
        cancel_row = QHBoxLayout()
        cancel_row.addStretch(1)
        cancel_row.addWidget(CaptionedButton(self.cancel_button, self.tr("Cancel"), self))
        cancel_row.addStretch(1)

        top = QHBoxLayout()
        top.addWidget(self.minimize_button)
        top.addStretch(1)
        column = QVBoxLayout()
        column.setContentsMargins(24, 20, 24, 32)
        column.setSpacing(10)
        column.addLayout(top)
        column.addStretch(2)
        column.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(8)
        column.addWidget(self.name_label)
        column.addWidget(self.state_label)
        column.addStretch(3)
        column.addLayout(buttons)
        column.addSpacing(18)
        column.addLayout(cancel_row)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.preview, 0, 0)
        grid.addLayout(column, 0, 0)

    @property
    def view(self) -> OutgoingCallView | None:
        """The state last rendered."""
        return self._view

    def state_text(self, state: OutgoingState) -> str:
        """What the page says for ``state``."""
        texts = {
            OutgoingState.CALLING: self.tr("Calling…"),
            OutgoingState.RINGING: self.tr("Ringing…"),
            OutgoingState.DECLINED: self.tr("Declined"),
            OutgoingState.BUSY: self.tr("Busy"),
            OutgoingState.NO_ANSWER: self.tr("No answer"),
            OutgoingState.FAILED: self.tr("Call failed"),
        }
        return texts[state]

    def set_view(self, view: OutgoingCallView) -> None:
        """Show ``view``."""
        self._view = view
        first = view.callees[0]
        self.avatar.set_user(first.id, first.name)
        names = ", ".join(callee.name or callee.id for callee in view.callees)
        self.name_label.setText(names)
        self.state_label.setText(self.state_text(view.state))
        for button, on in (
            (self.mic_button, view.microphone_on),
            (self.speaker_button, view.speaker_on),
            (self.camera_button, view.camera_on),
        ):
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
            button.update()
        self._camera_item.setVisible(view.is_video)
        self.preview.setVisible(view.is_video and view.camera_on)
        active = view.state in (OutgoingState.CALLING, OutgoingState.RINGING)
        self.cancel_button.setEnabled(active)

    @Slot(object)
    def set_preview_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """A frame of the local camera for the preview."""
        self.preview.set_frame(frame)
