"""Audio levels: RMS dBFS per stream, throttled, with a speaking flag.

Pure numpy and no threads: feed it decoded frames and it calls back at most
``rate_hz`` times a second per stream.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SILENCE_DBFS = -100.0
FULL_SCALE = 32768.0

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


class LevelMeter:
    """Per-stream levels, reported at most ``rate_hz`` per stream, with a speaking flag.

    A stream is speaking while its level is above ``threshold_dbfs`` and for ``hold_s``
    after it last was, so short pauses between words do not flicker the ring. The level
    reported is the loudest block since the previous report.
    """

    def __init__(
        self,
        callback: LevelCallback,
        *,
        rate_hz: float = 10.0,
        threshold_dbfs: float = -45.0,
        hold_s: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError("rate must be positive")
        if hold_s < 0:
            raise ValueError("hold must not be negative")
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
        stream.peak_dbfs = max(stream.peak_dbfs, level)
        if level > self._threshold:
            stream.last_loud = now
        stream.speaking = stream.last_loud is not None and now - stream.last_loud <= self._hold
        # The epsilon absorbs float error in clocks stepping in block-sized increments.
        if stream.last_report is None or now - stream.last_report >= self._interval - 1e-9:
            self._callback(key, stream.peak_dbfs, stream.speaking)
            stream.last_report = now
            stream.peak_dbfs = SILENCE_DBFS
        return level

    def is_speaking(self, key: str) -> bool:
        """The latest speaking flag of ``key`` (False for unknown streams)."""
        stream = self._streams.get(key)
        return stream is not None and stream.speaking

    def remove(self, key: str) -> None:
        """Forget a stream (a user left)."""
        self._streams.pop(key, None)
