"""A call ringing while the person is away from the window: a desktop notification with
Accept and Decline, and the window asking for attention (the task bar flashes).

"Away" is the window minimised, hidden or not the active one; in front, the banner and
the ringtone say enough. Accepting from the notification brings the window to the
front on the call.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication, QWidget

from app.kit.call.invitations import Phase
from app.kit.notifications import CallNotifier
from app.kit.tasks import TaskKeeper
from app.kit.views.call import IncomingCallView
from app.qt.call import CallPresenter
from app.qt.navigation import bring_to_front

__all__ = ["CallAlerts", "window_is_away"]


def window_is_away(window: QWidget) -> bool:
    """Whether the person is probably not looking at ``window``."""
    return window.isMinimized() or not window.isVisible() or not window.isActiveWindow()


class CallAlerts(QObject):
    """Follows the call presenter; notifies while a call rings here and the window is
    away, withdraws the notification when it stops ringing."""

    def __init__(
        self,
        calls: CallPresenter,
        window: QWidget,
        notifier: CallNotifier,
        tasks: TaskKeeper,
        *,
        is_away: Callable[[], bool] | None = None,
        enabled: Callable[[], bool] = lambda: True,
    ) -> None:
        """``enabled`` says whether notifications are wanted now (the preference); the
        window asks for attention either way."""
        super().__init__(window)
        self._enabled = enabled
        self._calls = calls
        self._window = window
        self._notifier = notifier
        self._tasks = tasks
        #: Whether the person is away from the window now (replaceable: tests).
        self.is_away: Callable[[], bool] = is_away or (lambda: window_is_away(window))
        self._view: IncomingCallView | None = None
        self._ringing = False
        calls.incoming_view_changed.connect(self._on_incoming_view)
        calls.phase_changed.connect(self._on_phase)

    @Slot(IncomingCallView)
    def _on_incoming_view(self, view: IncomingCallView) -> None:
        self._view = view

    @Slot(Phase)
    def _on_phase(self, phase: Phase) -> None:
        if phase is Phase.INCOMING and not self._ringing:
            self._ringing = True
            view = self._view
            if view is None or not self.is_away():
                return
            QApplication.alert(self._window, 0)  # until the window is activated
            if self._enabled():
                others = max(0, len(view.invitees) - 1)
                self._tasks.spawn(
                    self._notifier.ring(
                        view.caller.name,
                        view.is_video,
                        others=others,
                        on_accept=self._accept,
                        on_decline=self._decline,
                    ),
                    "notify an incoming call",
                )
        elif phase is not Phase.INCOMING and self._ringing:
            self._ringing = False
            self._tasks.spawn(self._notifier.withdraw(), "withdraw a call notification")

    async def close(self) -> None:
        """Withdraw a notification still shown and let go of the service."""
        await self._notifier.close()

    def _accept(self) -> None:
        if self._calls.phase is Phase.INCOMING:
            self._calls.accept()
        bring_to_front(self._window)

    def _decline(self) -> None:
        if self._calls.phase is Phase.INCOMING:
            self._calls.decline()
