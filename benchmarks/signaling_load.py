"""Signaling load: invite→ringing latency with N signed-in clients and a steady invitation rate.

The script starts ``parley-server`` as a separate process on 127.0.0.1 (port 0, a random
secret, log level WARNING), signs N clients in from K worker processes (raw
``socketio.AsyncClient`` on the websocket transport, connected 50 at a time), then sends
``--rate`` invitations a second for ``--warmup`` + ``--seconds`` seconds. Sends follow an
absolute schedule (send ``j`` of the whole run is due at ``start + j / rate``; worker ``k``
owns the sends with ``j % K == k``), so a late send does not shift the ones after it.

Each invitation goes from an idle client to another idle client of the same worker
process: the latency (invite→ringing) is measured from just before the caller's
``invitation.send`` emit to the invitee's receipt of ``invitation.received``, both with
``time.perf_counter`` in that one process. The invitee declines at once; both clients go
back to the idle pool when the caller sees ``invitation.ended``, so nobody is invited
while ringing and nobody is refused as busy.

The server's CPU (user + system, % of one core) is measured with psutil over the
measured window (after warm-up); its RSS is sampled every 0.25 s (peak reported). The
server is always stopped at the end, also on error or Ctrl-C. Prints one JSON line.

Run from the repository root::

    .venv/bin/python benchmarks/signaling_load.py                   # N=1000, 50/s, 30 s
    .venv/bin/python benchmarks/signaling_load.py --clients 100 --seconds 5
    .venv/bin/python benchmarks/signaling_load.py --clients 5000 --servers 2 --redis

With ``--servers 2 --redis`` two server processes share a ``redis-server`` the script
starts (Unix socket, no persistence); clients are spread over the servers and every
invitation goes from a client of one server to a client of the other.

Diagnostics: ``--server-gc-trace`` reports the server's garbage-collection pauses in the
window (and the ones over 10 ms with their time); ``--samples FILE`` writes the latency
timeline; ``--server-profile FILE`` runs the server under cProfile (slower; for finding hot
spots), writes its stats to FILE and prints the top functions on stderr. What-if options
``--server-gc-freeze`` and ``--server-gc-threshold`` tune the server's GC from the
benchmark's launcher (``signaling/`` is not changed); figures taken with them are not the
stock server's.

The client workers share the machine with the server (2 cores here): the JSON line
reports their CPU, the whole machine's CPU and the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import math
import multiprocessing
import os
import platform
import pstats
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil
import socketio

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from signaling.auth import mint_token  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

GOAL_P99_MS = 25.0
CONNECT_CONCURRENCY = 50
DRAIN_S = 3.0  # how long to wait for late receipts after the last send
SERVER_START_TIMEOUT_S = 20.0
STEP_TIMEOUT_S = 300.0  # no single phase (connecting, running) may take longer


# --- worker side ----------------------------------------------------------------------


@dataclass
class WorkerPlan:
    """What one worker process does; sent to it when it starts."""

    index: int
    workers: int
    # One per server: client slot i signs in to urls[i % len(urls)].
    urls: list[str]
    secret: str
    user_ids: list[str]
    connect_concurrency: int


@dataclass
class Pending:
    seq: int
    measured: bool
    caller: int
    invitee: int
    t_send: float
    t_recv: float | None = None


@dataclass
class WorkerStats:
    latencies_ms: list[float] = field(default_factory=list)
    samples: list[tuple[int, float]] = field(default_factory=list)  # (send number, ms)
    ack_ms: list[float] = field(default_factory=list)
    lateness_ms: list[float] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    send_errors: int = 0
    decline_errors: int = 0
    skipped_no_idle: int = 0
    ended: int = 0
    unexpected: int = 0


class Worker:
    """N/K clients in one process, sending and answering invitations."""

    def __init__(self, plan: WorkerPlan) -> None:
        self.plan = plan
        self.clients: list[socketio.AsyncClient] = []
        # Idle clients per server (slot % servers).
        self.idle: list[collections.deque[int]] = [collections.deque() for _ in plan.urls]
        self.pending: dict[int, Pending] = {}  # by seq
        self.by_invitation: dict[str, Pending] = {}
        self.stats = WorkerStats()
        self.tasks: set[asyncio.Task[None]] = set()
        self.connect_failures: list[str] = []

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _install(self, sio: socketio.AsyncClient, slot: int) -> None:
        async def on_received(data: Any) -> None:
            now = time.perf_counter()
            try:
                seq = int(str(data["custom_data"]).removeprefix("seq:"))
                invitation_id = str(data["invitation_id"])
            except (KeyError, TypeError, ValueError):
                self.stats.unexpected += 1
                return
            item = self.pending.get(seq)
            if item is None or item.invitee != slot:
                self.stats.unexpected += 1
                return
            item.t_recv = now
            self.by_invitation[invitation_id] = item
            if item.measured:
                self.stats.received += 1
                self.stats.latencies_ms.append((now - item.t_send) * 1000.0)
                self.stats.samples.append((item.seq, (now - item.t_send) * 1000.0))
            answer = await sio.call(
                "invitation.decline", {"invitation_id": invitation_id}, timeout=10
            )
            if not (isinstance(answer, dict) and answer.get("ok")):
                self.stats.decline_errors += 1

        async def on_ended(data: Any) -> None:
            # Caller and invitee both get it; the caller's copy frees the pair.
            invitation_id = data.get("invitation_id") if isinstance(data, dict) else None
            item = self.by_invitation.get(str(invitation_id))
            if item is None or item.caller != slot:
                return
            del self.by_invitation[str(invitation_id)]
            self.pending.pop(item.seq, None)
            self.stats.ended += 1
            self.idle[item.caller % len(self.idle)].append(item.caller)
            self.idle[item.invitee % len(self.idle)].append(item.invitee)

        sio.on("invitation.received", on_received)
        sio.on("invitation.ended", on_ended)

    async def connect_all(self) -> float:
        """Connect every client, ``connect_concurrency`` at a time; returns seconds taken."""
        gate = asyncio.Semaphore(self.plan.connect_concurrency)
        connected: list[socketio.AsyncClient | None] = [None] * len(self.plan.user_ids)

        async def one(slot: int, user_id: str) -> None:
            async with gate:
                sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
                self._install(sio, slot)
                token = mint_token(self.plan.secret, user_id, f"Load {user_id}")
                try:
                    await sio.connect(
                        self.plan.urls[slot % len(self.plan.urls)],
                        auth={"token": token},
                        transports=["websocket"],
                        wait_timeout=30,
                    )
                except Exception as exc:  # reported, not fatal: the figure says how many
                    self.connect_failures.append(f"{user_id}: {exc!r}")
                    return
                connected[slot] = sio

        started = time.perf_counter()
        await asyncio.gather(*(one(i, u) for i, u in enumerate(self.plan.user_ids)))
        took = time.perf_counter() - started
        self.clients = [c for c in connected if c is not None]
        # Handlers hold their slot number, so every client must be there.
        if len(self.clients) != len(connected):
            raise RuntimeError(
                f"{len(self.connect_failures)} clients failed to connect: "
                f"{self.connect_failures[:3]}"
            )
        for slot in range(len(self.clients)):
            self.idle[slot % len(self.idle)].append(slot)
        return took

    async def send_one(self, seq: int, measured: bool, scheduled: float) -> None:
        # With several servers the caller and the invitee are on different ones.
        servers = len(self.idle)
        callers, invitees = self.idle[seq % servers], self.idle[(seq + 1) % servers]
        if not callers or not invitees or (callers is invitees and len(callers) < 2):
            self.stats.skipped_no_idle += 1
            return
        caller = callers.popleft()
        invitee = invitees.popleft()
        sio = self.clients[caller]
        payload = {
            "invitees": [self.plan.user_ids[invitee]],
            "call_type": "voice",
            "custom_data": f"seq:{seq}",
        }
        item = Pending(seq, measured, caller, invitee, time.perf_counter())
        self.pending[seq] = item
        if measured:
            self.stats.sent += 1
            self.stats.lateness_ms.append((item.t_send - scheduled) * 1000.0)
        try:
            answer = await sio.call("invitation.send", payload, timeout=10)
        except Exception:
            answer = None
        if measured:
            self.stats.ack_ms.append((time.perf_counter() - item.t_send) * 1000.0)
        if measured and not (isinstance(answer, dict) and answer.get("ok")):
            self.stats.send_errors += 1

    async def run(self, start: float, rate: float, warmup: float, seconds: float) -> None:
        """Send this worker's share of the schedule; ``start`` is on the perf_counter clock."""
        k, workers = self.plan.index, self.plan.workers
        total = math.floor((warmup + seconds) * rate)
        measured_from = start + warmup
        for j in range(k, total, workers):
            due = start + j / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.spawn(self.send_one(j, due >= measured_from, due))
        # Let the last invitations ring and be answered.
        deadline = time.perf_counter() + DRAIN_S
        while time.perf_counter() < deadline:
            if all(p.t_recv is not None for p in self.pending.values()) and not self.tasks:
                break
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

        async def bye(sio: socketio.AsyncClient) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sio.disconnect(), 5)

        gate = asyncio.Semaphore(100)

        async def bounded(sio: socketio.AsyncClient) -> None:
            async with gate:
                await bye(sio)

        await asyncio.gather(*(bounded(c) for c in self.clients))


