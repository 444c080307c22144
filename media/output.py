"""A PortAudio output stream that pulls mixed blocks, for :mod:`media.playback`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from media.portaudio import portaudio_guard, stream_closed, stream_opened

log = logging.getLogger(__name__)

# PulseAudio may hold a new stream back for ~2 s after its first few callbacks
# (ENVIRONMENT.md), so a young stream gets longer before it counts as stalled.
STALL_S = 2.0
YOUNG_STALL_S = 5.0
YOUNG_CALLBACKS = 50

Block = npt.NDArray[np.int16]


class DeviceOutput:
    """An open, started ``sounddevice.OutputStream`` (mono int16, fixed block size).

    ``pull(frames)`` runs on PortAudio's thread and must be quick; ``emit(block, t)`` is
    forwarded to the event loop with ``t`` the perf_counter time the block is heard.
    """

    def __init__(
        self,
        sd: Any,
        device: int | str | None,
        rate: int,
        block: int,
        *,
        pull: Callable[[int], Block],
        emit: Callable[[Block, float], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._pull = pull
        self._emit = emit
        self._loop = loop
        self._closing = False
        self._closed = False
        self._finished = False
        self.callbacks = 0
        self.last_callback: float | None = None
        self.device = device
        stream: Any = None
        last_error: Exception | None = None
        # Some hardware devices refuse mono; PulseAudio and most others accept it.
        with portaudio_guard():
            for channels in (1, 2):
                try:
                    stream = sd.OutputStream(
                        samplerate=rate,
                        blocksize=block,
                        channels=channels,
                        dtype="int16",
                        device=device,
                        latency="low",
                        callback=self._callback,
                        finished_callback=self._on_finished,
                    )
                    break
                except sd.PortAudioError as exc:
                    last_error = exc
            if stream is not None:
                stream_opened()
        if stream is None:
            assert last_error is not None
            raise last_error
        self._stream = stream
        try:
            stream.start()
        except Exception:
            self.close()
            raise

    def lost(self) -> bool:
        """Whether the stream ended on its own or stopped calling back."""
        if self._closing:
            return False
        if self._finished or not self._stream.active:
            return True
        last = self.last_callback
        if last is None:
            return False
        limit = YOUNG_STALL_S if self.callbacks < YOUNG_CALLBACKS else STALL_S
        return time.perf_counter() - last > limit

    def close(self) -> None:
        """Stop and close the stream; idempotent."""
        if self._closed:
            return
        self._closed = self._closing = True
        with contextlib.suppress(Exception):
            self._stream.abort()
        with contextlib.suppress(Exception):
            self._stream.close()
        stream_closed()

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        now = time.perf_counter()
        self.callbacks += 1
        self.last_callback = now
        block = self._pull(frames)
        outdata[:] = block.reshape(-1, 1)
        delay = time_info.outputBufferDacTime - time_info.currentTime
        # Some host APIs report zeros or nonsense; only a plausible delay is used.
        played_at = now + delay if 0.0 < delay < 1.0 else now
        if self._closing:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed under us
            self._loop.call_soon_threadsafe(self._emit, block, played_at)

    def _on_finished(self) -> None:
        self._finished = True
