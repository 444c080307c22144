"""Helpers shared by the media benchmarks: signal relays, frame timing, CPU, JSON output.

Benchmarks are scripts (run them from the repository root, e.g.
``.venv/bin/python benchmarks/call_setup.py``); this module sits beside them and is
imported as ``_common``.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

import psutil
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media import ice
from media.peer_types import SignalKind

Handler = Callable[[str, SignalKind, dict[str, Any]], Awaitable[None]]
RoutedHandler = Callable[[str, str, SignalKind, dict[str, Any]], Awaitable[None]]
SendSignal = Callable[[str, SignalKind, dict[str, Any]], Awaitable[None]]


def emit(result: dict[str, Any]) -> None:
    """Print the benchmark's one JSON line on stdout."""
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def machine() -> dict[str, Any]:
    """What the figures were measured on, including how busy the machine was."""
    load1, _, _ = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load1_at_end": round(load1, 2),
    }


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0–100) with linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(values_s: list[float]) -> dict[str, float]:
    """p50/p95/min/max/mean of durations in seconds, as milliseconds rounded to 0.1."""
    ms = [v * 1000.0 for v in values_s]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "min": round(min(ms), 1),
        "max": round(max(ms), 1),
        "mean": round(statistics.fmean(ms), 1),
    }


def use_ice_policy(policy: str) -> None:
    """Select the loopback ICE policy for this process (and its children)."""
    os.environ[ice.ENV_VAR] = policy
    ice.set_policy(ice.LoopbackPolicy(policy))


class LocalSignals:
    """In-process signal relay: per-recipient ordered delivery through asyncio tasks."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._queues: dict[str, asyncio.Queue[tuple[str, SignalKind, dict[str, Any]]]] = {}
        self._pumps: list[asyncio.Task[None]] = []

    def attach(self, user_id: str, handler: Handler) -> None:
        """Deliver signals for ``user_id`` to ``handler(from, kind, payload)``."""
        self._handlers[user_id] = handler
        queue: asyncio.Queue[tuple[str, SignalKind, dict[str, Any]]] = asyncio.Queue()
        self._queues[user_id] = queue
        self._pumps.append(asyncio.get_running_loop().create_task(self._pump(user_id, queue)))

    def sender(self, from_user: str) -> SendSignal:
        """The ``send_signal`` callback for ``from_user``."""

        async def send(to_user: str, kind: SignalKind, payload: dict[str, Any]) -> None:
            queue = self._queues.get(to_user)
            if queue is not None:
                queue.put_nowait((from_user, kind, json.loads(json.dumps(payload))))

        return send

    async def _pump(self, user_id: str, queue: asyncio.Queue[Any]) -> None:
        while True:
            from_user, kind, payload = await queue.get()
            await self._handlers[user_id](from_user, kind, payload)

    async def close(self) -> None:
        """Stop delivering."""
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)


class PipeSignals:
    """Signals between two processes over a ``multiprocessing`` pipe end.

    Each message is ``(from_user, to_user, kind, payload)`` and reaches
    ``handler(from_user, to_user, kind, payload)``; the pipe end is read from the event
    loop with ``add_reader``, so nothing blocks.
    """

    def __init__(self, conn: Connection, handler: RoutedHandler) -> None:
        self._conn = conn
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(conn.fileno(), self._readable)
        self._inbox: asyncio.Queue[tuple[str, str, SignalKind, dict[str, Any]]] = asyncio.Queue()
        self._pump = self._loop.create_task(self._run())
        self.control: asyncio.Queue[Any] = asyncio.Queue()
        """Messages that are not signals (``("ctl", value)``) for the benchmark's own use."""

    def sender(self, from_user: str) -> SendSignal:
        """The ``send_signal`` callback for ``from_user``."""

        async def send(to_user: str, kind: SignalKind, payload: dict[str, Any]) -> None:
            self._conn.send((from_user, to_user, kind.value, payload))

        return send

    def send_control(self, value: Any) -> None:
        """Send a non-signal message to the other process."""
        self._conn.send(("ctl", value))

    def _readable(self) -> None:
        while self._conn.poll():
            try:
                message = self._conn.recv()
            except EOFError:
                self._loop.remove_reader(self._conn.fileno())
                return
            if message[0] == "ctl":
                self.control.put_nowait(message[1])
            else:
                from_user, to_user, kind, payload = message
                self._inbox.put_nowait((from_user, to_user, SignalKind(kind), payload))

    async def _run(self) -> None:
        while True:
            from_user, to_user, kind, payload = await self._inbox.get()
            await self._handler(from_user, to_user, kind, payload)

    async def close(self) -> None:
        """Stop reading the pipe."""
        self._loop.remove_reader(self._conn.fileno())
        self._pump.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)


class FirstFrames:
    """Reads remote tracks, noting when each kind's first frame arrived (perf_counter)."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.frames: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._events: dict[str, asyncio.Event] = {}

    def event(self, kind: str) -> asyncio.Event:
        """Set once the first frame of ``kind`` has arrived."""
        return self._events.setdefault(kind, asyncio.Event())

    def add(self, track: MediaStreamTrack) -> None:
        """Start reading ``track``."""
        task = asyncio.get_running_loop().create_task(self._read(track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, track: MediaStreamTrack) -> None:
        kind = track.kind
        try:
            while True:
                await track.recv()
                self.frames[kind] = self.frames.get(kind, 0) + 1
                if kind not in self.first:
                    self.first[kind] = time.perf_counter()
                    self.event(kind).set()
        except MediaStreamError:
            return

    async def close(self) -> None:
        """Stop reading."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class CpuMeter:
    """CPU time of one process over a window, as a percentage of one core."""

    def __init__(self, pid: int | None = None) -> None:
        self._process = psutil.Process(pid)
        self._start_cpu = 0.0
        self._start_wall = 0.0

    def _cpu(self) -> float:
        times = self._process.cpu_times()
        # Threads' time (aiortc encodes in the loop's executor) is included here.
        return float(times.user + times.system)

    def start(self) -> None:
        """Begin the window."""
        self._start_cpu = self._cpu()
        self._start_wall = time.perf_counter()

    def percent(self) -> float:
        """CPU % of one core since :meth:`start`."""
        wall = time.perf_counter() - self._start_wall
        return 100.0 * (self._cpu() - self._start_cpu) / wall if wall > 0 else 0.0


def system_cpu_percent_sampler() -> Callable[[], float]:
    """Returns a function giving the whole machine's CPU % (all cores) since creation."""
    psutil.cpu_percent(None)
    return lambda: float(psutil.cpu_percent(None))
