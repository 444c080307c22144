"""Which asyncio tasks are still running whose code lives where a test cares about."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def running_tasks(where: Callable[[str], bool]) -> list[asyncio.Task[object]]:
    """Unfinished tasks (but the current one) whose coroutine's file ``where`` accepts."""
    found: list[asyncio.Task[object]] = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        if not task.done() and task is not asyncio.current_task() and where(filename):
            found.append(task)
    return found
