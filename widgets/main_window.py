"""The main window: the pages in a stack, and a status line for the connection.

The window is the first thing ``parley`` shows, before the server is open (see
:class:`~app.qt_bridge.SessionBridge`): building it imports nothing heavy, and the home
page, which needs the protocol's rules, is built once the server is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtWidgets import QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from app import PresenceState
from app.kit.account import LinkState, OnlineUser
from app.kit.local_server import ServerMode
from app.qt.account import SessionBridge
from widgets.signin_page import SignInPage
from widgets.theme import Colors

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from widgets.home_page import HomePage


class MainWindow(QMainWindow):
    """Parley's window. Closing it emits :attr:`close_requested`; the app then shuts down."""

    close_requested = Signal()

    def __init__(
        self,
        bridge: SessionBridge,
        settings: QSettings,
        colors: Colors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Parley"))
        self.setMinimumSize(520, 560)
        self.resize(760, 640)
        self._bridge = bridge
        self._colors = colors
        self._closing = False

        self.signin_page = SignInPage(bridge, settings, self)
        self._home_page: HomePage | None = None
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.signin_page)

        # A banner as well as the status line: losing the server must be hard to miss.
        self.reconnect_banner = QLabel(
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

        self.connection_label = QLabel(self)
        self.server_label = QLabel(self)
        self.statusBar().addWidget(self.connection_label, 1)
        self.statusBar().addPermanentWidget(self.server_label)
        self.statusBar().setSizeGripEnabled(False)

        bridge.link_changed.connect(self.on_bridge_link_changed)
        bridge.signed_in.connect(self.on_bridge_signed_in)
        bridge.signed_out.connect(self.on_bridge_signed_out)
        bridge.server_mode_changed.connect(self.on_bridge_server_mode_changed)
        bridge.server_ready.connect(self.on_bridge_server_ready)
        bridge.server_failed.connect(self.on_bridge_server_failed)
        self.on_bridge_link_changed(bridge.link_state, "")
        if bridge.server_error is not None:
            self.on_bridge_server_failed(bridge.server_error)
        elif bridge.is_ready:
            self.on_bridge_server_ready()
        else:
            text = (
                self.tr("Connecting to the server…")
                if bridge.is_remote
                else self.tr("Starting local server…")
            )
            self._set_server_text(self._colors.muted, text)

    @property
    def home_page(self) -> HomePage:
        """The signed-in page: built when the server is ready, or on first use."""
        return self._ensure_home_page()

    def _ensure_home_page(self) -> HomePage:
        if self._home_page is None:
            from widgets.home_page import HomePage

            self._home_page = HomePage(self._bridge, self._colors, self)
            self.stack.addWidget(self._home_page)
        return self._home_page

    @Slot()
    def on_bridge_server_ready(self) -> None:
        self._ensure_home_page()  # before anyone can be signed in: it follows the roster
        mode = self._bridge.server_mode
        if mode is not None:
            self.on_bridge_server_mode_changed(mode)

    @Slot(str)
    def on_bridge_server_failed(self, message: str) -> None:
        self._set_server_text(self._colors.danger, self.tr("Server unavailable"))
        self.server_label.setToolTip(message)

    @Slot(object)
    def on_bridge_signed_in(self, me: OnlineUser) -> None:
        self.stack.setCurrentWidget(self.home_page)

    @Slot()
    def on_bridge_signed_out(self) -> None:
        self.stack.setCurrentWidget(self.signin_page)

    @Slot(object, str)
    def on_bridge_link_changed(self, state: LinkState, detail: str) -> None:
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
        self.connection_label.setText(f'<span style="color:{color}">●</span> {texts[state]}')
        self.connection_label.setProperty("link_state", state.value)
        self.reconnect_banner.setVisible(state is LinkState.RECONNECTING)

    @Slot(object)
    def on_bridge_server_mode_changed(self, mode: ServerMode) -> None:
        texts = {
            ServerMode.HOSTING: self.tr("Local server, hosted by this window"),
            ServerMode.SHARED: self.tr("Local server, shared with another Parley window"),
            ServerMode.REMOTE: self.tr("Server"),
        }
        self.server_label.setText(f"{texts[mode]} · {self._bridge.server_url}")

    def _set_server_text(self, color: str, text: str) -> None:
        self.server_label.setText(f'<span style="color:{color}">{text}</span>')

    @Slot(str)
    def show_notice(self, text: str) -> None:
        """Tell the user something expected (not a failure) in the status line for a while."""
        self.statusBar().showMessage(text, 10000)

    def show_error(self, text: str) -> None:
        """Show an unexpected failure in the status line for a while."""
        self.statusBar().showMessage(
            self.tr("Something went wrong: {text}").format(text=text), 10000
        )

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
