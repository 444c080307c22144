"""Minimizing a call or an audio room into the overlay and back (``controller.minimize``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from app.kit.listeners import Listeners, Unsubscribe
from app.kit.types import MinimizeState


class Minimizable(Protocol):
    """A running call or room: it remembers whether it is shown as the overlay."""

    minimized: bool


class MinimizeController:
    """Shrink what is running into the overlay and back; widgets follow :meth:`subscribe`.

    ``current`` returns the call or room in progress (None when there is none), so one
    controller serves both kits. The flag on the session is what makes the end events
    say ``is_from_minimizing``.
    """

    def __init__(self, current: Callable[[], Minimizable | None]) -> None:
        self._current = current
        self.state = MinimizeState.IDLE
        self._listeners: Listeners[[MinimizeState]] = Listeners("minimize states")

    def subscribe(self, listener: Callable[[MinimizeState], None]) -> Unsubscribe:
        """Follow minimizing and restoring; returns the function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def _set(self, state: MinimizeState) -> None:
        self.state = state
        running = self._current()
        if running is not None:
            running.minimized = state is MinimizeState.MINIMIZING
        self._listeners.emit(state)

    def minimize(self) -> bool:
        """Show the overlay instead of the page; False when nothing runs or already small."""
        if self._current() is None or self.state is MinimizeState.MINIMIZING:
            return False
        self._set(MinimizeState.MINIMIZING)
        return True

    def restore(self) -> bool:
        """Back from the overlay to the page."""
        if self.state is not MinimizeState.MINIMIZING:
            return False
        self._set(MinimizeState.IDLE)
        return True

    def hide(self) -> None:
        """Hide the overlay (what ran has ended while minimized)."""
        if self.state is MinimizeState.MINIMIZING:
            self._set(MinimizeState.IDLE)
