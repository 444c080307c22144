"""Waiting for a condition in async tests, without guessing a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` every 20 ms; ``TimeoutError`` after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        # Polling on purpose: the state belongs to media tasks that signal no event.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
