"""Call set-up time: createOffer → first remote video frame and first remote audio frame.

Two PeerLinks in one process on loopback (``PARLEY_ICE_LOOPBACK=only`` by default),
640x480@30 synthetic video and synthetic audio both ways, signals through an in-process
relay (JSON round trip, no network hop). Each run builds fresh links; one warm-up run is
not counted. Times are measured from just before the offerer's ``start()`` (which calls
createOffer) to the first decoded frame on each side; "both" is the later of the two
sides, i.e. when the call is up for everyone. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from typing import Any

from _common import FirstFrames, LocalSignals, emit, machine, summary_ms, use_ice_policy
from aiortc.mediastreams import MediaStreamTrack

from media.peer import PeerLink
from media.peer_types import MediaKind, PeerState, SignalKind
from media.tracks import SyntheticAudioTrack, SyntheticVideoTrack

GOAL_MS = 150.0


def _reader(frames: FirstFrames) -> Callable[[str, MediaStreamTrack], None]:
    return lambda _uid, track: frames.add(track)


async def one_call(width: int, height: int, fps: int, timeout: float) -> dict[str, float]:
    signals = LocalSignals()
    frames = {"alice": FirstFrames(), "bob": FirstFrames()}
    links: dict[str, PeerLink] = {}
    for user, remote in (("alice", "bob"), ("bob", "alice")):
        link = PeerLink(
            user,
            remote,
            signals.sender(user),
            on_track=_reader(frames[user]),
        )
        links[user] = link

        async def deliver(
            _f: str, kind: SignalKind, payload: dict[str, Any], link: PeerLink = link
        ) -> None:
            await link.handle_signal(kind, payload)

        signals.attach(user, deliver)
        await link.set_track(MediaKind.AUDIO, SyntheticAudioTrack(mode="tone"))
        await link.set_track(MediaKind.VIDEO, SyntheticVideoTrack(user, width, height, fps))
    await links["bob"].start()
    t0 = time.perf_counter()
    await links["alice"].start()  # the offerer: createOffer happens here
    try:
        waits = [frames[u].event(k).wait() for u in frames for k in ("audio", "video")]
        await asyncio.wait_for(asyncio.gather(*waits), timeout)
        connected = all(link.state is PeerState.CONNECTED for link in links.values())
        result = {
            f"{kind}_{user}": frames[user].first[kind] - t0
            for user in frames
            for kind in ("audio", "video")
        }
        result["connected"] = float(connected)
        return result
    finally:
        for link in links.values():
            await link.close()
        for f in frames.values():
            await f.close()
        await signals.close()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    use_ice_policy(args.ice)
    await one_call(args.width, args.height, args.fps, args.timeout)  # warm-up
    runs = [
        await one_call(args.width, args.height, args.fps, args.timeout) for _ in range(args.runs)
    ]
    video_both = [max(r["video_alice"], r["video_bob"]) for r in runs]
    audio_both = [max(r["audio_alice"], r["audio_bob"]) for r in runs]
    return {
        "benchmark": "call_setup",
        "unit": "ms from createOffer",
        "goal_ms": GOAL_MS,
        "runs": args.runs,
        "video": summary_ms(video_both),
        "audio": summary_ms(audio_both),
        "video_at_answerer": summary_ms([r["video_bob"] for r in runs]),
        "video_at_offerer": summary_ms([r["video_alice"] for r in runs]),
        "audio_at_answerer": summary_ms([r["audio_bob"] for r in runs]),
        "audio_at_offerer": summary_ms([r["audio_alice"] for r in runs]),
        "video_goal_met": summary_ms(video_both)["p95"] <= GOAL_MS,
        "audio_goal_met": summary_ms(audio_both)["p95"] <= GOAL_MS,
        "config": {"width": args.width, "height": args.height, "fps": args.fps, "ice": args.ice},
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="measured calls (default 10)")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=10.0, help="per call, seconds")
    parser.add_argument(
        "--ice",
        default="only",
        choices=["only", "auto", "always", "off"],
        help="loopback ICE policy (default: only, i.e. loopback candidates alone)",
    )
    emit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
