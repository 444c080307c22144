"""A track slot: one sender track whose source can be swapped or turned off at runtime.

The peer connection sends the slot; switching camera or microphone replaces the slot's
source, so the call is never renegotiated. Timestamps are re-stamped on the slot's own
timeline so they never jump backwards when the source changes, and audio leaves in one
format (s16, mono, 48 kHz) whatever the source: encoders downstream (PyAV's resampler
inside aiortc's Opus encoder) fail on a format change mid-stream.
"""

from __future__ import annotations

import fractions
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, AudioResampler, VideoFrame
from av.frame import Frame
from av.packet import Packet

from media.clock import FramePacer
from media.synthetic import AUDIO_FRAME_SAMPLES, AUDIO_RATE, VIDEO_CLOCK_RATE

log = logging.getLogger(__name__)


class TrackSlot(MediaStreamTrack):
    """A ``MediaStreamTrack`` proxy for a replaceable source (or none).

    With no source it sends black frames (video) or silence (audio) — or, with
    ``send_when_off=False``, nothing until a source is set.
    """

    def __init__(
        self,
        kind: Literal["audio", "video"],
        source: MediaStreamTrack | None = None,
        *,
        width: int = 640,
        height: int = 480,
        fps: int = 30,
        send_when_off: bool = True,
    ) -> None:
        super().__init__()
        if kind not in ("audio", "video"):
            raise ValueError(f"kind must be audio or video, got {kind!r}")
        self.kind = kind
        self._check(source)
        self._source = source
        self._send_when_off = send_when_off
        self._width, self._height = width, height
        self._pacer = FramePacer(AUDIO_FRAME_SAMPLES / AUDIO_RATE if kind == "audio" else 1 / fps)
        self._started_at: float | None = None
        self._last_pts = -1
        self._samples = 0
        self._generation = 0
        self._resampler: AudioResampler | None = None
        self._resampling_from: tuple[str, str, int] | None = None
        #: Sees every block of real audio leaving the slot (s16 mono 48 kHz samples;
        #: nothing while off): the local speaker's level meter listens here.
        self.on_audio: Callable[[npt.NDArray[np.int16]], object] | None = None

    @property
    def source(self) -> MediaStreamTrack | None:
        """The current source, None when off."""
        return self._source

    def replace(self, source: MediaStreamTrack | None, *, stop_old: bool = True) -> None:
        """Send ``source`` from now on (None turns the device off).

        The old source is stopped unless ``stop_old`` is False, which releases its
        device (a camera's light goes off).
        """
        self._check(source)
        if source is self._source:
            return
        old, self._source = self._source, source
        self._generation += 1
        if old is not None and stop_old:
            old.stop()

    def stop(self) -> None:
        """End the slot and stop its source."""
        source, self._source = self._source, None
        if source is not None:
            source.stop()
        super().stop()

    def close(self) -> None:
        """Same as stop(); idempotent."""
        self.stop()

    async def recv(self) -> Frame | Packet[Any]:
        """The next frame of the current source, or a blank one when off."""
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            source, generation = self._source, self._generation
            if source is None:
                if not self._send_when_off:
                    # Wait for a source without sending anything.
                    await self._pacer.wait_next()
                    continue
                await self._pacer.wait_next()
                return self._stamp(self._blank())
            try:
                frame = await source.recv()
            except MediaStreamError:
                if generation != self._generation:
                    continue  # replaced while we waited: read the new source
                log.info("%s slot source ended; sending blank", self.kind)
                self._source = None
                self._generation += 1
                continue
            if generation != self._generation:
                continue  # a frame of the old source, already replaced
            if isinstance(frame, Packet):
                return frame  # pre-encoded media carries its own timing
            if isinstance(frame, AudioFrame):
                converted = self._to_canonical_audio(frame)
                if converted is None:
                    continue  # the resampler is still filling up
                frame = converted
                if self.on_audio is not None:
                    self.on_audio(frame.to_ndarray().reshape(-1).astype(np.int16, copy=False))
            return self._stamp(frame)

    def _to_canonical_audio(self, frame: AudioFrame) -> AudioFrame | None:
        shape = (frame.format.name, frame.layout.name, frame.sample_rate)
        if shape == ("s16", "mono", AUDIO_RATE):
            return frame
        if self._resampling_from != shape:
            self._resampler = AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
            self._resampling_from = shape
        assert self._resampler is not None
        out = self._resampler.resample(frame)
        if not out:
            return None
        if len(out) == 1:
            return out[0]
        samples = np.concatenate([f.to_ndarray() for f in out], axis=1)
        merged = AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        merged.sample_rate = AUDIO_RATE
        return merged

    def _check(self, source: MediaStreamTrack | None) -> None:
        if source is not None and source.kind != self.kind:
            raise ValueError(f"a {self.kind} slot cannot carry a {source.kind} track")

    def _blank(self) -> Frame:
        if self.kind == "audio":
            samples = np.zeros((1, AUDIO_FRAME_SAMPLES), dtype=np.int16)
            audio = AudioFrame.from_ndarray(samples, format="s16", layout="mono")
            audio.sample_rate = AUDIO_RATE
            return audio
        w, h = self._width, self._height
        black = np.empty((h * 3 // 2, w), dtype=np.uint8)
        black[:h] = 16  # video-range black
        black[h:] = 128
        return VideoFrame.from_ndarray(black, format="yuv420p")

    def _stamp(self, frame: Frame) -> Frame:
        if isinstance(frame, AudioFrame):
            # Audio timestamps count samples, continuous across sources.
            rate = frame.sample_rate or AUDIO_RATE
            frame.pts = self._samples
            frame.time_base = fractions.Fraction(1, rate)
            self._samples += frame.samples
            return frame
        now = time.perf_counter()
        if self._started_at is None:
            self._started_at = now
        pts = max(int((now - self._started_at) * VIDEO_CLOCK_RATE), self._last_pts + 1)
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE)
        return frame
