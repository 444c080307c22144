"""Navigation for calls and audio rooms: which page the window shows, the banner, the overlay.

One :class:`Navigator` moves the main window's page stack for both kits: the outgoing
page while a call rings out, the incoming banner over whatever page is shown (a click
opens the full incoming page), the call page during a call, the room page in a room,
and the one minimize overlay window instead of either when minimized. Leaving a call or
a room is the *default action* of ``on_call_end`` / ``on_ended`` (:meth:`end_call`,
:meth:`end_room`): back to the page shown before, or hide the overlay when minimized —
so an integrator's hook can replace it.

It knows pages only as ``QWidget`` s: ``app/qt`` never imports ``widgets``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QStackedWidget, QWidget

from app.kit.call.phases import Phase

__all__ = ["Navigator", "Shown", "bring_to_front"]

BANNER_TOP = 12
#: Between the banner and the page it pushes down.
BANNER_GAP = 4
OVERLAY_MARGIN = 24


class Shown(StrEnum):
    """What the minimize overlay stands for."""

    NOTHING = "nothing"
    RINGING = "ringing"
    CALL = "call"
    ROOM = "room"


class Navigator(QObject):
    """Which page the main window shows, and the banner and overlay windows."""

    def __init__(
        self,
        window: QWidget,
        stack: QStackedWidget,
        home: QWidget,
        *,
        outgoing_page: QWidget,
        incoming_page: QWidget,
        banner: QWidget,
        overlay: QWidget,
        outcome_linger_ms: int = 1500,
        parent: QObject | None = None,
    ) -> None:
        """``outcome_linger_ms``: how long "Declined"/"Busy"/"No answer" stays up."""
        super().__init__(parent)
        self.window = window
        self.stack = stack
        self.home = home
        self.outgoing_page = outgoing_page
        self.incoming_page = incoming_page
        self.banner = banner
        self.overlay = overlay
        self.call_page: QWidget | None = None
        self.room_page: QWidget | None = None
        # How each call or room page shows a toast over itself.
        self._toasts: dict[QWidget, Callable[[str], None]] = {}
        #: What the overlay shows while it is up.
        self.overlay_for = Shown.NOTHING
        self._return_to: QWidget | None = None
        self._phase = Phase.IDLE
        self._linger = QTimer(self)
        self._linger.setSingleShot(True)
        self._linger.setInterval(outcome_linger_ms)
        self._linger.timeout.connect(self._leave_outgoing)
        for page in (outgoing_page, incoming_page):
            if stack.indexOf(page) < 0:
                stack.addWidget(page)
        banner.hide()
        _prepare_overlay(overlay)
        window.installEventFilter(self)
        banner.installEventFilter(self)

    # --- what is shown ----------------------------------------------------------------

    @property
    def current(self) -> QWidget | None:
        """The page the main window shows now."""
        return self.stack.currentWidget()

    def session_page_shown(self) -> QWidget | None:
        """The call or room page, when it is the page shown."""
        current = self.current
        return current if current is not None and current in self._session_pages() else None

    def toast(self, text: str) -> bool:
        """Show ``text`` over the call or room page if it is shown; False when it is not."""
        page = self.session_page_shown()
        toast = self._toasts.get(page) if page is not None else None
        if toast is None:
            return False
        toast(text)
        return True

    def _session_pages(self) -> tuple[QWidget, ...]:
        return tuple(p for p in (self.call_page, self.room_page) if p is not None)

    def _flow_pages(self) -> tuple[QWidget, ...]:
        return (self.outgoing_page, self.incoming_page, *self._session_pages())

    def _remember_return(self) -> None:
        current = self.current
        if current is not None and current not in self._flow_pages():
            self._return_to = current

    def leave_for(self, page: QWidget) -> None:
        """Show ``page`` now, or, while a call or room is on screen, once it ends
        instead of the page from before it (signed out: the sign-in page)."""
        self._return_to = page
        if self.session_page_shown() is None and self.current not in self._flow_pages():
            self.stack.setCurrentWidget(page)

    def go_back(self) -> None:
        """Show the page from before the call or room began (home, usually)."""
        self._linger.stop()
        self.banner.hide()
        target = self._return_to
        if target is None or self.stack.indexOf(target) < 0:
            target = self.home
        self.stack.setCurrentWidget(target)

    def _show(self, page: QWidget) -> None:
        if self.overlay_for in (Shown.NOTHING, Shown.RINGING):
            self.stack.setCurrentWidget(page)

    def _drop(self, page: QWidget | None) -> None:
        if page is None:
            return
        self._toasts.pop(page, None)
        if self.current is page:
            self.go_back()
        self.stack.removeWidget(page)
        page.deleteLater()

    # --- calls: following the phase ---------------------------------------------------

    @Slot(Phase)
    def on_call_phase(self, phase: Phase) -> None:
        previous, self._phase = self._phase, phase
        if phase is Phase.OUTGOING:
            self._linger.stop()
            self._remember_return()
            self.stack.setCurrentWidget(self.outgoing_page)
        elif phase is Phase.INCOMING:
            self._remember_return()
            self.show_banner()
        elif phase is Phase.IN_CALL:
            self._linger.stop()
            self.banner.hide()
            if self.overlay_for is Shown.RINGING:
                self.hide_overlay()
            if self.call_page is not None:
                self._show(self.call_page)
        elif phase is Phase.IDLE:
            self.banner.hide()
            if self.overlay_for is Shown.RINGING:
                self.hide_overlay()
            if previous is Phase.INCOMING and self.current is self.incoming_page:
                self.go_back()
            elif previous is Phase.OUTGOING and self.current is self.outgoing_page:
                self._linger.start()  # let "Declined" or "No answer" be read
            # A call's end is on_call_end's default action (end_call), not this.

    @Slot()
    def show_outcome(self) -> None:
        """An outgoing call refused before it rang: its page shows why, for a moment."""
        self._remember_return()
        self.stack.setCurrentWidget(self.outgoing_page)
        self._linger.start()

    def leave_outgoing_now(self) -> None:
        """The user cancelled: no outcome to show, go back at once."""
        self._leave_outgoing()

    @Slot()
    def _leave_outgoing(self) -> None:
        self._linger.stop()
        if self.current is self.outgoing_page:
            self.go_back()

    def show_banner(self) -> None:
        """The incoming banner on top of the current page."""
        self._place_banner()
        self.banner.show()
        self.banner.raise_()

    @Slot()
    def open_incoming_page(self) -> None:
        """The banner was clicked: the full incoming page."""
        if self._phase is not Phase.INCOMING:
            return
        self.banner.hide()
        self.stack.setCurrentWidget(self.incoming_page)

    def set_call_page(self, page: QWidget, toast: Callable[[str], None]) -> None:
        """A call began: its page joins the stack (replacing a previous call's);
        ``toast`` shows a message over it."""
        self._drop(self.call_page)
        self._remember_return()
        self.call_page = page
        self._toasts[page] = toast
        self.stack.addWidget(page)
        self._show(page)

    def end_call(self) -> None:
        """``on_call_end``'s default action: hide the overlay or go back, drop the page."""
        if self.overlay_for in (Shown.CALL, Shown.RINGING):
            self.hide_overlay()
        page, self.call_page = self.call_page, None
        self._drop(page)
        if self.current in (self.outgoing_page, self.incoming_page):
            self.go_back()

    # --- rooms ------------------------------------------------------------------------

    def set_room_page(self, page: QWidget, toast: Callable[[str], None]) -> None:
        """A room is being joined: its page joins the stack (replacing a previous one);
        ``toast`` shows a message over it."""
        self._drop(self.room_page)
        self._remember_return()
        self.room_page = page
        self._toasts[page] = toast
        self.stack.addWidget(page)
        self._show(page)

    def show_room_page(self) -> None:
        """Back to the room in progress (the home page's room button)."""
        if self.room_page is not None:
            if self.overlay_for is Shown.ROOM:
                self.hide_overlay()
            self._remember_return()
            self.stack.setCurrentWidget(self.room_page)

    def end_room(self) -> None:
        """``on_ended``'s default action (and a failed join): drop the page, go back."""
        if self.overlay_for is Shown.ROOM:
            self.hide_overlay()
        page, self.room_page = self.room_page, None
        self._drop(page)

    # --- minimize ---------------------------------------------------------------------

    def on_minimized(self, what: Shown, minimized: bool) -> None:
        """A call or room was minimized into the overlay, or restored from it."""
        page = self.call_page if what is Shown.CALL else self.room_page
        if minimized:
            self.show_overlay(what)
            if page is not None and self.current is page:
                self.go_back()
        else:
            if self.overlay_for is what:
                self.hide_overlay()
            if page is not None:
                self.stack.setCurrentWidget(page)
                bring_to_front(self.window)

    def minimize_ringing(self) -> None:
        """A ringing page was minimized: the overlay shows the ringing call."""
        self.show_overlay(Shown.RINGING)
        self.go_back()

    @Slot()
    def restore_ringing(self) -> None:
        """Back from a minimized ringing call to its page."""
        self.hide_overlay()
        if self._phase is Phase.OUTGOING:
            self.stack.setCurrentWidget(self.outgoing_page)
        elif self._phase is Phase.INCOMING:
            self.stack.setCurrentWidget(self.incoming_page)

    def show_overlay(self, what: Shown) -> None:
        """The small always-on-top window, in the screen's top-right corner."""
        self.overlay_for = what
        screen = self.window.screen() or QApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            size = self.overlay.sizeHint()
            self.overlay.move(
                QPoint(area.right() - size.width() - OVERLAY_MARGIN, area.top() + OVERLAY_MARGIN)
            )
        self.overlay.show()
        bring_to_front(self.overlay)

    def hide_overlay(self) -> None:
        self.overlay_for = Shown.NOTHING
        self.overlay.hide()

    # --- keeping the banner in place --------------------------------------------------

    def _place_banner(self) -> None:
        width = min(max(self.banner.minimumWidth(), 420), self.window.width() - 24)
        height = self.banner.sizeHint().height()
        self.banner.setGeometry((self.window.width() - width) // 2, BANNER_TOP, width, height)
        self._make_room_for_banner()

    def _make_room_for_banner(self) -> None:
        # The banner has a band of its own at the top: the page moves down under it
        # instead of being covered (the greeting, a room's title) while it rings.
        top = 0
        if self.banner.isVisible():
            top = max(0, self.banner.geometry().bottom() + 1 + BANNER_GAP - self.stack.y())
        self.stack.setContentsMargins(0, top, 0, 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if watched is self.window and kind == QEvent.Type.Resize and self.banner.isVisible():
            self._place_banner()
        elif watched is self.banner and kind in (QEvent.Type.Show, QEvent.Type.Hide):
            self._make_room_for_banner()
        return False


def _has_window_stacking() -> bool:
    # The offscreen and minimal platforms have none and warn on raise().
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


def bring_to_front(window: QWidget) -> None:
    """Show ``window`` un-minimised and active; raised where the platform stacks windows."""
    if window.isMinimized():
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    if _has_window_stacking():
        window.raise_()
    window.activateWindow()


def _prepare_overlay(overlay: QWidget) -> None:
    """Hide a minimize overlay until it is needed, fit for the platform."""
    if not _has_window_stacking():
        # Showing a tool or stay-on-top window raises it, which the offscreen
        # platform refuses with a warning; nothing can be on top of anything there.
        overlay.setWindowFlags(Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
    overlay.hide()
