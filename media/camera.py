"""A camera track: OpenCV capture in its own thread, with a synthetic fallback picture."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fractions
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from media.devices import CaptureFactory, diagnose_camera, open_capture
from media.errors import DeviceExceptionType, classify_device_error
from media.synthetic import VIDEO_CLOCK_RATE, SyntheticVideoTrack
from media.threads import wake_queue

log = logging.getLogger(__name__)

ZERO_FPS_TIMEOUT_S = 3.0
JOIN_TIMEOUT_S = 2.0
# After this many failed reads in a row the device is taken to be gone.
MAX_READ_FAILURES = 30


@dataclass(frozen=True)
class Resolution:
    """A capture size and rate."""

    width: int
    height: int
    fps: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(f"size must be positive and even, got {self.width}x{self.height}")
        if not 1 <= self.fps <= 120:
            raise ValueError(f"fps must be in 1..120, got {self.fps}")


class VideoPreset(enum.Enum):
    """Capture presets from 180p to 1080p; 480p (640x480@30) is the default."""

    P180 = Resolution(320, 180, 15)
    P360 = Resolution(640, 360, 30)
    P480 = Resolution(640, 480, 30)
    P720 = Resolution(1280, 720, 30)
    P1080 = Resolution(1920, 1080, 30)

    @property
    def resolution(self) -> Resolution:
        """The preset's size and rate."""
        value: Resolution = self.value
        return value


ErrorCallback = Callable[[DeviceExceptionType], None]


