"""Synthetic sources: a moving test pattern with a name, and silence or a tone.

They stand in for a camera or microphone that is missing, off or failing, and they are
the test suite's and the benchmarks' devices.
"""

from __future__ import annotations

import fractions
import threading
import time
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from media.clock import FramePacer

AUDIO_RATE = 48_000
AUDIO_FRAME_SAMPLES = 960  # 20 ms at 48 kHz, Opus's usual frame
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE)
VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)

# Peak amplitudes as fractions of full scale.
TONE_AMPLITUDE = 0.25
CLICK_AMPLITUDE = 0.9
CLICK_DURATION_S = 0.005
CLICK_FREQUENCY_HZ = 2_000.0

Int16Array = npt.NDArray[np.int16]


def _click_waveform() -> npt.NDArray[np.float64]:
    # A short windowed burst rather than one-sample impulse: it survives Opus intact
    # enough that the receiving side can find it by level.
    n = int(AUDIO_RATE * CLICK_DURATION_S)
    t = np.arange(n) / AUDIO_RATE
    window = np.hanning(n) ** 0.25
    wave: npt.NDArray[np.float64] = (
        CLICK_AMPLITUDE * 32767 * window * np.sin(2 * np.pi * CLICK_FREQUENCY_HZ * t)
    )
    return wave


class SyntheticAudioTrack(MediaStreamTrack):
    """48 kHz mono s16 audio in 20 ms frames: silence or a tone, plus injected sound."""

    kind = "audio"

    def __init__(
        self, mode: Literal["silence", "tone"] = "silence", frequency: float = 440.0
    ) -> None:
        super().__init__()
        if mode not in ("silence", "tone"):
            raise ValueError(f"unknown mode {mode!r}")
        if not 0 < frequency < AUDIO_RATE / 2:
            raise ValueError(f"frequency must be in (0, {AUDIO_RATE // 2}) Hz, got {frequency}")
        self.mode = mode
        self.frequency = frequency
        self._pacer = FramePacer(AUDIO_FRAME_SAMPLES / AUDIO_RATE)
        self._phase = 0.0
        # Injected sound waiting to be mixed into the next frames; inject() may be
        # called from any thread, so the buffer is guarded.
        self._lock = threading.Lock()
        self._pending: npt.NDArray[np.float64] = np.zeros(0)
        self._click_pending = False
        self.last_click_sent: float | None = None
        """perf_counter time the frame carrying the latest click left recv()."""

    def inject(self, samples: npt.ArrayLike) -> None:
        """Mix ``samples`` (int16 scale, 48 kHz mono) into the frames that follow."""
        wave = np.asarray(samples, dtype=np.float64).reshape(-1)
        with self._lock:
            self._mix_in(wave)

    def inject_click(self) -> float:
        """Inject a short loud click at the start of the next frame.

        Returns the perf_counter time at which that frame is handed out of ``recv()``
        (its due time: the sender waits in ``recv()``, so it leaves then). The actual
        time is also recorded in ``last_click_sent``.
        """
        with self._lock:
            self._mix_in(_click_waveform())
            self._click_pending = True
        return self._pacer.next_due()

    def _mix_in(self, wave: npt.NDArray[np.float64]) -> None:
        if len(self._pending) < len(wave):
            grown = np.zeros(len(wave))
            grown[: len(self._pending)] = self._pending
            self._pending = grown
        self._pending[: len(wave)] += wave

    async def recv(self) -> AudioFrame:
        """Return the next 20 ms frame at its due time."""
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._pacer.wait_next()
        with self._lock:
            samples = self._render()
            carries_click = self._click_pending
            self._click_pending = False
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = index * AUDIO_FRAME_SAMPLES
        frame.time_base = AUDIO_TIME_BASE
        if carries_click:
            self.last_click_sent = time.perf_counter()
        return frame

    def _render(self) -> Int16Array:
        # Called with the lock held.
        n = AUDIO_FRAME_SAMPLES
        if self.mode == "tone":
            step = 2 * np.pi * self.frequency / AUDIO_RATE
            wave = TONE_AMPLITUDE * 32767 * np.sin(self._phase + step * np.arange(n))
            # Wrap the phase so long calls do not lose float precision.
            self._phase = float((self._phase + step * n) % (2 * np.pi))
        else:
            wave = np.zeros(n)
        if len(self._pending):
            take = min(n, len(self._pending))
            wave[:take] += self._pending[:take]
            self._pending = self._pending[take:]
        out: Int16Array = np.clip(np.rint(wave), -32768, 32767).astype(np.int16)
        return out