async def _worker_main(conn: Connection, plan: WorkerPlan) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    main_task = asyncio.current_task()

    def readable() -> None:
        try:
            message = conn.recv()
        except EOFError:  # the parent is gone
            loop.remove_reader(conn.fileno())
            message = ("stop",)
        if message[0] == "stop" and main_task is not None:
            main_task.cancel()  # whatever phase we are in; the finally below cleans up
        else:
            inbox.put_nowait(message)

    loop.add_reader(conn.fileno(), readable)
    # The latency is timed in this process: a pause of its own would count as the
    # server's. Record this process's collector pauses (perf clock, ms) to tell them apart.
    pauses: list[tuple[float, float]] = []
    began = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append((began[0], (time.perf_counter() - began[0]) * 1000.0))

    gc.callbacks.append(on_gc)
    worker = Worker(plan)
    try:
        try:
            took = await asyncio.wait_for(worker.connect_all(), STEP_TIMEOUT_S)
        except Exception as exc:
            conn.send(("error", f"connect: {exc}"))
            return
        # Thousands of clients are tens of thousands of long-lived objects; a full
        # collection scanning them paused this process ~300 ms in the window (measured),
        # which the timing charged to the server. Out of the collector's sight they go.
        gc.collect()
        gc.freeze()
        conn.send(("connected", len(worker.clients), took))
        message = await asyncio.wait_for(inbox.get(), STEP_TIMEOUT_S)
        if message[0] != "go":
            return
        _, start_monotonic, rate, warmup, seconds = message
        # CLOCK_MONOTONIC is system-wide; convert the shared start to this process's perf clock.
        start = start_monotonic - time.monotonic() + time.perf_counter()
        await asyncio.wait_for(worker.run(start, rate, warmup, seconds), STEP_TIMEOUT_S)
        s = worker.stats
        lost = sum(1 for p in worker.pending.values() if p.measured and p.t_recv is None)
        window_start = start + warmup
        window_pauses = [
            (round(at - window_start, 2), round(ms, 1))
            for at, ms in pauses
            if window_start <= at <= window_start + seconds and ms >= 10.0
        ]
        conn.send(
            (
                "result",
                {
                    "latencies_ms": s.latencies_ms,
                    "samples": s.samples,
                    "ack_ms": s.ack_ms,
                    "lateness_ms": s.lateness_ms,
                    "sent": s.sent,
                    "received": s.received,
                    "lost": lost,
                    "send_errors": s.send_errors,
                    "decline_errors": s.decline_errors,
                    "skipped_no_idle": s.skipped_no_idle,
                    "unexpected": s.unexpected,
                    "ended": s.ended,
                    "cpu_s": sum(os.times()[:2]),
                    "gc_pauses_over_10ms": window_pauses,
                },
            )
        )
        await asyncio.sleep(30)  # until "stop" (or the pipe closing) cancels us
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(conn.fileno())
        await asyncio.shield(worker.close())


