"""An incoming invitation: a banner at the top of the window, and the full page it opens.

The banner interrupts little: name, kind of call, decline and accept. Clicking anywhere
else on it asks for the full page, which has bigger buttons and, for video calls, a
preview of the local camera.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from app.kit.views.call import IncomingCallView
from widgets.avatar_view import AvatarView
from widgets.call_style import call_style_sheet
from widgets.plain_text import ElidedLabel, PlainLabel, id_hint
from widgets.ringing_page import RingingPage
from widgets.round_button import ButtonRole, CaptionedButton, RoundButton
from widgets.theme import Colors

#: Keys that accept or decline a call ringing here (while its page is shown).
ACCEPT_KEYS = "Ctrl+Shift+A"
DECLINE_KEYS = "Ctrl+Shift+D"


def invitation_text(view: IncomingCallView) -> str:
    """ "Incoming video call…" and its variants (one translation context for the banner
    and the page, which both say it)."""
    if view.is_group:
        if view.is_video:
            return _tr("Incoming group video call…")
        return _tr("Incoming group voice call…")
    return _tr("Incoming video call…") if view.is_video else _tr("Incoming voice call…")


def _tr(text: str) -> str:
    return QCoreApplication.translate("IncomingCall", text)


class IncomingCallBanner(QFrame):
    """The banner. Emits ``accept_requested``, ``decline_requested``, ``open_requested``."""

    accept_requested = Signal()
    decline_requested = Signal()
    open_requested = Signal()

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("incoming_banner")
        self.setProperty("kind", "banner")
        self.setStyleSheet(call_style_sheet(colors))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(self.tr("Open the call"))
        self._view: IncomingCallView | None = None
        self.avatar = AvatarView(self, ring=False)
        self.avatar.setFixedSize(48, 48)
        self.name_label = ElidedLabel(self)
        self.name_label.setObjectName("panelTitle")
        #: The caller's user ID, when their name is not it: anyone may be called "Alice".
        self.id_label = ElidedLabel(self)
        self.id_label.setObjectName("panelMuted")
        self.id_label.hide()
        self.kind_label = PlainLabel(self)
        self.kind_label.setObjectName("panelMuted")
        self.decline_button = RoundButton(
            "hang-up", role=ButtonRole.DANGER, diameter=44, parent=self
        )
        self.decline_button.setObjectName("decline_button")
        self.decline_button.setToolTip(self.tr("Decline"))
        self.decline_button.setAccessibleName(self.tr("Decline"))
        self.decline_button.clicked.connect(self.decline_requested)
        self.accept_button = RoundButton(
            "accept-call", role=ButtonRole.ACCEPT, diameter=44, parent=self
        )
        self.accept_button.setObjectName("accept_button")
        self.accept_button.setToolTip(self.tr("Accept"))
        self.accept_button.setAccessibleName(self.tr("Accept"))
        self.accept_button.clicked.connect(self.accept_requested)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name_label)
        text.addWidget(self.id_label)
        text.addWidget(self.kind_label)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 12, 14, 12)
        row.setSpacing(12)
        row.addWidget(self.avatar)
        row.addLayout(text, 1)
        row.addWidget(self.decline_button)
        row.addWidget(self.accept_button)
        self.setMinimumWidth(340)

    @property
    def view(self) -> IncomingCallView | None:
        """The invitation last rendered."""
        return self._view

    def set_view(self, view: IncomingCallView) -> None:
        """Show ``view``."""
        self._view = view
        self.avatar.set_user(view.caller.id, view.caller.name)
        self.name_label.setText(view.caller.name or view.caller.id)
        hint = id_hint(view.caller.id, view.caller.name)
        self.id_label.setText(hint)
        self.id_label.setVisible(bool(hint))
        self.kind_label.setText(invitation_text(view))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        # Accepted, so the release comes back here rather than to the parent.
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        # The buttons take their own clicks; a click anywhere else opens the page.
        if event.button() is Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.open_requested.emit()
        super().mouseReleaseEvent(event)


class IncomingCallPage(RingingPage):
    """The full page. Emits ``accept_requested``, ``decline_requested``, ``minimize_requested``."""

    accept_requested = Signal()
    decline_requested = Signal()

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(colors, parent, preview_scrim=120, avatar_size=136)
        self.setObjectName("incoming_page")
        self._view: IncomingCallView | None = None
        #: The status line: "Incoming video call…".
        self.kind_label = self.status_label
        self.decline_button = RoundButton(
            "hang-up", role=ButtonRole.DANGER, diameter=68, parent=self
        )
        self.decline_button.setObjectName("decline_button")
        self.decline_button.clicked.connect(self.decline_requested)
        self.accept_button = RoundButton(
            "accept-call", role=ButtonRole.ACCEPT, diameter=68, parent=self
        )
        self.accept_button.setObjectName("accept_button")
        self.accept_button.clicked.connect(self.accept_requested)
        # From the keyboard too; the same keys as the call page's hang-up family.
        self.add_shortcut(ACCEPT_KEYS, self.accept_requested.emit)
        self.add_shortcut(DECLINE_KEYS, self.decline_requested.emit)
        self.accept_button.setToolTip(self.tr("Accept ({keys})").format(keys=ACCEPT_KEYS))
        self.decline_button.setToolTip(self.tr("Decline ({keys})").format(keys=DECLINE_KEYS))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(CaptionedButton(self.decline_button, self.tr("Decline"), self))
        buttons.addSpacing(96)
        buttons.addWidget(CaptionedButton(self.accept_button, self.tr("Accept"), self))
        buttons.addStretch(1)
        self.lay_out([buttons], bottom_margin=40, row_gap=0)

    @property
    def view(self) -> IncomingCallView | None:
        """The invitation last rendered."""
        return self._view

    def set_view(self, view: IncomingCallView) -> None:
        """Show ``view``; a video call shows the camera preview behind."""
        self._view = view
        self.show_person(view.caller.id, view.caller.name)
        self.kind_label.setText(invitation_text(view))
        self.preview.setVisible(view.is_video and view.camera_on)
