"""Desktop notifications for a call ringing while the person is away from the window
(no Qt): the caller's name, Accept and Decline buttons, withdrawn when the call stops
ringing.

On Linux through the freedesktop notification service on the session D-Bus
(``desktop-notifier``, which sends the notification id as the specification's uint32;
QtDBus sends int32, which real daemons refuse); macOS and Windows through their
notification centres. With no notification service (no session bus, a headless
machine) Parley rings and shows its banner as before: the first failure is logged and
notifications are switched off for the run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from desktop_notifier import DesktopNotifier

log = logging.getLogger("parley.notifications")

__all__ = ["CallNotifier", "DesktopCallNotifier", "NoNotifications"]

#: How long the notification asks to stay (the call times out on its own before).
RING_TIMEOUT_S = 60


class CallNotifier(Protocol):
    """Shows and withdraws the notification of a ringing call."""

    async def ring(
        self,
        caller_name: str,
        is_video: bool,
        *,
        others: int,
        on_accept: Callable[[], None],
        on_decline: Callable[[], None],
    ) -> None: ...

    async def withdraw(self) -> None: ...

    async def close(self) -> None: ...


class DesktopCallNotifier:
    """:class:`CallNotifier` on the desktop's notification service."""

    def __init__(self, app_name: str = "Parley", icon: Path | None = None) -> None:
        self._app_name = app_name
        self._icon = icon
        self._notifier: DesktopNotifier | None = None
        # The identifier of the notification shown, if one is.
        self._shown: str | None = None
        self.available = True
        """False once the notification service failed (no more attempts this run)."""

    def _get(self) -> DesktopNotifier:
        if self._notifier is None:
            from desktop_notifier import DesktopNotifier, Icon

            icon = Icon(path=self._icon) if self._icon is not None else None
            self._notifier = DesktopNotifier(app_name=self._app_name, app_icon=icon)
        return self._notifier

    async def ring(
        self,
        caller_name: str,
        is_video: bool,
        *,
        others: int = 0,
        on_accept: Callable[[], None],
        on_decline: Callable[[], None],
    ) -> None:
        """Show "<caller> is calling you" with Accept and Decline; replaces one shown."""
        if not self.available:
            return
        await self.withdraw()
        from desktop_notifier import Button, Urgency

        kind = "video call" if is_video else "voice call"
        message = f"Incoming {kind}" + (f" with {others} others" if others else "")
        notifier = self._get()
        try:
            shown = await notifier.send(
                title=f"{caller_name} is calling you",
                message=message,
                urgency=Urgency.Critical,
                buttons=[
                    Button(title="Accept", on_pressed=on_accept, identifier="accept"),
                    Button(title="Decline", on_pressed=on_decline, identifier="decline"),
                ],
                timeout=RING_TIMEOUT_S,
            )
            # desktop-notifier logs a failure (no session bus, no daemon, a daemon that
            # refuses) and returns all the same: only a delivered one is current.
            if shown not in await notifier.get_current_notifications():
                raise RuntimeError("the notification service did not take it")
        except Exception as exc:
            self._give_up(exc)
            return
        self._shown = shown

    async def withdraw(self) -> None:
        """Take the notification away (answered, declined, cancelled, timed out)."""
        shown, self._shown = self._shown, None
        notifier = self._notifier
        if shown is None or notifier is None:
            return
        try:
            # A button pressed or the notification dismissed: already gone.
            if shown in await notifier.get_current_notifications():
                await notifier.clear(shown)
        except Exception:
            log.debug("could not withdraw a call notification", exc_info=True)

    async def close(self) -> None:
        """Withdraw what is shown and let go of the notification service."""
        await self.withdraw()
        # desktop-notifier has no public close: its D-Bus backend keeps a session bus
        # connection open for the buttons' signals, which would outlive the app.
        backend = getattr(self._notifier, "_backend", None)
        bus = getattr(backend, "bus", None)
        if bus is not None:
            with contextlib.suppress(Exception):
                bus.disconnect()
                await bus.wait_for_disconnect()

    def _give_up(self, exc: Exception) -> None:
        self.available = False
        log.warning("desktop notifications are off for this run: %s", exc or type(exc).__name__)


class NoNotifications:
    """:class:`CallNotifier` that shows nothing (tests; notifications switched off)."""

    async def ring(
        self,
        caller_name: str,
        is_video: bool,
        *,
        others: int = 0,
        on_accept: Callable[[], None],
        on_decline: Callable[[], None],
    ) -> None:
        return None

    async def withdraw(self) -> None:
        return None

    async def close(self) -> None:
        return None
