"""Navigation between the pages of a call: home ↔ outgoing ↔ call page, banner, overlay.

:class:`Navigator` moves the main window's page stack as the call presenter's phase
changes: the outgoing page while ringing out, the incoming banner over whatever page is
shown (a click opens the full incoming page), the call page during a call, and the
minimize overlay window instead of the call page when minimized. Leaving a call is the
*default action* of ``on_call_end`` (:meth:`end_call`): back to the page shown before
the call, or hide the overlay when minimized — so an integrator's hook can replace it.

It knows pages only as ``QWidget``\\ s (``app`` never imports ``widgets``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QStackedWidget, QWidget

from app.kit.call.invitations import Phase
from app.kit.types import CallEndEvent

BANNER_TOP = 12
OVERLAY_MARGIN = 24


class Navigator(QObject):
    """Which page the main window shows, and the banner and overlay windows."""

    def __init__(
        self,
        window: QWidget,
        stack: QStackedWidget,
        outgoing_page: QWidget,
        incoming_page: QWidget,
        banner: QWidget,
        overlay: QWidget,
        *,
        outcome_linger_ms: int = 1500,
        parent: QObject | None = None,
    ) -> None:
        """``outcome_linger_ms``: how long "Declined"/"Busy"/"No answer" stays up."""
        super().__init__(parent)
        self.window = window
        self.stack = stack
        self.outgoing_page = outgoing_page
        self.incoming_page = incoming_page
        self.banner = banner
        self.overlay = overlay
        self.call_page: QWidget | None = None
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
        prepare_overlay(overlay)
        window.installEventFilter(self)

    # --- what is shown ----------------------------------------------------------------

    @property
    def current(self) -> QWidget | None:
        """The page the main window shows now."""
        return self.stack.currentWidget()

    def _remember_return(self) -> None:
        current = self.current
        if current not in (self.outgoing_page, self.incoming_page, self.call_page):
            self._return_to = current

    def go_back(self) -> None:
        """Show the page from before the call flow began (home, usually)."""
        self._linger.stop()
        self.banner.hide()
        if self._return_to is not None and self.stack.indexOf(self._return_to) >= 0:
            self.stack.setCurrentWidget(self._return_to)

    # --- following the presenter ------------------------------------------------------

    @Slot(object)
    def on_phase_changed(self, phase: Phase) -> None:
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
            if self.call_page is not None and not self.overlay.isVisible():
                self.stack.setCurrentWidget(self.call_page)
        elif phase is Phase.IDLE:
            self.banner.hide()
            if previous is Phase.INCOMING:
                if self.current is self.incoming_page:
                    self.go_back()
                self._hide_ringing_overlay()
            elif previous is Phase.OUTGOING:
                self._hide_ringing_overlay()
                if self.current is self.outgoing_page:
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

    def set_call_page(self, page: QWidget) -> None:
        """A call began: its page joins the stack (replacing a previous call's)."""
        self._drop_call_page()
        self._remember_return()
        self.call_page = page
        self.stack.addWidget(page)
        if not self.overlay.isVisible():
            self.stack.setCurrentWidget(page)

    def _drop_call_page(self) -> None:
        page, self.call_page = self.call_page, None
        if page is not None:
            if self.current is page:
                self.go_back()
            self.stack.removeWidget(page)
            page.deleteLater()

    # --- minimize ---------------------------------------------------------------------

    @Slot(bool)
    def on_minimized_changed(self, minimized: bool) -> None:
        if minimized:
            self.show_overlay()
            if self.current is self.call_page:
                self.go_back()
        else:
            self.overlay.hide()
            if self.call_page is not None:
                self.stack.setCurrentWidget(self.call_page)
                bring_to_front(self.window)

    def show_overlay(self) -> None:
        """The small always-on-top window, in the screen's top-right corner."""
        show_overlay(self.window, self.overlay)

    def minimize_ringing(self) -> None:
        """A ringing page was minimized: the overlay shows the ringing call."""
        self.show_overlay()
        self.go_back()

    @Slot()
    def restore_ringing(self) -> None:
        """Back from a minimized ringing call to its page."""
        self.overlay.hide()
        if self._phase is Phase.OUTGOING:
            self.stack.setCurrentWidget(self.outgoing_page)
        elif self._phase is Phase.INCOMING:
            self.stack.setCurrentWidget(self.incoming_page)

    def _hide_ringing_overlay(self) -> None:
        if self.call_page is None:
            self.overlay.hide()

    # --- the end of a call ------------------------------------------------------------

    def end_call(self, event: CallEndEvent) -> None:
        """``on_call_end``'s default action: hide the overlay or go back, drop the page."""
        if event.is_from_minimizing or self.overlay.isVisible():
            self.overlay.hide()
        self._drop_call_page()
        self.go_back()

    # --- keeping the banner in place --------------------------------------------------

    def _place_banner(self) -> None:
        width = min(max(self.banner.minimumWidth(), 420), self.window.width() - 24)
        height = self.banner.sizeHint().height()
        self.banner.setGeometry((self.window.width() - width) // 2, BANNER_TOP, width, height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        resized = watched is self.window and event.type() == QEvent.Type.Resize
        if resized and self.banner.isVisible():
            self._place_banner()
        return False


def _has_window_stacking() -> bool:
    # The offscreen and minimal platforms have none and warn on raise().
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


def bring_to_front(window: QWidget) -> None:
    """Raise and activate ``window`` where the platform stacks windows."""
    if _has_window_stacking():
        window.raise_()
        window.activateWindow()


def prepare_overlay(overlay: QWidget) -> None:
    """Hide a minimize overlay until it is needed, fit for the platform."""
    if not _has_window_stacking():
        # Showing a tool or stay-on-top window raises it, which the offscreen
        # platform refuses with a warning; nothing can be on top of anything there.
        overlay.setWindowFlags(Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
    overlay.hide()


def show_overlay(window: QWidget, overlay: QWidget) -> None:
    """Show ``overlay`` in the top-right corner of ``window``'s screen, in front."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is not None:
        area = screen.availableGeometry()
        size = overlay.sizeHint()
        overlay.move(
            QPoint(area.right() - size.width() - OVERLAY_MARGIN, area.top() + OVERLAY_MARGIN)
        )
    overlay.show()
    bring_to_front(overlay)