def worker_process(conn: Connection, plan: WorkerPlan) -> None:
    """Entry point of a worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        asyncio.run(_worker_main(conn, plan))
    except asyncio.CancelledError:
        pass  # told to stop
    except Exception as exc:
        with contextlib.suppress(Exception):
            conn.send(("error", repr(exc)))
    finally:
        conn.close()


# --- parent side ----------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0–100), linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


# Runs the server module in a child; optionally traces GC pauses and/or profiles it.
_SERVER_BOOT = """
import gc, os, runpy, sys, time
if os.environ.get("BENCH_GC_TRACE"):
    _t = [0.0]
    def _gc(phase, info):
        if phase == "start":
            _t[0] = time.perf_counter()
        else:
            ms = (time.perf_counter() - _t[0]) * 1000.0
            at = time.monotonic()
            line = f"BENCH-GC {info['generation']} {ms:.3f} {info['collected']} {at:.4f}"
            print(line, file=sys.stderr, flush=True)
    gc.callbacks.append(_gc)
sys.argv = ["parley-server", *sys.argv[1:]]
if os.environ.get("BENCH_GC_THRESHOLD"):
    gc.set_threshold(*(int(x) for x in os.environ["BENCH_GC_THRESHOLD"].split(",")))
if os.environ.get("BENCH_GC_FREEZE"):
    import signaling.server.cli  # everything the server imports, then out of the GC's sight
    gc.collect()
    gc.freeze()
