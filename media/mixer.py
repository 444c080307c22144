"""The mixing core of playback: per-source sample buffers, volume, mute, and summing.

Sources are fed on the event loop; blocks are pulled by whichever output runs (a
PortAudio callback thread or the loop's null-output clock), so every method is guarded
by one lock and does only a little numpy work under it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]

MAX_VOLUME = 2.0


@dataclass
class _Source:
    buffer: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    volume: float = 1.0
    muted: bool = False
    # A source plays only once a little audio is queued, so one late packet does not
    # turn into a click of silence every block.
    primed: bool = False


class Mixer:
    """Sums mono int16 sources; each keeps at most ``max_buffer`` samples queued."""

    def __init__(self, prebuffer: int, max_buffer: int) -> None:
        if not 0 <= prebuffer <= max_buffer:
            raise ValueError("need 0 <= prebuffer <= max_buffer")
        self.prebuffer = prebuffer
        self.max_buffer = max_buffer
        self._lock = threading.Lock()
        self._sources: dict[str, _Source] = {}
        self._muted = False
        self.underruns = 0
        """How often a playing source ran dry (each costs a short gap of silence)."""

    def add_source(self, key: str) -> None:
        """Start mixing a source called ``key`` (keeps settings if it already exists)."""
        with self._lock:
            self._sources.setdefault(key, _Source())

    def remove_source(self, key: str) -> None:
        """Stop mixing ``key``; unknown keys are ignored."""
        with self._lock:
            self._sources.pop(key, None)

    def keys(self) -> list[str]:
        """Keys of the sources being mixed."""
        with self._lock:
            return list(self._sources)

    def set_volume(self, key: str, volume: float) -> None:
        """Set a source's gain, 0 (silent) to 2 (double)."""
        if not 0.0 <= volume <= MAX_VOLUME:
            raise ValueError(f"volume must be in 0..{MAX_VOLUME}, got {volume}")
        with self._lock:
            self._source(key).volume = volume

    def volume(self, key: str) -> float:
        """A source's gain."""
        with self._lock:
            return self._source(key).volume

    def set_source_muted(self, key: str, muted: bool) -> None:
        """Mute or unmute one source locally (it keeps being consumed)."""
        with self._lock:
            self._source(key).muted = muted

    def source_muted(self, key: str) -> bool:
        """Whether one source is muted locally."""
        with self._lock:
            return self._source(key).muted

    @property
    def muted(self) -> bool:
        """Whether the whole output is muted."""
        return self._muted

    @muted.setter
    def muted(self, value: bool) -> None:
        self._muted = value

    def push(self, key: str, samples: Int16Array) -> None:
        """Queue mono int16 samples for ``key``; the oldest are dropped past max_buffer."""
        with self._lock:
            source = self._sources.get(key)
            if source is None:
                return
            buf = np.concatenate((source.buffer, samples.astype(np.int16, copy=False)))
            if len(buf) > self.max_buffer:
                # Dropping keeps latency bounded when the sender's clock runs fast.
                buf = buf[len(buf) - self.max_buffer :]
            source.buffer = buf
            if len(buf) >= self.prebuffer:
                source.primed = True

    def pull(self, frames: int) -> Int16Array:
        """Take ``frames`` samples from every source and return their clipped sum."""
        acc = np.zeros(frames, dtype=np.float32)
        with self._lock:
            for source in self._sources.values():
                if not source.primed:
                    continue
                take = min(frames, len(source.buffer))
                chunk = source.buffer[:take]
                source.buffer = source.buffer[take:]
                if take < frames:
                    source.primed = False
                    self.underruns += 1
                if source.muted or source.volume == 0.0:
                    continue
                acc[:take] += chunk.astype(np.float32) * source.volume
            muted = self._muted
        if muted:
            return np.zeros(frames, dtype=np.int16)
        out: Int16Array = np.clip(np.rint(acc), -32768, 32767).astype(np.int16)
        return out

    def _source(self, key: str) -> _Source:
        try:
            return self._sources[key]
        except KeyError:
            raise KeyError(f"no audio source {key!r}") from None
