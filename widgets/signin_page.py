"""The sign-in page: user ID and display name, checked here, remembered across runs.

It is Parley's first page, shown while the server is still being opened: signing in
then waits for it (the button says so), and a server that cannot be opened is shown
here. It emits :attr:`SignInPage.sign_in_requested` with input that follows the rules.
The input rules (``app.kit.identity``) come with the wire protocol (pydantic, ~0.2 s to
import), so they are imported when first needed, after the page is on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.kit.account import SignInProblem
from app.kit.local_server import ServerPhase, ServerStatus
from widgets.plain_text import PlainLabel

if TYPE_CHECKING:
    from app.kit.identity import IdentityProblem

SETTINGS_USER_ID = "signin/user_id"
SETTINGS_NAME = "signin/name"


class SignInPage(QWidget):
    """Asks who you are; sends nothing until the input follows the protocol's rules."""

    sign_in_requested = Signal(str, str)
    """``(user_id, name)``, checked: sign in (waiting for the server if need be)."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signin_page")
        self.setProperty("kind", "page")
        self._settings = settings
        self._server = ServerStatus(ServerPhase.STARTING)

        card = QFrame(self)
        card.setObjectName("card")
        card.setFixedWidth(460)
        title = PlainLabel(self.tr("Welcome to Parley"), card)
        title.setObjectName("title")
        subtitle = PlainLabel(
            self.tr("Sign in with a user ID. Others call you by it; your name is what they see."),
            card,
        )
        subtitle.setObjectName("subtitle")
        subtitle.setWordWrap(True)

        self.user_id_edit = QLineEdit(card)
        self.user_id_edit.setObjectName("user_id_edit")
        self.user_id_edit.setAccessibleName(self.tr("User ID"))
        self.user_id_edit.setPlaceholderText(self.tr("e.g. alice"))
        self.user_id_edit.setMaxLength(64)
        self.name_edit = QLineEdit(card)
        self.name_edit.setObjectName("name_edit")
        self.name_edit.setAccessibleName(self.tr("Display name"))
        self.name_edit.setPlaceholderText(self.tr("e.g. Alice Martin"))
        self.name_edit.setMaxLength(64)
        self.error_label = PlainLabel(card)
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.sign_in_button = QPushButton(self.tr("Sign in"), card)
        self.sign_in_button.setObjectName("sign_in_button")
        self.sign_in_button.setProperty("kind", "primary")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setCursor(Qt.CursorShape.PointingHandCursor)

        form = QVBoxLayout()
        form.setSpacing(4)
        for text, field in (
            (self.tr("User ID"), self.user_id_edit),
            (self.tr("Display name"), self.name_edit),
        ):
            label = PlainLabel(text, card)
            label.setObjectName("field")
            label.setBuddy(field)
            form.addWidget(label)
            form.addWidget(field)
            form.addSpacing(8)

        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 28, 28, 28)
        inner.setSpacing(14)
        inner.addWidget(title)
        inner.addWidget(subtitle)
        inner.addLayout(form)
        inner.addWidget(self.error_label)
        inner.addWidget(self.sign_in_button)

        # Centred by stretches, not by an alignment flag: an aligned widget gets only its
        # size hint, which ignores how tall the wrapped labels are at the card's width.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        self.user_id_edit.setText(str(settings.value(SETTINGS_USER_ID, "") or ""))
        self.name_edit.setText(str(settings.value(SETTINGS_NAME, "") or ""))
        self.sign_in_button.clicked.connect(self.on_sign_in_button_clicked)
        self.user_id_edit.returnPressed.connect(self.on_sign_in_button_clicked)
        self.name_edit.returnPressed.connect(self.on_sign_in_button_clicked)
        self.user_id_edit.textEdited.connect(self.on_user_id_edit_text_edited)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """The user ID field takes the focus with its text selected: someone else at the
        same computer types their ID over the remembered one instead of after it."""
        super().showEvent(event)
        self.user_id_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.user_id_edit.selectAll()

    @Slot()
    def on_sign_in_button_clicked(self) -> None:
        """Check the input; if it is valid, remember it and ask to sign in (which waits
        for the server if it is still starting)."""
        if not self.sign_in_button.isEnabled():
            return
        from app.kit.identity import validate_name, validate_user_id

        user_id = self.user_id_edit.text().strip()
        name = self.name_edit.text().strip()
        problem = validate_user_id(user_id) or validate_name(name)
        if problem is not None:
            self._show_error(self._problem_text(problem))
            self._mark_invalid(True)
            self.user_id_edit.setFocus()
            return
        self._settings.setValue(SETTINGS_USER_ID, user_id)
        self._settings.setValue(SETTINGS_NAME, name)
        self._settings.sync()
        self.error_label.hide()
        self.sign_in_button.setEnabled(False)
        self._show_progress()
        self.sign_in_requested.emit(user_id, name)

    @Slot(ServerStatus)
    def set_server_status(self, status: ServerStatus) -> None:
        """Opening the server began, ended or failed."""
        self._server = status
        if status.phase is ServerPhase.READY:
            # The rules' module is loaded by now (opening the server brought the protocol).
            from app.kit.identity import ALLOWED_ID_CHARACTERS

            self.user_id_edit.setToolTip(
                self.tr("1–64 characters: {chars}").format(chars=ALLOWED_ID_CHARACTERS)
            )
            if not self.sign_in_button.isEnabled():  # a sign-in waited for the server
                self._show_progress()
        elif status.phase is ServerPhase.FAILED:
            self._reset_button()
            self._show_error(
                self.tr("The server is not available: {detail}").format(detail=status.error)
            )

    @Slot(str)
    def on_user_id_edit_text_edited(self, text: str) -> None:
        self._mark_invalid(False)

    @Slot(SignInProblem, str)
    def show_sign_in_failed(self, problem: SignInProblem, detail: str) -> None:
        """Signing in failed: say why, and let the user try again."""
        self._reset_button()
        if self._server.phase is ServerPhase.FAILED:
            return  # set_server_status has said why
        texts = {
            SignInProblem.UNREACHABLE: self.tr("Cannot reach the server: {detail}"),
            SignInProblem.REFUSED: self.tr("The server refused the sign-in: {detail}"),
            SignInProblem.INVALID_INPUT: self.tr("Check the user ID and name: {detail}"),
            SignInProblem.FAILED: self.tr("Signing in failed: {detail}"),
        }
        self._show_error(texts[problem].format(detail=detail))

    @Slot()
    def signed_in(self) -> None:
        """Signed in: ready for the next time this page shows."""
        self._reset_button()
        self.error_label.hide()

    def _show_progress(self) -> None:
        if self._server.phase is ServerPhase.READY:
            self.sign_in_button.setText(self.tr("Signing in…"))
        elif self._server.remote:
            self.sign_in_button.setText(self.tr("Connecting to the server…"))
        else:
            self.sign_in_button.setText(self.tr("Starting local server…"))

    def _reset_button(self) -> None:
        # Nobody can sign in once the server has failed (the app says so, then quits).
        self.sign_in_button.setEnabled(self._server.phase is not ServerPhase.FAILED)
        self.sign_in_button.setText(self.tr("Sign in"))

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _mark_invalid(self, invalid: bool) -> None:
        self.user_id_edit.setProperty("invalid", invalid)
        # A dynamic property only restyles after a re-polish.
        self.user_id_edit.style().unpolish(self.user_id_edit)
        self.user_id_edit.style().polish(self.user_id_edit)

    def _problem_text(self, problem: IdentityProblem) -> str:
        from app.kit.identity import ALLOWED_ID_CHARACTERS, IdentityProblem

        texts = {
            IdentityProblem.ID_EMPTY: self.tr("Enter a user ID."),
            IdentityProblem.ID_TOO_LONG: self.tr("A user ID has at most 64 characters."),
            IdentityProblem.ID_BAD_CHARACTERS: self.tr(
                "A user ID may only contain {chars} (no spaces)."
            ).format(chars=ALLOWED_ID_CHARACTERS),
            IdentityProblem.NAME_TOO_LONG: self.tr("A display name has at most 64 characters."),
            IdentityProblem.NAME_BAD_CHARACTERS: self.tr(
                "A display name may not contain control, direction-changing or invisible "
                "characters."
            ),
        }
        return texts[problem]
