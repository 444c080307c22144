"""Absolute-time pacing for media sources and clock-driven outputs.

Relative sleeps on the qasync loop can end ~5% early (Qt's coarse timers), so a source
that sleeps "one frame period" each time drifts. A pacer instead computes every frame's
due time from a fixed start and sleeps until then, looping if a sleep ends early.
"""

from __future__ import annotations

import asyncio
import time

# If a consumer stalls for longer than this, skip the missed frames instead of
# bursting them out, which would only fill the receiver's jitter buffer.
MAX_LAG_S = 0.5


class FramePacer:
    """Hands out frame indices at ``start + index * period`` on ``time.perf_counter``."""

    def __init__(self, period_s: float) -> None:
        if period_s <= 0:
            raise ValueError(f"period must be positive, got {period_s}")
        self.period_s = period_s
        self._start: float | None = None
        self._index = 0

    @property
    def started(self) -> bool:
        """Whether the first frame has been handed out."""
        return self._start is not None

    def next_due(self) -> float:
        """The perf_counter time at which the next frame is (or was) due."""
        if self._start is None:
            return time.perf_counter()
        return self._start + self._index * self.period_s

    async def wait_next(self) -> int:
        """Sleep until the next frame is due and return its index (0, 1, 2, ...)."""
        now = time.perf_counter()
        if self._start is None:
            self._start = now
            self._index = 0
            return self._claim()
        due = self.next_due()
        if now - due > MAX_LAG_S:
            # Jump the index forward so timestamps keep matching wall time.
            self._index = int((now - self._start) / self.period_s)
            return self._claim()
        # A sleep may end a little early; sleep again until the due time really passed
        # (bounded: each retry sleeps only the small remainder).
        for _ in range(8):
            remaining = due - time.perf_counter()
            if remaining <= 0:
                break
            await asyncio.sleep(remaining)
        return self._claim()

    def _claim(self) -> int:
        index = self._index
        self._index += 1
        return index