profile = os.environ.get("BENCH_PROFILE")
if profile:
    import cProfile
    prof = cProfile.Profile()
    try:
        prof.runcall(runpy.run_module, "signaling.server.cli", run_name="__main__")
    except SystemExit:
        pass
    finally:
        prof.dump_stats(profile)
else:
    runpy.run_module("signaling.server.cli", run_name="__main__")
"""


def gc_summary(pauses: list[tuple[int, float, float]], window_start: float) -> dict[str, Any]:
    """Collections per generation with their total and longest pause (ms), and long pauses."""
    out: dict[str, Any] = {
        "over_10ms_at_s": [
            [round(at - window_start, 2), g, round(ms, 1)] for g, ms, at in pauses if ms > 10
        ][:30]
    }
    for generation in (0, 1, 2):
        ms = [p for g, p, _ in pauses if g == generation]
        out[f"gen{generation}"] = {
            "count": len(ms),
            "total_ms": round(sum(ms), 1),
            "max_ms": round(max(ms), 2) if ms else None,
        }
    return out


class Server:
    """``parley-server`` in a child process; always stopped by :meth:`stop`."""

    def __init__(
        self,
        secret: str,
        profile: str | None,
        gc_trace: bool,
        gc_freeze: bool = False,
        gc_threshold: str | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        diagnostics = bool(profile or gc_trace or gc_freeze or gc_threshold)
        # Plain ``python -m signaling.server.cli`` unless a diagnostic needs the boot hook.
        launcher = ["-c", _SERVER_BOOT] if diagnostics else ["-m", "signaling.server.cli"]
        cmd = [sys.executable, *launcher, "--port", "0", "--secret", secret]
        cmd += ["--log-level", "WARNING", *extra]
        env = dict(os.environ)
        # Its accounts and files in a folder of its own, not the user's data directory.
        env["PARLEY_DATA_DIR"] = tempfile.mkdtemp(prefix="parley-bench-")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        for name in ("BENCH_PROFILE", "BENCH_GC_TRACE", "BENCH_GC_FREEZE", "BENCH_GC_THRESHOLD"):
            env.pop(name, None)
        if gc_freeze:
            env["BENCH_GC_FREEZE"] = "1"
        if gc_threshold:
            env["BENCH_GC_THRESHOLD"] = gc_threshold
        if profile:
            env["BENCH_PROFILE"] = str(Path(profile).resolve())
        if gc_trace:
            env["BENCH_GC_TRACE"] = "1"
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=50)
        self.gc_pauses: list[tuple[int, float, float]] = []  # (generation, ms, monotonic end)
        try:
            self.url = self._read_url()
        except BaseException:  # not started, or Ctrl-C while starting: never leave it behind
            self.stop()
            raise
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read_url(self) -> str:
        assert self.proc.stdout is not None
        found: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            found.append(self.proc.stdout.readline())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(SERVER_START_TIMEOUT_S)
        line = found[0].strip() if found else ""
        prefix = "parley-server listening on "
        if not line.startswith(prefix):
            err = (
                self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
            )
            raise RuntimeError(f"server did not start: {line!r} {err[-2000:]}")
        return line.removeprefix(prefix)

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.startswith("BENCH-GC "):
                _, generation, ms, _collected, at = line.split()
                self.gc_pauses.append((int(generation), float(ms), float(at)))
            else:
                self.stderr_tail.append(line.rstrip())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def fetch_metrics(url: str) -> dict[str, float]:
    """The server's /metrics as ``{"name{labels}": value}``; empty if unreachable."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


