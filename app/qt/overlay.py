"""The one minimize overlay, shared by calls and rooms: its buttons act on what it shows.

The overlay's intents (restore, microphone, leave) go to the call presenter, the room
presenter or the navigation, by what the overlay stands for now
(:attr:`Navigator.overlay_for`); minimizing a ringing page shows the ringing call in it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from app.kit.call.phases import Phase
from app.kit.views.call import IncomingCallView, OutgoingCallView
from app.qt.call import CallPresenter
from app.qt.navigation import Navigator, Shown
from app.qt.room import RoomPresenter

__all__ = ["OverlayIntents"]


class OverlayIntents(QObject):
    """Routes the overlay's buttons; emits what a minimized ringing page shows."""

    outgoing_ringing = Signal(OutgoingCallView)
    """A minimized outgoing call: what the overlay shows."""
    incoming_ringing = Signal(IncomingCallView)
    """A minimized incoming call: what the overlay shows."""

    def __init__(
        self,
        navigator: Navigator,
        calls: CallPresenter,
        rooms: RoomPresenter,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._navigator = navigator
        self._calls = calls
        self._rooms = rooms
        self._incoming: IncomingCallView | None = None
        calls.incoming_view_changed.connect(self._on_incoming_view)

    @Slot(IncomingCallView)
    def _on_incoming_view(self, view: IncomingCallView) -> None:
        self._incoming = view

    @Slot()
    def minimize_ringing(self) -> None:
        """A ringing page's minimize button: the overlay shows the ringing call."""
        outgoing = self._calls.ringing.outgoing
        if self._calls.phase is Phase.OUTGOING and outgoing is not None:
            self.outgoing_ringing.emit(outgoing)
        elif self._incoming is not None:
            self.incoming_ringing.emit(self._incoming)
        self._navigator.minimize_ringing()

    @Slot()
    def restore(self) -> None:
        shown = self._navigator.overlay_for
        if shown is Shown.ROOM:
            self._rooms.restore()
        elif shown is Shown.CALL:
            self._calls.restore()
        else:
            self._navigator.restore_ringing()

    @Slot(bool)
    def set_microphone(self, on: bool) -> None:
        if self._navigator.overlay_for is Shown.ROOM:
            self._rooms.set_microphone(on)
        else:
            self._calls.set_microphone(on)

    @Slot()
    def leave(self) -> None:
        if self._navigator.overlay_for is Shown.ROOM:
            self._rooms.leave()
        else:
            self._calls.leave()
