"""Audio levels: RMS dBFS per stream, throttled, with a speaking flag.

Pure numpy and no threads: feed it decoded frames and it calls back at most
``rate_hz`` times a second per stream. A stream that stops being fed (its sender
suppresses silence, or the link stalled) is reported silent once it has been idle for
``idle_s``, by a timer on the event loop that fed it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SILENCE_DBFS = -100.0
FULL_SCALE = 32768.0
MIN_IDLE_S = 0.25
"""The shortest default idle time: blocks arrive every 20 ms, late by up to ~0.1 s."""

LevelCallback = Callable[[str, float, bool], None]


def audio_level_dbfs(samples: npt.ArrayLike) -> float:
    """RMS level of int16-scale samples in dBFS (a full-scale sine is about -3).

    Floats are taken as int16 scale too; silence gives ``SILENCE_DBFS`` (-100).
    """
    data = np.asarray(samples, dtype=np.float64).reshape(-1)
    if data.size == 0:
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(np.square(data))))
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms / FULL_SCALE))


@dataclass
class _Stream:
    speaking: bool = False
    last_loud: float | None = None
    last_report: float | None = None
    peak_dbfs: float = SILENCE_DBFS
    fed_at: float = 0.0  # self._clock() at the latest feed, for the idle check
    idle_timer: asyncio.TimerHandle | None = None
    reported_silent: bool = False  # the latest report was (SILENCE_DBFS, not speaking)


class LevelMeter:
    """Per-stream levels, reported at most ``rate_hz`` per stream, with a speaking flag.

    A stream is speaking while its level is above ``threshold_dbfs`` and for ``hold_s``
    after it last was, so short pauses between words do not flicker the ring. The level
    reported is the loudest block since the previous report.

    Nothing arrives from a sender that suppresses silence (``media.silence``), so the
    last report would stick, "speaking" included. A stream fed nothing for ``idle_s``
    (default: ``hold_s``, at least ``MIN_IDLE_S``) is reported once as
    ``(SILENCE_DBFS, False)`` and :meth:`is_speaking` turns False. The report comes
    from a timer on the running event loop of whoever fed the stream; fed from a
    thread without a loop, only :meth:`is_speaking` notices.
    """

    def __init__(
        self,
        callback: LevelCallback,
        *,
        rate_hz: float = 10.0,
        threshold_dbfs: float = -45.0,
        hold_s: float = 0.3,
        idle_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError("rate must be positive")
        if hold_s < 0:
            raise ValueError("hold must not be negative")
        idle = max(hold_s, MIN_IDLE_S) if idle_s is None else idle_s
        if idle <= 0:
            raise ValueError("idle time must be positive")
        self._idle = idle
        self._callback = callback
        self._interval = 1.0 / rate_hz
        self._threshold = threshold_dbfs
        self._hold = hold_s
        self._clock = clock
        self._streams: dict[str, _Stream] = {}

    def feed(self, key: str, samples: npt.ArrayLike, now: float | None = None) -> float:
        """Measure one block of ``key``'s audio; returns its dBFS."""
        now = self._clock() if now is None else now
        level = audio_level_dbfs(samples)
        stream = self._streams.setdefault(key, _Stream())
        stream.fed_at = self._clock()
        if stream.idle_timer is None:
            self._arm(key, stream, self._idle)
        stream.peak_dbfs = max(stream.peak_dbfs, level)
        if level > self._threshold:
            stream.last_loud = now
        stream.speaking = stream.last_loud is not None and now - stream.last_loud <= self._hold
        # The epsilon absorbs float error in clocks stepping in block-sized increments.
        if stream.last_report is None or now - stream.last_report >= self._interval - 1e-9:
            stream.reported_silent = stream.peak_dbfs <= SILENCE_DBFS and not stream.speaking
            self._callback(key, stream.peak_dbfs, stream.speaking)
            stream.last_report = now
            stream.peak_dbfs = SILENCE_DBFS
        return level

    def is_speaking(self, key: str) -> bool:
        """The latest speaking flag of ``key`` (False for unknown and idle streams)."""
        stream = self._streams.get(key)
        return (
            stream is not None
            and stream.speaking
            and self._clock() - stream.fed_at < self._idle - 1e-9
        )

    def remove(self, key: str) -> None:
        """Forget a stream (a user left)."""
        stream = self._streams.pop(key, None)
        if stream is not None and stream.idle_timer is not None:
            stream.idle_timer.cancel()

    def _arm(self, key: str, stream: _Stream, delay: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # fed from a thread without an event loop: no timer
        stream.idle_timer = loop.call_later(delay, self._check_idle, key, stream)

    def _check_idle(self, key: str, stream: _Stream) -> None:
        stream.idle_timer = None
        if self._streams.get(key) is not stream:
            return  # removed meanwhile
        idle_for = self._clock() - stream.fed_at
        if idle_for < self._idle - 1e-3:
            # Fed since the timer was set: look again when it could be idle.
            self._arm(key, stream, self._idle - idle_for)
            return
        stream.speaking = False
        stream.last_loud = None
        stream.peak_dbfs = SILENCE_DBFS
        if not stream.reported_silent:
            stream.reported_silent = True
            stream.last_report = None  # a stream that comes back is reported at once
            self._callback(key, SILENCE_DBFS, False)
