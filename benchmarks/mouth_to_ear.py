"""Mouth-to-ear latency: a click into one side's synthetic microphone, found in the other
side's mixed playback output.

Two PeerLinks in one process on loopback, audio only (Opus, 20 ms frames). The sender's
``SyntheticAudioTrack.inject_click()`` returns when the frame carrying the click leaves
``recv()`` (perf_counter); the receiver plays through ``AudioPlayback`` on its null
(clock-driven) output, and a tap finds the click's first loud sample in the mixed
blocks: latency = block time + sample offset - click time. The null output has no
device buffer, so a real speaker adds its own output latency on top. Both receive paths
are measured in one run, one after the other: aiortc's own (``stock``, the floor) and
Parley's (:mod:`media.voice_receive`). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt
from _common import LocalSignals, emit, machine, summary_ms, use_ice_policy
from aiortc.mediastreams import MediaStreamTrack

from media.peer import PeerLink
from media.peer_types import MediaDirections, MediaKind, PeerState, SignalKind
from media.playback import NULL_OUTPUT, AudioPlayback
from media.tracks import SyntheticAudioTrack

GOAL_P95_MS = 80.0
RATE = 48_000
THRESHOLD = 8_000  # int16; the click peaks near 29,000, silence is 0
REFRACTORY_S = 0.1


class ClickDetector:
    """A playback tap that pairs each loud onset with the oldest click not yet heard."""

    def __init__(self) -> None:
        self.sent: deque[float] = deque()
        self.latencies: list[float] = []
        self.unmatched = 0
        self._last_onset = 0.0

    def tap(self, block: npt.NDArray[np.int16], played_at: float) -> None:
        loud = np.flatnonzero(np.abs(block.astype(np.int32)) > THRESHOLD)
        if not len(loud):
            return
        onset = played_at + loud[0] / RATE
        if onset - self._last_onset < REFRACTORY_S:
            return
        self._last_onset = onset
        if not self.sent:
            self.unmatched += 1
            return
        self.latencies.append(onset - self.sent.popleft())


async def one_run(args: argparse.Namespace, voice_receive: bool) -> ClickDetector:
    signals = LocalSignals()
    playback = AudioPlayback(NULL_OUTPUT)
    detector = ClickDetector()
    playback.add_tap(detector.tap)
    await playback.start()
    mic = SyntheticAudioTrack(mode="silence")
    audio_only = MediaDirections(send_video=False, recv_video=False)

    def on_track(uid: str, track: MediaStreamTrack) -> None:
        playback.add_track(uid, track)

    speaker = PeerLink("alice", "bob", signals.sender("alice"), directions=audio_only)
    listener = PeerLink(
        "bob",
        "alice",
        signals.sender("bob"),
        directions=audio_only,
        on_track=on_track,
        voice_receive=voice_receive,
    )
    for link in (speaker, listener):

        async def deliver(
            _f: str, kind: SignalKind, payload: dict[str, Any], link: PeerLink = link
        ) -> None:
            await link.handle_signal(kind, payload)

        signals.attach(link.local_id, deliver)
    await speaker.set_track(MediaKind.AUDIO, mic)
    await listener.start()
    await speaker.start()
    try:
        deadline = time.monotonic() + args.timeout
        while listener.state is not PeerState.CONNECTED or "alice" not in playback.keys:
            if time.monotonic() > deadline:
                raise TimeoutError("the call did not connect")
            await asyncio.sleep(0.05)
        await asyncio.sleep(args.settle)  # let the jitter buffer and mixer fill
        for _ in range(args.clicks):
            detector.sent.append(mic.inject_click())
            await asyncio.sleep(args.interval)
        await asyncio.sleep(0.5)
    finally:
        await speaker.close()
        await listener.close()
        await playback.close()
        await signals.close()
    return detector


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    use_ice_policy(args.ice)
    results: dict[str, Any] = {}
    for name in args.receivers.split(","):
        detector = await one_run(args, voice_receive=name == "parley")
        results[name] = {
            "detected": len(detector.latencies),
            "lost": len(detector.sent),
            "spurious": detector.unmatched,
            "latency": summary_ms(detector.latencies),
        }
    parley = results.get("parley", {})
    return {
        "benchmark": "mouth_to_ear",
        "unit": "ms, click into synthetic mic → first loud sample in mixed playback",
        "goal_p95_ms": GOAL_P95_MS,
        "clicks": args.clicks,
        "results": results,
        "goal_met": bool(parley)
        and parley["latency"].get("p95", float("inf")) <= GOAL_P95_MS
        and parley["detected"] == args.clicks,
        "config": {"interval_s": args.interval, "ice": args.ice, "output": "null (clock)"},
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=50, help="clicks to time (default 50)")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between clicks")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before the first")
    parser.add_argument("--timeout", type=float, default=10.0, help="to connect, seconds")
    parser.add_argument("--ice", default="only", choices=["only", "auto", "always", "off"])
    parser.add_argument("--receivers", default="stock,parley", help="receive paths to time")
    emit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
