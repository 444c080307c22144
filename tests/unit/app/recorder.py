"""Records a session's events and awaits conditions on them without polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from app.kit.account import Account, AccountEvent


class Recorder:
    """A session and every event it published, in order."""

    def __init__(self, session: Account) -> None:
        self.session = session
        self.events: list[AccountEvent] = []
        self._changed = asyncio.Event()
        session.subscribe(self._record)

    def _record(self, event: AccountEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[AccountEvent]) -> list[AccountEvent]:
        return [e for e in self.events if isinstance(e, kind)]

    async def until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait for the session's events to make ``condition`` true (checked on each)."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()
