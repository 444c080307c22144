"""The caller's page while a one-to-one invitation rings: whom, "Calling…", cancel, toggles.

A video call shows the local camera behind it (mirrored), so the caller can check how
they look before the other side answers.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.kit.views.call import OutgoingCallView, OutgoingState
from widgets.ringing_page import RingingPage
from widgets.round_button import ButtonRole, CaptionedButton, RoundButton
from widgets.theme import Colors

#: Keys that stop a call ringing out (the call page hangs up with the same ones).
CANCEL_KEYS = "Ctrl+Shift+H"


class OutgoingCallPage(RingingPage):
    """Emits ``cancel_requested``, ``minimize_requested`` and the three toggles."""

    cancel_requested = Signal()
    microphone_toggled = Signal(bool)
    speaker_toggled = Signal(bool)
    camera_toggled = Signal(bool)

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(colors, parent, preview_scrim=110, avatar_size=128)
        self.setObjectName("outgoing_page")
        self._view: OutgoingCallView | None = None
        #: The status line: "Calling…", "Declined", …
        self.state_label = self.status_label

        self.mic_button = RoundButton("mic", off_icon_name="mic-off", parent=self)
        self.mic_button.clicked.connect(self.microphone_toggled)
        self.speaker_button = RoundButton("speaker", off_icon_name="speaker-off", parent=self)
        self.speaker_button.clicked.connect(self.speaker_toggled)
        self.camera_button = RoundButton("camera", off_icon_name="camera-off", parent=self)
        self.camera_button.clicked.connect(self.camera_toggled)
        self.cancel_button = RoundButton(
            "hang-up", role=ButtonRole.DANGER, diameter=64, parent=self
        )
        self.cancel_button.setObjectName("cancel_button")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.add_shortcut(CANCEL_KEYS, self.cancel_requested.emit)
        self.cancel_button.setToolTip(self.tr("Cancel ({keys})").format(keys=CANCEL_KEYS))
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

        self.lay_out([buttons, cancel_row], bottom_margin=32, row_gap=18)

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