class CameraTrack(MediaStreamTrack):
    """Video from a camera; falls back to a test pattern when the camera fails.

    ``on_error`` is called on the event loop with a ``DeviceExceptionType`` when the
    camera cannot open (then the fallback is immediate) or delivers no frame for
    ``zero_fps_timeout_s`` (``ZERO_CAPTURE_FPS``). Frames resume from the camera if it
    recovers. ``stop()`` ends the capture thread and releases the device.
    """

    kind = "video"

    def __init__(
        self,
        device_index: int = 0,
        preset: VideoPreset = VideoPreset.P480,
        *,
        label: str = "",
        on_error: ErrorCallback | None = None,
        capture_factory: CaptureFactory = open_capture,
        zero_fps_timeout_s: float = ZERO_FPS_TIMEOUT_S,
    ) -> None:
        super().__init__()
        self.device_index = device_index
        self.preset = preset
        self._on_error = on_error
        self._factory = capture_factory
        self._zero_fps_timeout_s = zero_fps_timeout_s
        res = preset.resolution
        self._fallback = SyntheticVideoTrack(
            label or f"Camera {device_index}", res.width, res.height, res.fps
        )
        # None in the queue wakes a waiting recv() when the track stops.
        self._queue: asyncio.Queue[VideoFrame | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._failed: DeviceExceptionType | None = None
        self._start_time: float | None = None
        self._last_frame_at: float | None = None
        self._last_pts = -1
        self._reported_zero_fps = False
        self.using_fallback = False
        """Whether frames currently come from the synthetic picture."""
        self.frames_captured = 0
        self.device_released = threading.Event()
        """Set once the capture device has been released (or was never opened)."""

    def start(self) -> None:
        """Open the camera in a capture thread. Needs a running event loop."""
        if self._thread is not None or self.readyState != "live":
            return
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(maxsize=1)
        self._start_time = time.perf_counter()
        self._thread = threading.Thread(
            target=self._capture, name=f"camera-{self.device_index}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """End the track, stop the capture thread and release the camera (light off)."""
        super().stop()
        self._stop_event.set()
        wake_queue(self._loop, self._queue)
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("camera %d capture thread did not stop in time", self.device_index)
        if thread is None:
            self.device_released.set()
        self._fallback.stop()

    def close(self) -> None:
        """Same as stop(); idempotent."""
        self.stop()

    async def recv(self) -> VideoFrame:
        """The next camera frame, or a fallback frame when the camera is silent or failed."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._thread is None:
            self.start()
        assert self._queue is not None
        assert self._start_time is not None
        queue = self._queue
        if self._failed is None:
            if not queue.empty():
                return self._camera_frame(queue.get_nowait())
            if not self.using_fallback:
                since = self._last_frame_at or self._start_time
                wait = since + self._zero_fps_timeout_s - time.perf_counter()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        return self._camera_frame(await asyncio.wait_for(queue.get(), wait))
                if self.readyState != "live":
                    raise MediaStreamError
                self._enter_fallback(DeviceExceptionType.ZERO_CAPTURE_FPS)
        frame = await self._fallback.recv()
        return self._stamp(frame)

    def _camera_frame(self, frame: VideoFrame | None) -> VideoFrame:
        if frame is None:
            raise MediaStreamError  # stopped while waiting
        if self.using_fallback:
            log.info("camera %d delivers frames again", self.device_index)
            self.using_fallback = False
            self._reported_zero_fps = False
        return self._stamp(frame)

    def _stamp(self, frame: VideoFrame) -> VideoFrame:
        # One wall-clock timeline for camera and fallback frames, strictly increasing,
        # so switching between them never moves RTP timestamps backwards.
        assert self._start_time is not None
        pts = int((time.perf_counter() - self._start_time) * VIDEO_CLOCK_RATE)
        pts = max(pts, self._last_pts + 1)
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE)
        return frame

    def _enter_fallback(self, kind: DeviceExceptionType) -> None:
        self.using_fallback = True
        if kind is DeviceExceptionType.ZERO_CAPTURE_FPS:
            if self._reported_zero_fps:
                return
            self._reported_zero_fps = True
        log.warning("camera %d: %s; sending the test pattern", self.device_index, kind)
        if self._on_error is not None:
            try:
                self._on_error(kind)
            except Exception:
                log.exception("camera error callback failed")

    # -- capture thread ----------------------------------------------------------------

    def _capture(self) -> None:
        capture: Any = None
        try:
            capture = self._factory(self.device_index)
            if not capture.isOpened():
                self._post(self._open_failed, diagnose_camera(self.device_index))
                return
            res = self.preset.resolution
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, res.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, res.height)
            capture.set(cv2.CAP_PROP_FPS, res.fps)
            failures = 0
            while not self._stop_event.is_set():
                ok, image = capture.read()
                if not ok or image is None:
                    failures += 1
                    if failures >= MAX_READ_FAILURES:
                        self._post(self._open_failed, DeviceExceptionType.DEVICE_UNPLUGGED)
                        return
                    # A camera that fails to read is not worth spinning on.
                    self._stop_event.wait(1 / res.fps)
                    continue
                failures = 0
                self._post(self._deliver, self._to_frame(image, res))
        except Exception as exc:
            log.exception("camera %d capture failed", self.device_index)
            self._post(self._open_failed, classify_device_error(exc))
        finally:
            if capture is not None:
                with contextlib.suppress(Exception):
                    capture.release()
            self.device_released.set()

    @staticmethod
    def _to_frame(image: np.ndarray[Any, Any], res: Resolution) -> VideoFrame:
        if image.shape[1] != res.width or image.shape[0] != res.height:
            image = cv2.resize(image, (res.width, res.height), interpolation=cv2.INTER_AREA)
        return VideoFrame.from_ndarray(image, format="bgr24")

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed under us
            loop.call_soon_threadsafe(fn, *args)

    # -- on the loop ---------------------------------------------------------------------

    def _deliver(self, frame: VideoFrame) -> None:
        queue = self._queue
        if queue is None or self.readyState != "live":
            return
        if queue.full():
            queue.get_nowait()  # drop the stale frame: latency beats completeness
        queue.put_nowait(frame)
        self.frames_captured += 1
        self._last_frame_at = time.perf_counter()

    def _open_failed(self, kind: DeviceExceptionType) -> None:
        if self.readyState != "live" or self._failed is not None:
            return
        self._failed = kind
        self._enter_fallback(kind)
