"""What a bot saw: every kit event published on its bus, in order, and waits for more."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.kit.bus import EventBus

__all__ = ["EventRecorder", "Recorded", "SeenEvent"]


@dataclass(frozen=True)
class SeenEvent:
    """One kit event a bot saw: ``path`` like ``call.user.on_enter``, and its arguments."""

    path: str
    args: tuple[object, ...] = field(compare=False)


class EventRecorder:
    """Records every event of ``bus``; bots expose it as ``seen``, ``saw`` and ``expect``."""

    def __init__(self, bus: EventBus) -> None:
        self.seen: list[SeenEvent] = []
        self._waiters: list[tuple[str, int, asyncio.Future[SeenEvent]]] = []
        self.stop = bus.subscribe(self._record)

    def saw(self, path: str) -> list[SeenEvent]:
        """Every event seen at ``path`` (``call.user.on_enter``), oldest first."""
        return [event for event in self.seen if event.path == path]

    async def expect(self, path: str, timeout: float = 10.0, *, count: int = 1) -> SeenEvent:
        """The ``count``-th event at ``path``: already seen, or the next ones to come.

        Raises ``TimeoutError`` after ``timeout`` seconds.
        """
        if count < 1:
            raise ValueError("count starts at 1")
        seen = self.saw(path)
        if len(seen) >= count:
            return seen[count - 1]
        future: asyncio.Future[SeenEvent] = asyncio.get_running_loop().create_future()
        entry = (path, count, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _record(self, path: str, args: tuple[object, ...]) -> None:
        event = SeenEvent(path, args)
        self.seen.append(event)
        for wanted, count, future in list(self._waiters):
            if wanted == path and not future.done() and len(self.saw(path)) >= count:
                future.set_result(event)


class Recorded:
    """What a bot saw, as ``seen``, ``saw`` and ``expect`` (the bots share them)."""

    recorder: EventRecorder

    @property
    def seen(self) -> list[SeenEvent]:
        """Every kit event the bot saw, oldest first."""
        return self.recorder.seen

    def saw(self, path: str) -> list[SeenEvent]:
        """Every event seen at ``path`` (``call.user.on_enter``), oldest first."""
        return self.recorder.saw(path)

    async def expect(self, path: str, timeout: float = 10.0, *, count: int = 1) -> SeenEvent:
        """The ``count``-th event at ``path``: already seen, or the next ones to come."""
        return await self.recorder.expect(path, timeout, count=count)
