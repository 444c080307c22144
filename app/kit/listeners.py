"""The one listener list of the kit: ``subscribe(fn)`` returns the function that unsubscribes.

Sessions, kits, the bus, the account and the stores announce their changes to plain
callables through a :class:`Listeners`. A listener that raises is logged and the others
are still called: one broken observer (a page, a test's recorder) must never break the
thing it observes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

__all__ = ["Listeners", "Unsubscribe"]

log = logging.getLogger("parley.listeners")

P = ParamSpec("P")

#: What ``subscribe`` returns: call it to stop listening (idempotent).
Unsubscribe = Callable[[], None]


class Listeners(Generic[P]):
    """Callables that want to hear of something, called in subscription order."""

    def __init__(self, what: str) -> None:
        """``what`` names the announcements in error logs (``"call session changes"``)."""
        self._what = what
        self._listeners: list[Callable[P, None]] = []

    def subscribe(self, listener: Callable[P, None]) -> Unsubscribe:
        """Call ``listener`` with every announcement from now on."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Tell every listener (a copy of the list: one may unsubscribe while called)."""
        for listener in tuple(self._listeners):
            try:
                listener(*args, **kwargs)
            except Exception:
                log.exception("a listener of %s failed", self._what)

    def clear(self) -> None:
        """Forget every listener."""
        self._listeners.clear()

    def __len__(self) -> int:
        return len(self._listeners)
