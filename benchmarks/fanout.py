"""Audio-room fan-out: CPU of one speaker process sending audio to N listener processes.

The speaker runs a :class:`media.mesh.Mesh` in this process with one send-only audio
link per listener (Opus, synthetic tone). Listeners run in child processes (spawn; one
receive-only PeerLink each by default), signals cross one multiprocessing pipe per
child. For each N the speaker's CPU (user+system, all threads, % of one core) is
measured over a window once every listener receives audio; the whole machine's CPU is
reported too, since N listener processes share the same cores. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from _common import (
    CpuMeter,
    FirstFrames,
    PipeSignals,
    emit,
    machine,
    system_cpu_percent_sampler,
    use_ice_policy,
)
from aiortc.mediastreams import MediaStreamTrack

from media.mesh import Mesh
from media.peer import PeerLink
from media.peer_types import MediaDirections, PeerState, SignalKind
from media.tracks import SyntheticAudioTrack

GOAL_PERCENT_AT_20 = 40.0
SPEAKER = "a-speaker"  # sorts before every "l-…" listener, so the speaker offers


def _reader(frames: FirstFrames) -> Callable[[str, MediaStreamTrack], None]:
    return lambda _uid, track: frames.add(track)


async def listeners(conn: Connection, ids: list[str], ice: str) -> None:
    """A child process: receive-only links to the speaker, until told to stop."""
    use_ice_policy(ice)
    links: dict[str, PeerLink] = {}
    frames = {uid: FirstFrames() for uid in ids}

    async def deliver(_f: str, to_user: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        await links[to_user].handle_signal(kind, payload)

    pipe = PipeSignals(conn, deliver)
    listen = MediaDirections(send_audio=False, send_video=False, recv_audio=True, recv_video=False)
    try:
        for uid in ids:
            links[uid] = PeerLink(
                uid, SPEAKER, pipe.sender(uid), directions=listen, on_track=_reader(frames[uid])
            )
            await links[uid].start()
        pipe.send_control("ready")
        await asyncio.gather(*(f.event("audio").wait() for f in frames.values()))
        pipe.send_control("flowing")
        await pipe.control.get()  # "start"
        before = sum(f.frames.get("audio", 0) for f in frames.values())
        await pipe.control.get()  # "stop"
        after = sum(f.frames.get("audio", 0) for f in frames.values())
        pipe.send_control({"audio_frames": after - before})
        await pipe.control.get()  # "bye"
    finally:
        for link in links.values():
            await link.close()
        for f in frames.values():
            await f.close()
        await pipe.close()


def child_main(conn: Connection, ids: list[str], ice: str) -> None:
    asyncio.run(listeners(conn, ids, ice))


async def measure(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Start N listeners, measure the speaker, tear everything down."""
    ctx = multiprocessing.get_context("spawn")
    ids = [f"l-{i:03d}" for i in range(n)]
    per = max(1, args.listeners_per_process)
    chunks = [ids[i : i + per] for i in range(0, n, per)]
    pipes: list[PipeSignals] = []
    owner: dict[str, PipeSignals] = {}
    procs = []
    mesh: Mesh

    async def deliver(from_user: str, _to: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        await mesh.handle_signal(from_user, kind, payload)

    async def route(to_user: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        await owner[to_user].sender(SPEAKER)(to_user, kind, payload)

    mesh = Mesh(SPEAKER, route, stats_interval=3600, encode_audio_once=not args.per_link_encoding)
    mic = SyntheticAudioTrack(mode="tone")
    try:
        for chunk in chunks:
            parent_conn, child_conn = ctx.Pipe()
            proc = ctx.Process(target=child_main, args=(child_conn, chunk, args.ice), daemon=True)
            proc.start()
            procs.append(proc)
            pipe = PipeSignals(parent_conn, deliver)
            pipes.append(pipe)
            owner.update(dict.fromkeys(chunk, pipe))
        await mesh.set_local_audio(mic)
        timeout = args.timeout
        await asyncio.wait_for(asyncio.gather(*(p.control.get() for p in pipes)), timeout)
        for uid in ids:
            await mesh.add_peer(
                uid, send_audio=True, send_video=False, recv_audio=False, recv_video=False
            )
        await asyncio.wait_for(asyncio.gather(*(p.control.get() for p in pipes)), timeout)
        connected = sum(1 for link in mesh.peers.values() if link.state is PeerState.CONNECTED)
        await asyncio.sleep(args.warmup)
        meter = CpuMeter()
        machine_cpu = system_cpu_percent_sampler()
        for p in pipes:
            p.send_control("start")
        meter.start()
        t0 = time.perf_counter()
        await asyncio.sleep(args.seconds)
        speaker_cpu = meter.percent()
        total_cpu = machine_cpu()
        window = time.perf_counter() - t0
        for p in pipes:
            p.send_control("stop")
        reports = await asyncio.wait_for(asyncio.gather(*(p.control.get() for p in pipes)), timeout)
        frames = sum(r["audio_frames"] for r in reports)
        for p in pipes:
            p.send_control("bye")
        return {
            "n": n,
            "speaker_cpu_percent": round(speaker_cpu, 1),
            "machine_cpu_percent_all_cores": round(total_cpu, 1),
            "connected": connected,
            # 50 frames/s per listener when every packet arrives and decodes.
            "delivery_ratio": round(frames / (50.0 * window * n), 3),
            "listener_processes": len(chunks),
        }
    finally:
        await mesh.close()
        mic.stop()
        for p in pipes:
            await p.close()
        for proc in procs:
            proc.join(timeout=15)
            if proc.is_alive():
                proc.terminate()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    use_ice_policy(args.ice)
    results = [await measure(n, args) for n in args.n]
    at_20 = next((r for r in results if r["n"] == 20), None)
    return {
        "benchmark": "fanout",
        "unit": "% of one core, speaker process",
        "goal_percent_at_20": GOAL_PERCENT_AT_20,
        "results": results,
        "goal_met": None if at_20 is None else at_20["speaker_cpu_percent"] <= GOAL_PERCENT_AT_20,
        "seconds": args.seconds,
        "config": {
            "codec": "Opus 48 kHz mono 20 ms",
            "ice": args.ice,
            "listeners_per_process": args.listeners_per_process,
            "audio_encoding": "per link" if args.per_link_encoding else "once (OpusFanout)",
        },
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, nargs="+", default=[5, 10, 20], help="listener counts (default 5 10 20)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="window per N (default 20)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--listeners-per-process", type=int, default=1)
    parser.add_argument(
        "--per-link-encoding",
        action="store_true",
        help="encode Opus once per listener (aiortc's default) instead of once for all",
    )
    parser.add_argument("--timeout", type=float, default=90.0, help="to start/connect, seconds")
    parser.add_argument("--ice", default="only", choices=["only", "auto", "always", "off"])
    args = parser.parse_args()
    if any(n < 1 for n in args.n) or not math.isfinite(args.seconds):
        parser.error("N must be >= 1")
    emit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
