"""The main window: the pages in a stack, and a status line for the connection.

The window is the first thing ``parley`` shows, before the server is open: building it
imports nothing heavy, and the home page, which needs the protocol's rules, is built on
first use, once the server is ready. The composition root feeds it the connection and
the server's status (:meth:`MainWindow.set_link_state`, :meth:`set_server_status`).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, QSize, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from app import PresenceState
from app.kit.account import LinkState
from app.kit.local_server import ServerMode, ServerPhase, ServerStatus
from widgets.plain_text import ElidedLabel, PlainLabel
from widgets.signin_page import SignInPage
from widgets.theme import Colors

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from widgets.home_page import HomePage


#: The smallest the window gets (a page may ask for more while it is shown).
MINIMUM_SIZE = QSize(520, 560)


class MainWindow(QMainWindow):
    """Parley's window. Closing it emits :attr:`close_requested`; the app then shuts down."""

    close_requested = Signal()

    def __init__(
        self,
        settings: QSettings,
        colors: Colors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowTitle(self.tr("Parley"))
        self.setMinimumSize(MINIMUM_SIZE)
        self.resize(760, 640)
        self._colors = colors
        self._closing = False

        self.signin_page = SignInPage(settings, self)
        self._home_page: HomePage | None = None
        self.stack = QStackedWidget(self)
        self.stack.currentChanged.connect(self._fit_minimum_to_page)
        # A page's needs change as it fills (an audio room's seats come after its page).
        self.stack.installEventFilter(self)
        self.stack.addWidget(self.signin_page)

        # A banner as well as the status line: losing the server must be hard to miss.
        self.reconnect_banner = PlainLabel(
            self.tr("Reconnecting… calls and presence resume when the server is back."), self
        )
        self.reconnect_banner.setObjectName("banner")
        self.reconnect_banner.setWordWrap(True)
        self.reconnect_banner.hide()
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.reconnect_banner)
        column.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        # The status line colours a dot: rich text, so whatever is put in goes through
        # html.escape. The server's text is shortened to the room left beside it (the
        # whole of it in its tool tip), so a narrow window does not cut it off.
        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connection_label")
        self.connection_label.setTextFormat(Qt.TextFormat.RichText)
        self.server_label = ElidedLabel(self)
        self.server_label.setObjectName("server_label")
        self.server_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.statusBar().addWidget(self.connection_label, 1)
        # Said while it is on: a person forgets, and calls then seem never to come.
        self.do_not_disturb_label = PlainLabel(self.tr("Do not disturb"), self)
        self.do_not_disturb_label.setObjectName("do_not_disturb_label")
        self.do_not_disturb_label.setToolTip(
            self.tr("Calls are refused as busy; turn it off in Settings…")
        )
        self.do_not_disturb_label.hide()
        self.statusBar().addPermanentWidget(self.do_not_disturb_label)
        self.statusBar().addPermanentWidget(self.server_label)
        # A notice takes the connection state's place for its ten seconds (QStatusBar
        # draws it over that label otherwise, both texts on top of each other).
        self.statusBar().messageChanged.connect(
            lambda text: self.connection_label.setVisible(not text)
        )
        self.statusBar().setSizeGripEnabled(False)

        self.set_link_state(LinkState.SIGNED_OUT, "")
        self.set_server_status(ServerStatus(ServerPhase.STARTING))

    @property
    def home_page(self) -> HomePage:
        """The signed-in page: built when the server is ready, or on first use."""
        return self._ensure_home_page()

    def _ensure_home_page(self) -> HomePage:
        if self._home_page is None:
            from widgets.home_page import HomePage

            self._home_page = HomePage(self._colors, self)
            self.stack.addWidget(self._home_page)
        return self._home_page

    @Slot(ServerStatus)
    def set_server_status(self, status: ServerStatus) -> None:
        """Opening the server began, ended or failed: the status line and sign-in page say."""
        self.signin_page.set_server_status(status)
        if status.phase is ServerPhase.FAILED:
            self._set_server_text(self._colors.danger, self.tr("Server unavailable"))
            self.server_label.set_note(status.error)
        elif status.phase is ServerPhase.STARTING:
            text = (
                self.tr("Connecting to the server…")
                if status.remote
                else self.tr("Starting local server…")
            )
            self._set_server_text(self._colors.muted, text)
        elif status.mode is not None:
            texts = {
                ServerMode.HOSTING: self.tr("Local server, hosted by this window"),
                ServerMode.SHARED: self.tr("Local server, shared with another Parley window"),
                ServerMode.REMOTE: self.tr("Server"),
            }
            text = f"{texts[status.mode]} · {status.url}"
            if status.unencrypted:
                # Tokens, names, messages and call set-up cross the network in the clear.
                warning = self.tr("not encrypted")
                self._set_server_text(self._colors.danger, f"{text} · {warning}")
                self.server_label.set_note(
                    self.tr(
                        "This server is reached without TLS: anyone on the network between "
                        "you can read who you call and what you write. Use an https:// address."
                    )
                )
            else:
                self._set_server_text("", text)

    def set_do_not_disturb(self, on: bool) -> None:
        """Say in the status line whether calls are being refused."""
        self.do_not_disturb_label.setVisible(on)

    @Slot()
    def show_home(self) -> None:
        """Signed in: the home page."""
        self.stack.setCurrentWidget(self.home_page)

    @Slot()
    def show_sign_in(self) -> None:
        """Signed out: the sign-in page."""
        self.stack.setCurrentWidget(self.signin_page)

    @Slot(LinkState, str)
    def set_link_state(self, state: LinkState, detail: str) -> None:
        """The connection as the user sees it: the status line and the banner."""
        texts = {
            LinkState.SIGNED_OUT: self.tr("Not signed in"),
            LinkState.SIGNING_IN: self.tr("Signing in…"),
            LinkState.ONLINE: self.tr("Online"),
            LinkState.RECONNECTING: self.tr("Reconnecting…"),
            LinkState.OFFLINE: self.tr("Offline — the server could not be reached"),
            LinkState.SIGNED_IN_ELSEWHERE: self.tr("Signed out: you signed in somewhere else"),
        }
        colors = {
            LinkState.ONLINE: self._colors.presence[PresenceState.IDLE],
            LinkState.RECONNECTING: self._colors.presence[PresenceState.RINGING],
            LinkState.OFFLINE: self._colors.danger,
            LinkState.SIGNED_IN_ELSEWHERE: self._colors.danger,
        }
        color = colors.get(state, self._colors.muted)
        text = html.escape(texts[state])
        self.connection_label.setText(f'<span style="color:{color}">●</span> {text}')
        self.connection_label.setProperty("link_state", state.value)
        self.reconnect_banner.setVisible(state is LinkState.RECONNECTING)

    def _set_server_text(self, color: str, text: str) -> None:
        """``text`` in ``color`` ("" for the status line's own)."""
        self.server_label.setStyleSheet(f"color: {color}" if color else "")
        self.server_label.set_note("")
        self.server_label.setText(text)

    @Slot(str)
    def show_notice(self, text: str) -> None:
        """Tell the user something expected (not a failure) in the status line for a while."""
        self.statusBar().showMessage(text, 10000)

    def show_error(self, text: str) -> None:
        """Show an unexpected failure in the status line for a while."""
        self.statusBar().showMessage(
            self.tr("Something went wrong: {text}").format(text=text), 10000
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.stack and event.type() == QEvent.Type.LayoutRequest:
            self._fit_minimum_to_page()
        return super().eventFilter(watched, event)

    def minimum_width_for_page(self) -> int:
        """The window's minimum width with the page it shows: a page that needs more
        than the window's own minimum (an audio room's seats beside its messages) widens
        it while shown, instead of being cut off. Heights fit the window's own minimum."""
        page = self.stack.currentWidget()
        needed = page.minimumSizeHint().width() if page is not None else 0
        return max(MINIMUM_SIZE.width(), needed)

    def _fit_minimum_to_page(self, _index: int = -1) -> None:
        width = self.minimum_width_for_page()
        # Without a window manager (offscreen, minimal) a minimum means nothing, and Qt
        # warns at every change of a shown window's one.
        if width != self.minimumWidth() and QGuiApplication.platformName() not in (
            "offscreen",
            "minimal",
        ):
            self.setMinimumWidth(width)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        # The app signs out and stops the server first, then closes the window for good.
        if self._closing:
            event.accept()
            return
        event.ignore()
        self.close_requested.emit()

    def close_for_good(self) -> None:
        """Close without asking again (after the app has shut down its services)."""
        self._closing = True
        self.close()
