"""The one task keeper: fire-and-forget work that stays referenced and whose failures surface.

asyncio keeps only a weak reference to a task, so a task nobody holds may vanish in the
middle of its work, and an exception nobody retrieves is reported only when the task is
collected, if ever. Everything in Parley that starts background work — the bus, sessions,
the invitation service, the account, the presenters — does it through a
:class:`TaskKeeper`: it holds each task until it is done, logs a failure and announces it
to :attr:`TaskKeeper.failures` (the window shows it), and can wait for or cancel the lot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from app.kit.listeners import Listeners

__all__ = ["TaskKeeper"]

log = logging.getLogger("parley.tasks")


class TaskKeeper:
    """Tasks of one owner (``what`` names it in logs); must be used on its loop's thread."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._tasks: set[asyncio.Task[Any]] = set()
        #: ``(description)`` of every task that raised: "<owner>: <task>: <error>".
        self.failures: Listeners[[str]] = Listeners(f"{what} task failures")

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str = "") -> asyncio.Task[Any]:
        """Start ``coro`` now as a task kept until it is done; ``what`` names it."""
        task = asyncio.get_running_loop().create_task(coro, name=what or None)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    @property
    def pending(self) -> int:
        """How many tasks are not done yet."""
        return sum(1 for task in self._tasks if not task.done())

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        """The tasks not done yet."""
        return frozenset(task for task in self._tasks if not task.done())

    async def drain(self) -> None:
        """Wait until every task is done, those they start meanwhile included."""
        while others := self._others():
            await asyncio.gather(*others, return_exceptions=True)

    async def close(self) -> None:
        """Cancel every task (but the caller's own) and wait until each has stopped."""
        while others := self._others():
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

    def _others(self) -> list[asyncio.Task[Any]]:
        current = asyncio.current_task()
        return [task for task in self._tasks if task is not current and not task.done()]

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("%s: %s failed", self._what, task.get_name(), exc_info=error)
            self.failures.emit(f"{task.get_name()}: {error}")
