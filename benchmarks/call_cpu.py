"""CPU of one endpoint in a two-way 640x480@30 video + audio call.

The measured endpoint runs in this process, the other in a child process
(multiprocessing, spawn); signals cross a multiprocessing pipe. Each endpoint is a
``media.mesh.Mesh`` with one peer, as in the app. Both send synthetic
640x480@30 video (VP8) and audio (Opus) and decode what they receive. CPU is this
process's user+system time (all its threads: aiortc encodes in an executor and decodes
in a thread per receiver) over the measuring window, as % of one core, after a short
warm-up. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any

from _common import CpuMeter, FirstFrames, PipeSignals, emit, machine, use_ice_policy

from media.mesh import Mesh
from media.peer_types import PeerState, SignalKind
from media.tracks import SyntheticAudioTrack, SyntheticVideoTrack

GOAL_PERCENT = 30.0


async def endpoint(
    conn: Connection, user: str, remote: str, args: argparse.Namespace, *, measured: bool
) -> dict[str, Any]:
    """Run one side of the call; the measured side drives the timing."""
    use_ice_policy(args.ice)
    frames = FirstFrames()
    mesh: Mesh

    async def deliver(from_user: str, _to: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        await mesh.handle_signal(from_user, kind, payload)

    pipe = PipeSignals(conn, deliver)
    mesh = Mesh(
        user,
        pipe.sender(user),
        on_remote_track=lambda _uid, _kind, track: frames.add(track),
        encode_audio_once=not args.per_link_encoding,
    )
    mic = SyntheticAudioTrack(mode="tone")
    camera = SyntheticVideoTrack(user, args.width, args.height, args.fps)
    await mesh.set_local_audio(mic)
    await mesh.set_local_video(camera)
    meter = CpuMeter()
    result: dict[str, Any] = {}
    try:
        if not measured:
            await mesh.add_peer(remote)
            await pipe.control.get()  # "start": the measured side begins its window
            meter.start()
            await pipe.control.get()  # "stop"
            pipe.send_control({"cpu_percent": meter.percent(), "frames": dict(frames.frames)})
            await pipe.control.get()  # "bye", so the pipe is not closed under the parent
            return result
        await pipe.control.get()  # child is up
        link = await mesh.add_peer(remote)
        deadline = time.monotonic() + args.timeout
        while link.state is not PeerState.CONNECTED or len(frames.first) < 2:
            if time.monotonic() > deadline:
                raise TimeoutError("the call did not connect")
            await asyncio.sleep(0.05)
        await asyncio.sleep(args.warmup)
        before = dict(frames.frames)
        pipe.send_control("start")
        meter.start()
        await asyncio.sleep(args.seconds)
        result["cpu_percent"] = round(meter.percent(), 1)
        result["frames_received"] = {
            k: frames.frames.get(k, 0) - before.get(k, 0) for k in frames.frames
        }
        pipe.send_control("stop")
        result["other_endpoint"] = await asyncio.wait_for(pipe.control.get(), 10)
        pipe.send_control("bye")
        return result
    finally:
        await mesh.close()
        mic.stop()
        camera.stop()
        await frames.close()
        await pipe.close()


def child_main(conn: Connection, args: argparse.Namespace) -> None:
    async def run() -> None:
        # Tell the parent we are listening before it offers.
        conn.send(("ctl", "ready"))
        await endpoint(conn, "bob", "alice", args, measured=False)

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=15.0, help="to connect, seconds")
    parser.add_argument("--ice", default="only", choices=["only", "auto", "always", "off"])
    parser.add_argument(
        "--per-link-encoding", action="store_true", help="no shared Opus encoder (aiortc default)"
    )
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe()
    child = ctx.Process(target=child_main, args=(child_conn, args), daemon=True)
    child.start()
    try:
        result = asyncio.run(endpoint(parent_conn, "alice", "bob", args, measured=True))
    finally:
        child.join(timeout=15)
        if child.is_alive():
            child.terminate()
    other = result.get("other_endpoint", {})
    emit(
        {
            "benchmark": "call_cpu",
            "unit": "% of one core, measured endpoint process",
            "goal_percent": GOAL_PERCENT,
            "cpu_percent": result["cpu_percent"],
            "other_endpoint_cpu_percent": round(other.get("cpu_percent", float("nan")), 1),
            "goal_met": result["cpu_percent"] <= GOAL_PERCENT,
            "seconds": args.seconds,
            "frames_received": result["frames_received"],
            "config": {
                "width": args.width,
                "height": args.height,
                "fps": args.fps,
                "codecs": "VP8 + Opus",
                "audio_encoding": "per link" if args.per_link_encoding else "once (OpusFanout)",
                "ice": args.ice,
            },
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
