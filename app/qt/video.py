"""Video for the call pages: one reader task per track, throttled, frames out as a signal.

:class:`VideoFeed` reads each remote member's video track (and the self-view from
``Mesh.preview()``), drops frames arriving faster than ``max_fps`` before converting
them, and emits the rest as RGB arrays on the loop (Qt) thread. Every reader is kept
until it has really finished, so closing the feed leaves no task behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from PySide6.QtCore import QObject, Signal

from app.kit.tasks import TaskKeeper

log = logging.getLogger("parley.call_presenter")


class VideoFeed(QObject):
    """Reads the call's video tracks; ``frame_ready(user_id, H×W×3 uint8 RGB array)``."""

    frame_ready = Signal(str, np.ndarray)

    def __init__(self, max_fps: float = 30.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._frame_interval = 1.0 / max_fps
        self._pumps: dict[str, tuple[MediaStreamTrack, asyncio.Task[Any]]] = {}
        # Every reader until it has really finished (a cancelled one takes a step to end).
        self._readers = TaskKeeper("video readers")
        self.first_frame_at: dict[str, float] = {}
        """perf_counter of the first frame handed out per user (the benchmark reads it)."""

    @property
    def tasks(self) -> int:
        """How many readers run (tests check they all end with the call)."""
        return self._readers.pending

    def sync(self, tracks: dict[str, MediaStreamTrack | None], keep: Iterable[str] = ()) -> None:
        """Read exactly these users' tracks (a new track replaces the old reader).

        Users absent from ``tracks`` stop being read, except those in ``keep`` (the
        self-view, which the members do not list).
        """
        for user_id, track in tracks.items():
            current = self._pumps.get(user_id)
            if track is not None and (current is None or current[0] is not track):
                self.stop(user_id)
                self.start(user_id, track)
        kept = set(keep)
        for user_id in list(self._pumps):
            if user_id not in tracks and user_id not in kept:
                self.stop(user_id)

    def start(self, user_id: str, track: MediaStreamTrack) -> None:
        """Read ``track`` as ``user_id``'s video."""
        task = self._readers.spawn(self._pump(user_id, track), f"video-{user_id}")
        self._pumps[user_id] = (track, task)
        task.add_done_callback(self._pump_done)

    def stop(self, user_id: str) -> None:
        """Stop reading ``user_id``'s video (the task ends on its next step)."""
        entry = self._pumps.pop(user_id, None)
        if entry is not None:
            entry[1].cancel()

    def stop_all(self) -> None:
        """Stop every reader (the call ended)."""
        for user_id in list(self._pumps):
            self.stop(user_id)

    async def close(self) -> None:
        """Stop every reader and wait until each has finished; idempotent."""
        self.stop_all()
        await self._readers.close()

    def _pump_done(self, task: asyncio.Task[Any]) -> None:
        for user_id, (_, pumping) in list(self._pumps.items()):
            if pumping is task:
                del self._pumps[user_id]

    async def _pump(self, user_id: str, track: MediaStreamTrack) -> None:
        """Read one video track; hand at most ``max_fps`` frames a second to the pages."""
        next_at = 0.0
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return  # the track ended: the member left or the call closed
            now = time.perf_counter()
            if now < next_at:
                continue  # faster than the pages need: drop it undecoded to RGB
            # A late frame moves the schedule instead of letting frames bunch up.
            next_at = max(next_at + self._frame_interval, now + self._frame_interval * 0.5)
            array = frame.to_ndarray(format="rgb24")  # type: ignore[union-attr]
            self.first_frame_at.setdefault(user_id, time.perf_counter())
            self.frame_ready.emit(user_id, array)
