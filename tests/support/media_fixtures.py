"""Hardware-edge fakes and helpers for the media tests (cameras, audio streams, leaks).

Only the lowest seam is faked — an OpenCV-capture-like object, a PortAudio-stream-like
object — and Parley's own code runs for real on top.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
import time
import types
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import numpy as np
import pytest

from tests.support import pulse

T = TypeVar("T")


class Cleanup:
    """Closes what a test opened, even when an assertion failed half-way."""

    def __init__(self) -> None:
        self._items: list[Any] = []

    def add(self, item: T) -> T:
        """Close (or stop) ``item`` at teardown, newest first; returns it."""
        self._items.append(item)
        return item

    async def aclose(self) -> None:
        """Close everything added; idempotent."""
        while self._items:
            item = self._items.pop()
            method = getattr(item, "close", None) or item.stop
            try:
                result = method()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logging.getLogger(__name__).exception("cleanup of %r failed", item)


@pytest.fixture
async def media_cleanup() -> AsyncIterator[Cleanup]:
    """A :class:`Cleanup` closed at teardown. Bind it in a test module to use it."""
    cleanup = Cleanup()
    yield cleanup
    await cleanup.aclose()


def require_virtual_audio() -> None:
    """Skip (locally) or fail (in CI) when the PulseAudio null devices are not running."""
    if pulse.current() is not None:
        return
    if os.environ.get("CI"):
        pytest.fail("the virtual PulseAudio devices must run in CI (see tests/support/pulse.py)")
    pytest.skip("PulseAudio is not available for the virtual audio devices")


class ThreadLeakCheck:
    """Remembers the threads alive at creation; ``leaked()`` lists the new ones."""

    def __init__(self) -> None:
        self.before = set(threading.enumerate())

    def leaked(self) -> list[threading.Thread]:
        """Threads started since, still alive (the loop's own executor excluded)."""
        return [
            t
            for t in threading.enumerate()
            if t not in self.before and t.is_alive() and not t.name.startswith("asyncio_")
        ]


def pending_tasks() -> list[asyncio.Task[Any]]:
    """Tasks of the running loop other than the current one that have not finished."""
    current = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not current and not t.done()]


class FakeCapture:
    """A ``cv2.VideoCapture`` stand-in: solid ``value`` frames, then (optionally) none.

    ``frames`` frames are delivered at ``fps``; after that each ``read()`` blocks for
    ``stall_s`` like a stalled camera, then fails.
    """

    def __init__(
        self,
        *,
        opened: bool = True,
        frames: int | None = None,
        value: int = 200,
        size: tuple[int, int] = (640, 480),
        fps: float = 30.0,
        stall_s: float = 0.5,
    ) -> None:
        self.opened = opened
        self.stall_s = stall_s
        self.frames_left = frames
        self.value = value
        self.size = size
        self.period = 1.0 / fps
        self.reads = 0
        self.released = threading.Event()
        self.settings: dict[int, float] = {}

    def isOpened(self) -> bool:  # noqa: N802  (OpenCV's name)
        return self.opened and not self.released.is_set()

    def set(self, prop: int, value: float) -> bool:
        self.settings[prop] = value
        return True

    def read(self) -> tuple[bool, np.ndarray[Any, Any] | None]:
        self.reads += 1
        if self.frames_left is not None and self.frames_left <= 0:
            # A stalled camera: the driver blocks a long while, then reports failure.
            self.released.wait(self.stall_s)
            return False, None
        if self.frames_left is not None:
            self.frames_left -= 1
        time.sleep(self.period)
        w, h = self.size
        return True, np.full((h, w, 3), self.value, dtype=np.uint8)

    def release(self) -> None:
        self.released.set()


class FakeInputStream:
    """A ``sounddevice.InputStream`` stand-in that calls back from its own thread.

    It delivers ``blocks`` blocks of ``value`` samples every 20 ms, then ends on its own
    (``finished_callback``) as PortAudio does when a device vanishes.
    """

    def __init__(self, *, blocks: int, value: int = 1000, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.blocks = blocks
        self.value = value
        self._callback = kwargs["callback"]
        self._finished = kwargs.get("finished_callback")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fake-input", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frames = int(self.kwargs["blocksize"])
        for _ in range(self.blocks):
            if self._stop.wait(0.02):
                break
            block = np.full((frames, 1), self.value, dtype=np.int16)
            self._callback(block, frames, None, None)
        if self._finished is not None:
            self._finished()

    def abort(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)

    def close(self) -> None:
        self.abort()
        self.closed = True


class FakePortAudioError(Exception):
    """Stands in for ``sounddevice.PortAudioError``."""


class FakeOutputStream:
    """A ``sounddevice.OutputStream`` stand-in that pulls blocks from its own thread."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.callbacks = 0
        self.active = False
        self.closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.active = True
        self._thread = threading.Thread(target=self._run, name="fake-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frames = int(self.kwargs["blocksize"])
        channels = int(self.kwargs["channels"])
        timing = types.SimpleNamespace(outputBufferDacTime=0.0, currentTime=0.0)
        while not self._stop.wait(frames / 48_000):
            outdata = np.zeros((frames, channels), dtype=np.int16)
            self.kwargs["callback"](outdata, frames, timing, None)
            self.callbacks += 1

    def vanish(self) -> None:
        """The device is unplugged: callbacks stop and the stream ends on its own."""
        self._halt()
        self.active = False
        self.kwargs["finished_callback"]()

    def _halt(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)

    def abort(self) -> None:
        self._halt()
        self.active = False

    def close(self) -> None:
        self.abort()
        self.closed = True


class FakePortAudio:
    """The slice of the ``sounddevice`` module that playback uses, with one speaker."""

    PortAudioError = FakePortAudioError

    def __init__(self) -> None:
        self.streams: list[FakeOutputStream] = []

    def query_devices(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "Fake speaker",
                "hostapi": 0,
                "max_input_channels": 0,
                "max_output_channels": 2,
                "default_samplerate": 48_000.0,
            }
        ]

    def OutputStream(self, **kwargs: Any) -> FakeOutputStream:  # noqa: N802  (sounddevice's name)
        if kwargs.get("device") not in (None, 0):
            raise FakePortAudioError(f"Error querying device {kwargs['device']}")
        self.streams.append(FakeOutputStream(**kwargs))
        return self.streams[-1]
