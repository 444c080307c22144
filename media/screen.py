"""The screen as a video track: what a call sends while someone shares their screen.

X11 desktops are grabbed with ``mss`` (Xlib through ctypes, no compiled extension). On a
Wayland session without X11 (no ``DISPLAY``) nothing can be grabbed without the desktop
portal, which Parley does not speak yet: :func:`screen_capture_problem` says so in words
for the person, before anything starts.

Grabbing a 1080p screen takes a few to tens of milliseconds, so it happens on a thread of
its own (an ``mss`` handle belongs to the thread that made it); frames are paced to
``fps`` (screens change slowly, and text needs sharpness more than motion) and scaled
down to fit ``max_size`` keeping the aspect, with even sides for the encoder.
"""

from __future__ import annotations

import asyncio
import fractions
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.clock import FramePacer

__all__ = ["ScreenTrack", "screen_capture_problem"]

VIDEO_CLOCK = 90_000
DEFAULT_FPS = 10.0
DEFAULT_MAX_SIZE = (1920, 1080)


def screen_capture_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the screen cannot be shared here, in words for the person; None if it can."""
    env = os.environ if environ is None else environ
    if env.get("DISPLAY"):
        return None
    if env.get("WAYLAND_DISPLAY"):
        return (
            "Screen sharing needs an X11 session for now: this is Wayland without X11. "
            "Log in with an \u201cX11\u201d or \u201cXorg\u201d session to share your screen."
        )
    return "There is no screen to share: no desktop session (DISPLAY is not set)."


def fitted_size(width: int, height: int, max_size: tuple[int, int]) -> tuple[int, int]:
    """``width``×``height`` scaled down (never up) to fit ``max_size``, sides even."""
    scale = min(1.0, max_size[0] / width, max_size[1] / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


class ScreenTrack(MediaStreamTrack):
    """A video track of one monitor (``monitor=1`` is the first; 0 is all of them)."""

    kind = "video"

    def __init__(
        self,
        *,
        monitor: int = 1,
        fps: float = DEFAULT_FPS,
        max_size: tuple[int, int] = DEFAULT_MAX_SIZE,
        display: str | None = None,
    ) -> None:
        """``display`` is the X display to grab (``$DISPLAY`` when None).

        Raises ``RuntimeError`` with the reason for a person when there is no screen to
        grab (see :func:`screen_capture_problem`), or the monitor does not exist.
        """
        super().__init__()
        env = dict(os.environ)
        if display is not None:
            env["DISPLAY"] = display
        problem = screen_capture_problem(env)
        if problem is not None:
            raise RuntimeError(problem)
        self._display = env["DISPLAY"]
        self._monitor = monitor
        self._max_size = max_size
        self._pacer = FramePacer(1.0 / fps)
        self._fps = fps
        self._grabber: Any = None
        # One thread for the life of the track: mss's X connection is per thread.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screen")
        self._thread.submit(self._open).result()  # fails here, not on the first frame
        self.frames = 0

    @property
    def size(self) -> tuple[int, int]:
        """The monitor's size in pixels (before scaling)."""
        area = self._area()
        return int(area["width"]), int(area["height"])

    def _open(self) -> None:
        import mss  # imported lazily: only a person sharing their screen needs Xlib

        try:
            self._grabber = mss.MSS(display=self._display)
        except Exception as exc:  # mss raises ScreenShotError with Xlib's words
            raise RuntimeError(f"Cannot open the screen {self._display}: {exc}") from exc
        monitors = self._grabber.monitors
        if not 0 <= self._monitor < len(monitors):
            raise RuntimeError(
                f"There is no monitor {self._monitor} (this screen has {len(monitors) - 1})"
            )

    def _area(self) -> dict[str, int]:
        area: dict[str, int] = self._grabber.monitors[self._monitor]
        return area

    def _grab(self) -> np.ndarray[Any, np.dtype[np.uint8]]:
        shot = self._grabber.grab(self._area())
        pixels: np.ndarray[Any, np.dtype[np.uint8]] = np.frombuffer(
            shot.bgra, dtype=np.uint8
        ).reshape(shot.height, shot.width, 4)
        return pixels

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._pacer.wait_next()
        loop = asyncio.get_running_loop()
        try:
            pixels = await loop.run_in_executor(self._thread, self._grab)
        except RuntimeError as exc:  # the executor was shut down: the track stopped
            raise MediaStreamError from exc
        frame = av.VideoFrame.from_ndarray(pixels, format="bgra")
        height, width = pixels.shape[:2]
        target = fitted_size(width, height, self._max_size)
        frame = frame.reformat(width=target[0], height=target[1], format="yuv420p")
        frame.pts = int(index * VIDEO_CLOCK / self._fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.frames += 1
        return frame

    def stop(self) -> None:
        if self.readyState == "live":
            grabber = self._grabber

            def close() -> None:
                if grabber is not None:
                    grabber.close()

            self._thread.submit(close)
            self._thread.shutdown(wait=False)
        super().stop()
