"""Join or start a live audio room: a room ID and a role (host or audience).

The home page (or a menu) opens it; the answer is a room ID checked against the
protocol's ID rules and the :class:`~app.AudioRoomConfig` preset of the chosen role.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.kit.config.audio_room import AudioRoomConfig
from app.kit.identity import ALLOWED_ID_CHARACTERS, IdentityProblem, validate_user_id
from app.kit.types import MAX_USER_ID_LENGTH, AudioRoomRole
from widgets.call_style import call_style_sheet
from widgets.plain_text import PlainLabel
from widgets.theme import Colors


class JoinRoomDialog(QDialog):
    """Asks for a room ID and a role; emits ``join_requested(room_id, role)`` on Join."""

    join_requested = Signal(str, AudioRoomRole)

    def __init__(self, colors: Colors, parent: QWidget | None = None, room_id: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("join_room_dialog")
        self.setProperty("kind", "page")
        self.setStyleSheet(call_style_sheet(colors))
        self.setWindowTitle(self.tr("Audio room"))
        self.setModal(True)
        title = PlainLabel(self.tr("Join an audio room"), self)
        title.setObjectName("panelTitle")
        hint = PlainLabel(
            self.tr("Hosts start the room and manage the seats; the audience listens."), self
        )
        hint.setObjectName("panelMuted")
        hint.setWordWrap(True)
        field = PlainLabel(self.tr("Room ID"), self)
        field.setObjectName("field")
        self.room_id_edit = QLineEdit(room_id, self)
        self.room_id_edit.setPlaceholderText(self.tr("e.g. friday-talks"))
        self.room_id_edit.setMaxLength(MAX_USER_ID_LENGTH)  # room IDs follow the user-ID rules
        self.room_id_edit.setToolTip(
            self.tr("1–64 characters: {chars}").format(chars=ALLOWED_ID_CHARACTERS)
        )
        field.setBuddy(self.room_id_edit)
        self.host_radio = QRadioButton(self.tr("Host"), self)
        self.audience_radio = QRadioButton(self.tr("Audience"), self)
        self.audience_radio.setChecked(True)
        self._roles = QButtonGroup(self)
        self._roles.addButton(self.host_radio)
        self._roles.addButton(self.audience_radio)
        self.error_label = PlainLabel(self)
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.clicked.connect(self.reject)
        self.join_button = QPushButton(self.tr("Join"), self)
        self.join_button.setObjectName("join_button")
        self.join_button.setProperty("kind", "primary")
        self.join_button.setDefault(True)
        self.join_button.clicked.connect(self._on_join_button_clicked)
        self.room_id_edit.textChanged.connect(self._on_room_id_edit_text_changed)

        roles = QHBoxLayout()
        roles.setSpacing(18)
        roles.addWidget(self.audience_radio)
        roles.addWidget(self.host_radio)
        roles.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.join_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 20, 24, 18)
        column.setSpacing(8)
        column.addWidget(title)
        column.addWidget(hint)
        column.addSpacing(6)
        column.addWidget(field)
        column.addWidget(self.room_id_edit)
        column.addLayout(roles)
        column.addWidget(self.error_label)
        column.addSpacing(6)
        column.addLayout(buttons)
        self.setMinimumWidth(380)
        self.room_id_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        # Size the window before it is created, so showing it does not resize it again.
        column.activate()

    @property
    def room_id(self) -> str:
        """The room ID as typed, without surrounding spaces."""
        return self.room_id_edit.text().strip()

    @property
    def role(self) -> AudioRoomRole:
        """The chosen role."""
        return AudioRoomRole.HOST if self.host_radio.isChecked() else AudioRoomRole.AUDIENCE

    def config(self) -> AudioRoomConfig:
        """The preset of the chosen role: ``AudioRoomConfig.host()`` or ``.audience()``."""
        if self.role is AudioRoomRole.HOST:
            return AudioRoomConfig.host()
        return AudioRoomConfig.audience()

    def problem_text(self, problem: IdentityProblem) -> str:
        """Why the room ID cannot be used, for people."""
        texts = {
            IdentityProblem.ID_EMPTY: self.tr("Type a room ID first."),
            IdentityProblem.ID_TOO_LONG: self.tr("A room ID has at most 64 characters."),
            IdentityProblem.ID_BAD_CHARACTERS: self.tr("A room ID may use only {chars}.").format(
                chars=ALLOWED_ID_CHARACTERS
            ),
        }
        return texts.get(problem, self.tr("This room ID cannot be used."))

    @Slot()
    def _on_join_button_clicked(self) -> None:
        problem = validate_user_id(self.room_id)
        if problem is not None:
            self.error_label.setText(self.problem_text(problem))
            self.error_label.show()
            self.room_id_edit.setProperty("invalid", True)
            self.room_id_edit.style().polish(self.room_id_edit)
            self.room_id_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.join_requested.emit(self.room_id, self.role)
        self.accept()

    @Slot(str)
    def _on_room_id_edit_text_changed(self, _text: str) -> None:
        if self.error_label.isVisible() or self.room_id_edit.property("invalid"):
            self.error_label.hide()
            self.room_id_edit.setProperty("invalid", False)
            self.room_id_edit.style().polish(self.room_id_edit)

    @classmethod
    def ask(
        cls, colors: Colors, parent: QWidget | None = None, room_id: str = ""
    ) -> tuple[str, AudioRoomRole] | None:
        """Show the dialog modally; ``(room_id, role)`` on Join, ``None`` on Cancel."""
        dialog = cls(colors, parent, room_id)
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted:
                return dialog.room_id, dialog.role
            return None
        finally:
            dialog.deleteLater()
