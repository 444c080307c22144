"""A microphone track: a PortAudio input stream, with silence as the fallback."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from media.errors import DeviceExceptionType, classify_device_error
from media.portaudio import load_sounddevice, portaudio_guard, stream_closed, stream_opened
from media.synthetic import AUDIO_FRAME_SAMPLES, AUDIO_RATE, SyntheticAudioTrack
from media.threads import wake_queue

log = logging.getLogger(__name__)

# PortAudio delivers 20 ms every 20 ms; this long without data means the device is gone.
STALL_S = 3.0
QUEUE_FRAMES = 5  # 100 ms: older audio is dropped rather than delayed

StreamFactory = Callable[..., Any]
"""Builds a ``sounddevice.InputStream``-like object from its keyword arguments; a test seam."""
ErrorCallback = Callable[[DeviceExceptionType], None]


def _default_stream_factory(**kwargs: Any) -> Any:
    sd = load_sounddevice()
    if sd is None:
        raise OSError("PortAudio library not found")
    return sd.InputStream(**kwargs)


class MicrophoneTrack(MediaStreamTrack):
    """48 kHz mono s16 audio in 20 ms frames from a PortAudio input device.

    When the device cannot be opened, errors, or stops delivering, ``on_error`` is
    called on the event loop with a ``DeviceExceptionType`` and the track carries on
    with silence, so a call never ends for want of a microphone.
    """

    kind = "audio"

    def __init__(
        self,
        device: int | str | None = None,
        *,
        on_error: ErrorCallback | None = None,
        stream_factory: StreamFactory = _default_stream_factory,
    ) -> None:
        super().__init__()
        self.device = device
        self._on_error = on_error
        self._factory = stream_factory
        self._stream: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # None in the queue wakes a waiting recv() when the track stops.
        self._queue: asyncio.Queue[npt.NDArray[np.int16] | None] | None = None
        self._pending = np.zeros(0, dtype=np.int16)  # callback thread only
        self._closing = threading.Event()
        self._samples_sent = 0
        self._last_data_at: float | None = None
        self._started_at: float | None = None
        self._silence = SyntheticAudioTrack("silence")
        self.failure: DeviceExceptionType | None = None
        """Why the track fell back to silence, or None while the device works."""
        self.callbacks = 0
        """How many PortAudio callbacks ran (for tests and stats)."""

    @property
    def using_fallback(self) -> bool:
        """Whether the track is sending silence instead of the device."""
        return self.failure is not None

    def start(self) -> None:
        """Open and start the input stream. Needs a running event loop."""
        if self._loop is not None or self.readyState != "live":
            return
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(maxsize=QUEUE_FRAMES)
        self._started_at = time.perf_counter()
        try:
            with portaudio_guard():
                stream = self._factory(
                    samplerate=AUDIO_RATE,
                    channels=1,
                    dtype="int16",
                    blocksize=AUDIO_FRAME_SAMPLES,
                    device=self.device,
                    latency="low",
                    callback=self._callback,
                    finished_callback=self._on_finished,
                )
                stream_opened()
        except Exception as exc:
            self._fail(classify_device_error(exc), exc)
            return
        self._stream = stream
        try:
            stream.start()
        except Exception as exc:
            self._close_stream()
            self._fail(classify_device_error(exc), exc)

    def stop(self) -> None:
        """End the track and close the input stream."""
        super().stop()
        self._close_stream()
        wake_queue(self._loop, self._queue)
        self._silence.stop()

    def close(self) -> None:
        """Same as stop(); idempotent."""
        self.stop()

    async def recv(self) -> AudioFrame:
        """The next 20 ms of microphone audio, or silence after a failure."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._loop is None:
            self.start()
        queue = self._queue
        assert queue is not None
        if self.failure is None:
            since = self._last_data_at or self._started_at or time.perf_counter()
            wait = since + STALL_S - time.perf_counter()
            with contextlib.suppress(TimeoutError):
                samples = await asyncio.wait_for(queue.get(), max(wait, 0.001))
                if samples is None:
                    raise MediaStreamError  # stopped while waiting
                return self._frame(samples)
            if self.readyState != "live":
                raise MediaStreamError
            if self.failure is None:
                kind = (
                    DeviceExceptionType.DEVICE_UNPLUGGED
                    if self._last_data_at is not None
                    else DeviceExceptionType.GENERIC
                )
                self._fail(kind, None)
        frame = await self._silence.recv()
        return self._frame(frame.to_ndarray().reshape(-1).astype(np.int16, copy=False))

    def _frame(self, samples: npt.NDArray[np.int16]) -> AudioFrame:
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        # Timestamps count samples, continuous across a fallback to silence.
        frame.pts = self._samples_sent
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._samples_sent += len(samples)
        return frame

    def _fail(self, kind: DeviceExceptionType, exc: BaseException | None) -> None:
        if self.failure is not None or self.readyState != "live":
            return
        self.failure = kind
        log.warning("microphone %r failed (%s): %s; sending silence", self.device, kind, exc)
        self._close_stream()
        if self._on_error is not None:
            try:
                self._on_error(kind)
            except Exception:
                log.exception("microphone error callback failed")

    def _close_stream(self) -> None:
        self._closing.set()
        stream, self._stream = self._stream, None
        if stream is None:
            return
        with contextlib.suppress(Exception):
            stream.abort()
        with contextlib.suppress(Exception):
            stream.close()
        stream_closed()

    # -- PortAudio's thread --------------------------------------------------------------

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.callbacks += 1
        if self._closing.is_set():
            return
        # PortAudio may hand over other block sizes than asked; re-cut to 20 ms frames.
        samples = np.asarray(indata, dtype=np.int16).reshape(frames, -1)[:, 0]
        pending = np.concatenate((self._pending, samples))
        while len(pending) >= AUDIO_FRAME_SAMPLES:
            self._post(self._deliver, pending[:AUDIO_FRAME_SAMPLES].copy())
            pending = pending[AUDIO_FRAME_SAMPLES:]
        self._pending = pending

    def _on_finished(self) -> None:
        if not self._closing.is_set():
            self._post(self._fail, DeviceExceptionType.DEVICE_UNPLUGGED, None)

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed under us
            loop.call_soon_threadsafe(fn, *args)

    # -- on the loop ----------------------------------------------------------------------

    def _deliver(self, samples: npt.NDArray[np.int16]) -> None:
        queue = self._queue
        if queue is None or self.failure is not None or self.readyState != "live":
            return
        if queue.full():
            queue.get_nowait()  # a slow consumer gets fresh audio, not growing delay
        queue.put_nowait(samples)
        self._last_data_at = time.perf_counter()