class ResourceSampler:
    """Peak RSS of a process sampled in a thread; CPU time read at window edges."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak_rss = max(self.peak_rss, int(self.process.memory_info().rss))
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


def _recv(conn: Connection, timeout: float, what: str) -> Any:
    if not conn.poll(timeout):
        raise RuntimeError(f"no answer from a worker while {what} within {timeout:.0f} s")
    try:
        return conn.recv()
    except EOFError:
        raise RuntimeError(f"a worker died while {what}") from None


def run(args: argparse.Namespace) -> dict[str, Any]:
    secret = secrets.token_hex(32)  # hex: never starts with "-", which argparse would misread
    load_before = os.getloadavg()
    redis = RedisServer() if args.redis else None
    shared = ("--redis", redis.url, "--redis-prefix", "bench:") if redis else ()
    servers: list[Server] = []
    ctx = multiprocessing.get_context("spawn")
    workers: list[tuple[Any, Connection]] = []
    samplers: list[ResourceSampler] = []
    try:
        for _ in range(args.servers):
            # Diagnostics (profile, GC) on the first server only.
            diagnose = not servers
            servers.append(
                Server(
                    secret,
                    args.server_profile if diagnose else None,
                    args.server_gc_trace and diagnose,
                    args.server_gc_freeze,
                    args.server_gc_threshold,
                    extra=shared,
                )
            )
        server = servers[0]
        samplers = [ResourceSampler(s.proc.pid) for s in servers]
        for sampler in samplers:
            sampler.start()
        rss_idle = [int(s.process.memory_info().rss) for s in samplers]
        user_ids = [f"u{i:05d}" for i in range(args.clients)]
        t_connect = time.perf_counter()
        for k in range(args.workers):
            mine = user_ids[k :: args.workers]
            urls = [s.url for s in servers]
            plan = WorkerPlan(k, args.workers, urls, secret, mine, CONNECT_CONCURRENCY)
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=worker_process, args=(child_end, plan), daemon=True)
            proc.start()
            child_end.close()
            workers.append((proc, parent_end))
        per_worker_connect = []
        connected = 0
        for _, conn in workers:
            message = _recv(conn, STEP_TIMEOUT_S, "connecting")
            if message[0] != "connected":
                raise RuntimeError(f"worker failed: {message}")
            connected += message[1]
            per_worker_connect.append(round(message[2], 2))
        connect_s = time.perf_counter() - t_connect
        rss_connected = [int(s.process.memory_info().rss) for s in samplers]
        time.sleep(1.0)  # let welcome/presence work of the last logins settle

        start = time.monotonic() + 0.5
        for _, conn in workers:
            conn.send(("go", start, args.rate, args.warmup, args.seconds))
        window_start = start + args.warmup
        time.sleep(max(0.0, window_start - time.monotonic()))
        cpu_start = [s.cpu_seconds() for s in samplers]
        gc_from = len(server.gc_pauses)
        psutil.cpu_percent(None)
        worker_ps = [psutil.Process(p.pid) for p, _ in workers]
        worker_cpu_start = [sum(p.cpu_times()[:2]) for p in worker_ps]
        time.sleep(max(0.0, window_start + args.seconds - time.monotonic()))
        window = time.monotonic() - window_start
        gc_window = server.gc_pauses[gc_from:]
        cpu_end = [s.cpu_seconds() for s in samplers]
        machine_cpu = psutil.cpu_percent(None)
        worker_cpu = [
            round(100.0 * (sum(p.cpu_times()[:2]) - c0) / window, 1)
            for p, c0 in zip(worker_ps, worker_cpu_start, strict=True)
        ]
        results = [_recv(conn, STEP_TIMEOUT_S, "running") for _, conn in workers]
        for message in results:
            if message[0] != "result":
                raise RuntimeError(f"worker failed: {message}")
        metrics = fetch_metrics(server.url)
        for sampler in samplers:
            sampler.stop()
        load_after = os.getloadavg()
        data = [m[1] for m in results]
        latencies = [x for d in data for x in d["latencies_ms"]]
        acks = [x for d in data for x in d["ack_ms"]]
        lateness = [x for d in data for x in d["lateness_ms"]]
        ringing = summary(latencies)
        if args.samples:
            rows = sorted(
                (seq / args.rate - args.warmup, ms) for d in data for seq, ms in d["samples"]
            )
            Path(args.samples).write_text(
                "".join(f"{t:.3f} {ms:.2f}\n" for t, ms in rows), encoding="utf-8"
            )
        p99 = ringing["p99"]
        return {
            "benchmark": "signaling_load",
            "clients": args.clients,
            "clients_connected": connected,
            "rate_per_s": args.rate,
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "workers": args.workers,
            "connect_s": max(per_worker_connect),
            "workers_ready_s": round(connect_s, 2),
            "connect_s_per_worker": per_worker_connect,
            "connect_concurrency_per_worker": CONNECT_CONCURRENCY,
            "invite_to_ringing_ms": ringing,
            "send_ack_ms": summary(acks),
            "send_lateness_ms": summary(lateness),
            "sent": sum(d["sent"] for d in data),
            "received": sum(d["received"] for d in data),
            "lost": sum(d["lost"] for d in data),
            "send_errors": sum(d["send_errors"] for d in data),
            "decline_errors": sum(d["decline_errors"] for d in data),
            "skipped_no_idle": sum(d["skipped_no_idle"] for d in data),
            "unexpected_events": sum(d["unexpected"] for d in data),
            "servers": args.servers,
            "store": "redis" if redis else "memory",
            # Summed over the servers (each process's own below).
            "server_cpu_percent": round(100.0 * (sum(cpu_end) - sum(cpu_start)) / window, 1),
            "server_cpu_percent_each": [
                round(100.0 * (end - begin) / window, 1)
                for begin, end in zip(cpu_start, cpu_end, strict=True)
            ],
            "server_rss_mb_peak": round(max(s.peak_rss for s in samplers) / 2**20, 1),
            "server_rss_mb_idle": round(max(rss_idle) / 2**20, 1),
            "server_rss_mb_connected": round(max(rss_connected) / 2**20, 1),
            "server_rooms_at_end": metrics.get("parley_rooms"),
            "server_active_invitations_at_end": metrics.get("parley_active_invitations"),
            "server_profiled": bool(args.server_profile),
            "server_gc_tuning": {
                "freeze_after_imports": args.server_gc_freeze,
                "threshold": args.server_gc_threshold,
            },
            "server_gc_in_window": gc_summary(gc_window, window_start)
            if args.server_gc_trace
            else None,
            "worker_cpu_percent": worker_cpu,
            # (seconds into the window, ms) of each worker's own collector pauses ≥ 10 ms:
            # invitations timed across one look slower than the server made them.
            "worker_gc_pauses_over_10ms": [d["gc_pauses_over_10ms"] for d in data],
            "machine_cpu_percent_all_cores": round(machine_cpu, 1),
            "goal_p99_ms": GOAL_P99_MS,
            "goal_met": p99 is not None and p99 <= GOAL_P99_MS,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(terse=True),
                "load1_before": round(load_before[0], 2),
                "load1_after": round(load_after[0], 2),
                "note": "server, worker processes and any other jobs share these cores",
            },
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    finally:
        for sampler in samplers:
            sampler.stop()
        for _, conn in workers:
            with contextlib.suppress(OSError):
                conn.send(("stop",))
        try:
            # Workers first: their clients leave cleanly, so the server then stops at once.
            for proc, conn in workers:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)
                conn.close()
        finally:
            for each in servers:
                each.stop()
            if redis is not None:
                redis.stop()
        for each in servers:
            failed = each.proc.returncode not in (0, None, -signal.SIGTERM)
            if (failed or sys.exc_info()[0] is not None) and each.stderr_tail:
                print("\n".join(each.stderr_tail), file=sys.stderr)


def print_profile(path: str, limit: int = 25) -> None:
    """Top functions of a cProfile dump on stderr, by own time and by cumulative time."""
    if not Path(path).exists():
        print(f"no profile written to {path}", file=sys.stderr)
        return
    stats = pstats.Stats(path, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=1000, help="signed-in clients (N)")
    parser.add_argument("--rate", type=float, default=50.0, help="invitations per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--workers", type=int, default=2, help="client processes (K)")
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="server processes; clients are spread over them and every invitation goes "
        "from one server's client to another's (more than one needs --redis)",
    )
    parser.add_argument(
        "--redis",
        action="store_true",
        help="the servers share a redis-server the benchmark starts (parley-server --redis)",
    )
    parser.add_argument("--server-profile", metavar="FILE", help="cProfile the server to FILE")
    parser.add_argument(
        "--server-gc-trace", action="store_true", help="report the server's GC pauses"
    )
    parser.add_argument(
        "--server-gc-freeze",
        action="store_true",
        help="what-if: gc.freeze() in the server after its imports (not the stock server)",
    )
    parser.add_argument(
        "--server-gc-threshold",
        metavar="G0,G1,G2",
        help="what-if: gc.set_threshold(G0, G1, G2) in the server (not the stock server)",
    )
    parser.add_argument(
        "--samples", metavar="FILE", help="write 'seconds-into-window latency-ms' lines to FILE"
    )
    args = parser.parse_args(argv)
    if args.clients < 2 * args.workers or args.clients % (2 * args.workers):
        parser.error("--clients must be a positive multiple of 2 × --workers")
    if args.servers < 1 or (args.servers > 1 and not args.redis):
        parser.error("--servers must be >= 1; more than one share state only with --redis")
    if args.rate <= 0 or args.seconds <= 0 or args.warmup < 0 or args.workers < 1:
        parser.error("--rate and --seconds must be > 0, --warmup >= 0, --workers >= 1")
    # Ctrl-C and SIGTERM both unwind through run()'s cleanup (server and workers stopped),
    # also when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    result = run(args)
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    if args.server_profile:
        print_profile(args.server_profile)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; server and workers stopped", file=sys.stderr)
        sys.exit(130)