class SyntheticVideoTrack(MediaStreamTrack):
    """A moving colour-bar pattern with ``label`` drawn on it, as yuv420p frames."""

    kind = "video"

    def __init__(self, label: str, width: int = 640, height: int = 480, fps: int = 30) -> None:
        super().__init__()
        if width < 16 or height < 16 or width % 2 or height % 2:
            raise ValueError(f"size must be even and at least 16x16, got {width}x{height}")
        if not 1 <= fps <= 120:
            raise ValueError(f"fps must be in 1..120, got {fps}")
        self.label = label
        self.width = width
        self.height = height
        self.fps = fps
        self._pacer = FramePacer(1 / fps)
        self._y, self._u, self._v = _pattern_planes(width, height)
        self._frame_buffer = np.empty((height * 3 // 2, width), dtype=np.uint8)

    async def recv(self) -> VideoFrame:
        """Return the next frame at its due time."""
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._pacer.wait_next()
        frame = VideoFrame.from_ndarray(self.render(index), format="yuv420p")
        frame.pts = round(index * VIDEO_CLOCK_RATE / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        return frame

    def render(self, index: int) -> npt.NDArray[np.uint8]:
        """The I420 picture for frame ``index``, shape (height * 3 / 2, width)."""
        w, h = self.width, self.height
        # Scroll by two pixels per frame so chroma (half width) stays aligned.
        x = (2 * index) % w
        buf = self._frame_buffer
        buf[:h] = self._y[:, x : x + w]
        quarter = (h // 2) * (w // 2)
        u_flat = self._u[:, x // 2 : x // 2 + w // 2].reshape(-1)
        v_flat = self._v[:, x // 2 : x // 2 + w // 2].reshape(-1)
        chroma = buf[h:].reshape(-1)
        chroma[:quarter] = u_flat
        chroma[quarter:] = v_flat
        scale = h / 480
        self._draw_text(self.label, (int(24 * scale), int(h / 2)), 1.6 * scale)
        seconds = index / self.fps
        self._draw_text(f"{seconds:8.2f}s", (int(24 * scale), int(h - 24 * scale)), scale)
        return buf

    def _draw_text(self, text: str, org: tuple[int, int], size: float) -> None:
        w, h = self.width, self.height
        luma = self._frame_buffer[:h]
        # Black outline under white text keeps it readable over every bar colour.
        thick = max(1, round(2 * size))
        font = cv2.FONT_HERSHEY_SIMPLEX
        (tw, th), base = cv2.getTextSize(text, font, size, thick + 3)
        cv2.putText(luma, text, org, font, size, 16, thick + 3, cv2.LINE_AA)
        cv2.putText(luma, text, org, font, size, 235, thick, cv2.LINE_AA)
        # Text is drawn on luma only; neutral chroma under it keeps it grey-white.
        x0, x1 = max(0, org[0]) // 2, min(w, org[0] + tw) // 2
        y0, y1 = max(0, org[1] - th) // 2, min(h, org[1] + base) // 2
        half_w, half_h = w // 2, h // 2
        chroma = self._frame_buffer[h:].reshape(-1)
        u = chroma[: half_w * half_h].reshape(half_h, half_w)
        v = chroma[half_w * half_h :].reshape(half_h, half_w)
        u[y0:y1, x0:x1] = 128
        v[y0:y1, x0:x1] = 128


def _pattern_planes(
    width: int, height: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Colour bars twice as wide as the frame, as I420 planes, so a slice can scroll."""
    bars_bgr = [
        (235, 235, 235),
        (16, 235, 235),
        (235, 235, 16),
        (16, 235, 16),
        (235, 16, 235),
        (16, 16, 235),
        (235, 16, 16),
        (16, 16, 16),
    ]
    bgr = np.zeros((height, 2 * width, 3), dtype=np.uint8)
    bar_w = width / len(bars_bgr)
    for i in range(2 * len(bars_bgr)):
        x0, x1 = round(i * bar_w), round((i + 1) * bar_w)
        bgr[:, x0:x1] = bars_bgr[i % len(bars_bgr)]
    # A vertical gradient on top makes motion and scaling artefacts visible.
    ramp = np.linspace(0.6, 1.0, height, dtype=np.float32)[:, None, None]
    bgr = (bgr * ramp).astype(np.uint8)
    i420 = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
    y = np.ascontiguousarray(i420[:height])
    chroma = i420[height:].reshape(-1)
    quarter = (height // 2) * width
    u = chroma[:quarter].reshape(height // 2, width).copy()
    v = chroma[quarter:].reshape(height // 2, width).copy()
    return y, u, v
