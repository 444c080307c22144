"""A track that plays another track back after a fixed delay (the echo test call)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack


class DelayedTrack(MediaStreamTrack):
    """Frames of ``source``, each handed out ``delay_s`` after it arrived.

    A reader task pulls the source as fast as it produces, so the source's own pacing
    is kept; ``recv`` waits until the oldest frame is due. At most ``max_frames`` are
    held (older ones are dropped) so a stalled reader cannot grow memory.
    """

    def __init__(
        self, source: MediaStreamTrack, delay_s: float = 1.0, max_frames: int = 600
    ) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source
        self._delay = delay_s
        self._frames: collections.deque[tuple[float, Any]] = collections.deque(maxlen=max_frames)
        self._arrived = asyncio.Event()
        self._ended = False
        self._reader: asyncio.Task[None] | None = None

    def _ensure_reader(self) -> None:
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                frame = await self._source.recv()
                self._frames.append((time.monotonic() + self._delay, frame))
                self._arrived.set()
        except MediaStreamError:
            pass
        finally:
            self._ended = True
            self._arrived.set()

    async def recv(self) -> Any:
        """The next frame once it is due; ``MediaStreamError`` when the source ended."""
        if self.readyState != "live":
            raise MediaStreamError
        self._ensure_reader()
        while not self._frames:
            if self._ended:
                self.stop()
                raise MediaStreamError
            self._arrived.clear()
            await self._arrived.wait()
        due, frame = self._frames.popleft()
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        return frame

    def stop(self) -> None:
        """Stop reading the source (the source itself belongs to its owner)."""
        if self._reader is not None:
            self._reader.cancel()
        self._frames.clear()
        super().stop()

    async def aclose(self) -> None:
        """Stop and wait for the reader task to finish."""
        self.stop()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
