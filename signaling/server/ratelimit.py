"""Per-connection token bucket: a flood gets ``rate_limited`` answers, not a dropped server;
and a budget of log lines, so a flood of bad packets cannot fill the disk either."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable


class TokenBucket:
    """Allows ``rate`` requests a second on average and bursts of up to ``burst``."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()

    def take(self) -> bool:
        """Spend one token; False when the bucket is empty."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class LogBudget:
    """At most ``per_minute`` lines a minute (bursts of as many) for each kind of trouble;
    what is left out is counted and said with the next line of that kind."""

    def __init__(
        self,
        logger: logging.Logger,
        per_minute: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._left_out: Counter[str] = Counter()

    def log(
        self,
        kind: str,
        message: str,
        *args: object,
        level: int = logging.WARNING,
        exc_info: bool = False,
    ) -> None:
        """Log ``message % args`` at ``level`` if the budget of ``kind`` allows."""
        bucket = self._buckets.get(kind)
        if bucket is None:
            bucket = TokenBucket(self._per_minute / 60, self._per_minute, self._clock)
            self._buckets[kind] = bucket
        if not bucket.take():
            self._left_out[kind] += 1
            return
        left_out = self._left_out.pop(kind, 0)
        if left_out:
            message, args = message + " (and %d more not logged)", (*args, left_out)
        self._log.log(level, message, *args, exc_info=exc_info)
