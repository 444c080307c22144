"""Helpers for the peer-link tests: an in-process signaling relay, a frame sink, and a
leak check that fails a test which leaves peer connections, tasks or threads behind."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.peer_types import MediaKind, SignalKind

# Delivered kinds are plain strings, as they arrive from socket.io.
Handler = Callable[[str, str, dict[str, Any]], Awaitable[None]]

LEAK_GRACE_S = 5.0


def open_peer_connections() -> list[RTCPeerConnection]:
    """Every RTCPeerConnection in this process that has not been closed."""
    gc.collect()
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, RTCPeerConnection) and obj.connectionState != "closed"
    ]


def _is_loop_executor_thread(thread: threading.Thread) -> bool:
    # aiortc encodes in the loop's default executor; the loop shuts it down when
    # pytest-asyncio closes the loop, after this fixture has run.
    return thread.name.startswith("asyncio_")


async def wait_for(predicate: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail the test with ``what`` after ``within`` s."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture(autouse=True)
async def leak_check() -> AsyncIterator[None]:
    """Fail a test that leaves open peer connections, pending tasks or new threads."""
    threads_before = set(threading.enumerate())
    yield
    current = asyncio.current_task()

    def leftovers() -> tuple[list[RTCPeerConnection], list[asyncio.Task[Any]], list[Any]]:
        tasks = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        threads = [
            t
            for t in threading.enumerate()
            if t not in threads_before and t.is_alive() and not _is_loop_executor_thread(t)
        ]
        return open_peer_connections(), tasks, threads

    deadline = time.monotonic() + LEAK_GRACE_S
    # Closing peers finish their transports a few loop turns later; nothing to wait on.
    while any(leftovers()) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    pcs, tasks, threads = leftovers()
    assert not pcs, f"peer connections left open: {len(pcs)}"
    assert not tasks, f"tasks left pending: {tasks}"
    assert not threads, f"threads left running: {threads}"


class SignalNetwork:
    """Stands in for the signaling server: delivers each user's signals in order.

    Payloads go through JSON and kinds arrive as plain strings, as over socket.io.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._queues: dict[str, asyncio.Queue[tuple[str, str, dict[str, Any]]]] = {}
        self._pumps: list[asyncio.Task[None]] = []
        self.sent: list[tuple[str, str, SignalKind]] = []

    def attach(self, user_id: str, handler: Handler) -> None:
        """Deliver signals addressed to ``user_id`` to ``handler(from, kind, payload)``."""
        self._handlers[user_id] = handler
        queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()
        self._queues[user_id] = queue
        self._pumps.append(asyncio.get_running_loop().create_task(self._pump(user_id, queue)))

    def sender(
        self, from_user: str
    ) -> Callable[[str, SignalKind, dict[str, Any]], Awaitable[None]]:
        """The ``send_signal`` callback for ``from_user``."""

        async def send(to_user: str, kind: SignalKind, payload: dict[str, Any]) -> None:
            self.sent.append((from_user, to_user, kind))
            queue = self._queues.get(to_user)
            if queue is not None:
                queue.put_nowait((from_user, kind.value, json.loads(json.dumps(payload))))

        return send

    def count(self, kind: SignalKind, from_user: str | None = None) -> int:
        """How many signals of ``kind`` were sent (by ``from_user``)."""
        return sum(1 for f, _, k in self.sent if k is kind and from_user in (None, f))

    async def _pump(self, user_id: str, queue: asyncio.Queue[Any]) -> None:
        while True:
            from_user, kind, payload = await queue.get()
            await self._handlers[user_id](from_user, kind, payload)

    async def close(self) -> None:
        """Stop delivering."""
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)


class FrameSink:
    """Reads every remote track it is given and keeps count, like a view or a speaker."""

    def __init__(self) -> None:
        self.frames: dict[tuple[str, MediaKind], int] = defaultdict(int)
        self.last: dict[tuple[str, MediaKind], Any] = {}
        self.tracks: dict[tuple[str, MediaKind], MediaStreamTrack] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, user_id: str, kind: MediaKind, track: MediaStreamTrack) -> None:
        """Start reading ``track`` (from ``user_id``)."""
        self.tracks[(user_id, kind)] = track
        task = asyncio.get_running_loop().create_task(self._read(user_id, kind, track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, user_id: str, kind: MediaKind, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                self.last[(user_id, kind)] = frame
                self.frames[(user_id, kind)] += 1
        except MediaStreamError:
            return

    async def wait_frames(self, user_id: str, kind: MediaKind, count: int, within: float) -> None:
        """Wait until ``count`` more frames of ``kind`` from ``user_id`` have arrived."""
        target = self.frames[(user_id, kind)] + count
        await wait_for(
            lambda: self.frames[(user_id, kind)] >= target,
            within,
            f"{count} {kind.value} frames from {user_id}",
        )

    async def close(self) -> None:
        """Stop reading."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
async def network() -> AsyncIterator[SignalNetwork]:
    """An in-process signaling relay, stopped at teardown."""
    net = SignalNetwork()
    yield net
    await net.close()


@pytest.fixture
async def sinks() -> AsyncIterator[Callable[[], FrameSink]]:
    """A factory of frame sinks, all closed at teardown."""
    made: list[FrameSink] = []

    def make() -> FrameSink:
        sink = FrameSink()
        made.append(sink)
        return sink

    yield make
    for sink in made:
        await sink.close()


class Closer:
    """Closes what a test opened (links, meshes, tracks), in reverse order."""

    def __init__(self) -> None:
        self._items: list[Callable[[], Awaitable[None]]] = []

    def add(self, close: Callable[[], Awaitable[None]]) -> None:
        """Register an async ``close`` to run at teardown."""
        self._items.append(close)

    async def close_all(self) -> None:
        """Run every registered close, newest first."""
        while self._items:
            await self._items.pop()()


@pytest.fixture
async def closer(network: SignalNetwork, sinks: Callable[[], FrameSink]) -> AsyncIterator[Closer]:
    """Closes registered objects at teardown, before the sinks, network and leak check."""
    c = Closer()
    yield c
    await c.close_all()
