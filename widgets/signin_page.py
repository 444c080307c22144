"""The sign-in page: *This computer* (a user ID and display name on the local server) or
*A server* (its address, your user ID and password; or a new account with an invite
code), checked here, remembered across runs (never the password).

It is Parley's first page, shown while the server is still being opened: signing in
then waits for it (the button says so), and a server that cannot be opened is shown
here. It emits :attr:`SignInPage.sign_in_requested` or
:attr:`SignInPage.remote_sign_in_requested` with input that follows the rules.
The input rules (``app.kit.identity``) come with the wire protocol (pydantic, ~0.2 s to
import), so they are imported when first needed, after the page is on screen.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.kit.account import SignInError, SignInProblem
from app.kit.local_server import ServerPhase, ServerStatus
from app.kit.sign_in_request import RemoteSignIn, normalize_server_url
from widgets.plain_text import PlainLabel

if TYPE_CHECKING:
    from app.kit.identity import IdentityProblem

SETTINGS_USER_ID = "signin/user_id"
SETTINGS_NAME = "signin/name"
SETTINGS_MODE = "signin/mode"
SETTINGS_SERVER = "signin/server_url"
MODE_LOCAL = "local"
MODE_SERVER = "server"
MIN_NEW_PASSWORD = 8


class SignInPage(QWidget):
    """Asks who you are; sends nothing until the input follows the protocol's rules."""

    sign_in_requested = Signal(str, str)
    """``(user_id, name)``, checked: sign in on this computer's server (waiting for it
    if need be)."""
    remote_sign_in_requested = Signal(RemoteSignIn)
    """Checked: sign in to (or create an account on) a server with a password."""

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
        self.local_button = QPushButton(self.tr("This computer"), card)
        self.local_button.setObjectName("mode_local")
        self.server_button = QPushButton(self.tr("A server"), card)
        self.server_button.setObjectName("mode_server")
        self._modes = QButtonGroup(self)
        for button in (self.local_button, self.server_button):
            button.setCheckable(True)
            button.setProperty("kind", "segment")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            self._modes.addButton(button)
        self.local_button.setToolTip(
            self.tr("Calls between the Parley windows of this computer: no account needed")
        )
        self.server_button.setToolTip(
            self.tr("A Parley server on the internet or your network, with your account there")
        )
        self.subtitle = subtitle = PlainLabel(card)
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
        self.server_edit = QLineEdit(card)
        self.server_edit.setObjectName("server_edit")
        self.server_edit.setAccessibleName(self.tr("Server address"))
        self.server_edit.setPlaceholderText(self.tr("e.g. parley.example.org"))
        self.password_edit = QLineEdit(card)
        self.password_edit.setObjectName("password_edit")
        self.password_edit.setAccessibleName(self.tr("Password"))
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setMaxLength(1024)
        self.create_check = QCheckBox(self.tr("Create an account"), card)
        self.create_check.setObjectName("create_check")
        self.invite_edit = QLineEdit(card)
        self.invite_edit.setObjectName("invite_edit")
        self.invite_edit.setAccessibleName(self.tr("Invite code"))
        self.invite_edit.setPlaceholderText(self.tr("from the server's admin"))
        self.invite_edit.setMaxLength(128)
        self.error_label = PlainLabel(card)
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.sign_in_button = QPushButton(self.tr("Sign in"), card)
        self.sign_in_button.setObjectName("sign_in_button")
        self.sign_in_button.setProperty("kind", "primary")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setCursor(Qt.CursorShape.PointingHandCursor)

        modes = QHBoxLayout()
        modes.setSpacing(0)
        modes.addWidget(self.local_button)
        modes.addWidget(self.server_button)
        form = QVBoxLayout()
        form.setSpacing(12)
        # Each field with its label in a row of its own, shown or hidden by mode (a
        # hidden row takes its spacing with it).
        self._rows: dict[QWidget, QWidget] = {}
        for text, field in (
            (self.tr("Server address"), self.server_edit),
            (self.tr("User ID"), self.user_id_edit),
            (self.tr("Password"), self.password_edit),
            (None, self.create_check),
            (self.tr("Display name"), self.name_edit),
            (self.tr("Invite code"), self.invite_edit),
        ):
            row_widget = QWidget(card)
            row_layout = QVBoxLayout(row_widget)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.setSpacing(4)
            if text is not None:
                label = PlainLabel(text, row_widget)
                label.setObjectName("field")
                label.setBuddy(field)
                row_layout.addWidget(label)
            field.setParent(row_widget)
            row_layout.addWidget(field)
            self._rows[field] = row_widget
            form.addWidget(row_widget)
        # Tab follows the screen (the fields were made before their rows).
        chain = [
            self.local_button,
            self.server_button,
            self.server_edit,
            self.user_id_edit,
            self.password_edit,
            self.create_check,
            self.name_edit,
            self.invite_edit,
            self.sign_in_button,
        ]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 28, 28, 28)
        inner.setSpacing(14)
        inner.addWidget(title)
        inner.addLayout(modes)
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
        self.server_edit.setText(str(settings.value(SETTINGS_SERVER, "") or ""))
        self.sign_in_button.clicked.connect(self.on_sign_in_button_clicked)
        for edit in (
            self.server_edit,
            self.user_id_edit,
            self.password_edit,
            self.name_edit,
            self.invite_edit,
        ):
            edit.returnPressed.connect(self.on_sign_in_button_clicked)
        self.user_id_edit.textEdited.connect(self.on_user_id_edit_text_edited)
        self._modes.buttonToggled.connect(lambda *_: self._show_mode())
        self.create_check.toggled.connect(lambda *_: self._show_mode())
        remembered = str(settings.value(SETTINGS_MODE, MODE_LOCAL) or MODE_LOCAL)
        self.set_mode(MODE_SERVER if remembered == MODE_SERVER else MODE_LOCAL)

    # --- modes ------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """``"local"`` (This computer) or ``"server"`` (A server)."""
        return MODE_SERVER if self.server_button.isChecked() else MODE_LOCAL

    def set_mode(self, mode: str) -> None:
        """Show *This computer* (``"local"``) or *A server* (``"server"``)."""
        (self.server_button if mode == MODE_SERVER else self.local_button).setChecked(True)
        self._show_mode()

    def offer_server(self, url: str) -> None:
        """Open on *A server* with ``url`` filled in (``parley --server URL``)."""
        self.server_edit.setText(url)
        self.set_mode(MODE_SERVER)

    def remembered_server_sign_in(self) -> tuple[str, str] | None:
        """``(server URL, user ID)`` of the last sign-in to a server, if that was the last
        sign-in: the app tries the sign-in the keyring kept for it."""
        if self.mode != MODE_SERVER:
            return None
        url = str(self._settings.value(SETTINGS_SERVER, "") or "")
        user_id = str(self._settings.value(SETTINGS_USER_ID, "") or "")
        try:
            return (normalize_server_url(url), user_id) if url and user_id else None
        except SignInError:
            return None

    def _show_mode(self) -> None:
        server = self.mode == MODE_SERVER
        create = server and self.create_check.isChecked()
        shown = {
            self.server_edit: server,
            self.user_id_edit: True,
            self.password_edit: server,
            self.create_check: server,
            self.name_edit: not server or create,
            self.invite_edit: create,
        }
        for field, visible in shown.items():
            self._rows[field].setVisible(visible)
        if server:
            self.subtitle.setText(
                self.tr(
                    "Sign in with your account on a Parley server, or create one with an "
                    "invite code from its admin."
                )
            )
            self.password_edit.setPlaceholderText(
                self.tr("at least {n} characters").format(n=MIN_NEW_PASSWORD) if create else ""
            )
        else:
            self.subtitle.setText(
                self.tr(
                    "Sign in with a user ID. Others call you by it; your name is what they see."
                )
            )
        if self.sign_in_button.isEnabled():
            self._reset_button()
        self.error_label.hide()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        """The user ID field takes the focus with its text selected: someone else at the
        same computer types their ID over the remembered one instead of after it. On a
        server already used, the password field takes it."""
        super().showEvent(event)
        if (
            self.mode == MODE_SERVER
            and self.server_edit.text()
            and self.user_id_edit.text()
            and not self.create_check.isChecked()
        ):
            # Back to a server already used: only the password is missing.
            self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
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
        server = self.mode == MODE_SERVER
        problem = validate_user_id(user_id) or validate_name(name)
        if problem is not None:
            self._show_error(self._problem_text(problem))
            self._mark_invalid(True)
            self.user_id_edit.setFocus()
            return
        request = self._remote_request(user_id, name) if server else None
        if server and request is None:
            return  # the problem is shown
        self._settings.setValue(SETTINGS_MODE, self.mode)
        self._settings.setValue(SETTINGS_USER_ID, user_id)
        self._settings.setValue(SETTINGS_NAME, name)
        if request is not None:
            self._settings.setValue(SETTINGS_SERVER, request.url)
        self._settings.sync()
        self.error_label.hide()
        self.sign_in_button.setEnabled(False)
        self._show_progress()
        if request is not None:
            self.password_edit.clear()  # held no longer than it takes to send it
            self.remote_sign_in_requested.emit(request)
        else:
            self.sign_in_requested.emit(user_id, name)

    def _remote_request(self, user_id: str, name: str) -> RemoteSignIn | None:
        """The checked request for *A server*, or None with the problem shown."""
        try:
            url = normalize_server_url(self.server_edit.text())
        except SignInError as exc:
            self._show_error(
                self.tr("Check the server address: {detail}").format(detail=exc.detail)
            )
            self.server_edit.setFocus()
            return None
        password = self.password_edit.text()
        create = self.create_check.isChecked()
        if not password or (create and len(password) < MIN_NEW_PASSWORD):
            self._show_error(
                self.tr("Choose a password of at least {n} characters.").format(n=MIN_NEW_PASSWORD)
                if create
                else self.tr("Enter your password.")
            )
            self.password_edit.setFocus()
            return None
        self.server_edit.setText(url)
        return RemoteSignIn(
            url,
            user_id,
            password,
            create=create,
            name=name,
            invite_code=self.invite_edit.text().strip(),
        )

    @Slot()
    def show_signed_out_elsewhere(self) -> None:
        """This window's user signed in on another window or device: say why this one
        shows the sign-in page again."""
        self._reset_button()
        self._show_error(
            self.tr(
                "You signed in as {user} somewhere else, so this window was signed out. "
                "Sign in again to use Parley here."
            ).format(user=self.user_id_edit.text() or self.tr("this user"))
        )

    @Slot()
    def show_resuming(self) -> None:
        """A kept sign-in to a server is being used: wait for it."""
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.setText(self.tr("Signing in…"))

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
        if self.mode == MODE_SERVER:
            self.password_edit.setFocus()
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
        creating = self.mode == MODE_SERVER and self.create_check.isChecked()
        self.sign_in_button.setText(self.tr("Create account") if creating else self.tr("Sign in"))

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
