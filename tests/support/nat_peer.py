"""One side of a call in the NAT lab, run inside a host's namespace:

    python -m tests.support.nat_peer --socket PATH --role alice|bob --ice JSON --hz 440

It signals through the lab's Unix socket (which crosses namespaces), sends a tone of
``--hz`` and prints JSON lines: ``connected`` (seconds from start, the local candidate
type of the pair in use), then ``heard`` (the dominant frequency of what came in) or
``failed``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import numpy as np


def say(**event: Any) -> None:
    print(json.dumps(event), flush=True)


def pair_type(link: Any) -> str:
    """The nominated pair's local and remote candidate types, "local/remote" (host,
    srflx, prflx, relay): a relay at either end means the call goes through TURN (each
    side may nominate its own pair; one's host may send to the other's relay)."""
    pc = link._pc
    for transceiver in pc.getTransceivers() if pc is not None else []:
        ice = transceiver.receiver.transport.transport
        nominated = getattr(ice._connection, "_nominated", {})
        for pair in nominated.values():
            return f"{pair.local_candidate.type}/{pair.remote_candidate.type}"
    return "?"


async def main(args: argparse.Namespace) -> None:
    from aiortc import RTCIceServer
    from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
    from av import AudioFrame

    from media import ice
    from media.mesh import Mesh
    from media.peer_types import MediaKind, PeerState, SignalKind
    from media.synthetic import SyntheticAudioTrack

    ice.set_policy(ice.LoopbackPolicy.OFF)
    started = time.monotonic()
    reader, writer = await asyncio.open_unix_connection(args.socket)
    me, other = ("alice", "bob") if args.role == "alice" else ("bob", "alice")
    writer.write(json.dumps({"hello": me}).encode() + b"\n")

    async def send(to: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        writer.write(json.dumps({"kind": kind.value, "payload": payload}).encode() + b"\n")
        await writer.drain()

    heard: list[np.ndarray[Any, Any]] = []

    async def listen(track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, AudioFrame)
            samples = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0]
            heard.append(samples.astype(np.float64))

    def on_track(_uid: str, kind: MediaKind, track: MediaStreamTrack) -> None:
        if kind is MediaKind.AUDIO:
            asyncio.get_running_loop().create_task(listen(track))

    failed_at: list[float] = []

    def on_state(_uid: str, state: PeerState) -> None:
        if state is PeerState.FAILED and not failed_at:
            failed_at.append(time.monotonic())

    servers = [RTCIceServer(**server) for server in json.loads(args.ice)]
    mesh = Mesh(
        me,
        send,
        on_remote_track=on_track,
        on_peer_state=on_state,
        ice_servers=servers,
        max_rebuilds=args.rebuilds,
        connect_timeout=args.connect_timeout,
    )
    await mesh.set_local_audio(SyntheticAudioTrack(mode="tone", frequency=args.hz))
    await mesh.add_peer(other, send_video=False, recv_video=False)

    async def pump() -> None:
        while line := await reader.readline():
            message = json.loads(line)
            await mesh.handle_signal(other, message["kind"], message["payload"])

    pumping = asyncio.get_running_loop().create_task(pump())
    deadline = started + args.within
    link = mesh.peers.get(other)
    while time.monotonic() < deadline and not failed_at:
        link = mesh.peers.get(other)
        if link is not None and link.state is PeerState.CONNECTED:
            break
        await asyncio.sleep(0.02)
    if link is None or link.state is not PeerState.CONNECTED:
        # When the link gave up (FAILED), or when the test's patience ran out.
        ended = failed_at[0] if failed_at else time.monotonic()
        say(event="failed", after_s=round(ended - started, 2), gave_up=bool(failed_at))
    else:
        say(event="connected", after_s=round(time.monotonic() - started, 3), pair=pair_type(link))
        await asyncio.sleep(2.0)
        audio = np.concatenate(heard[-50:]) if heard else np.zeros(960)
        spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
        hz = float(np.argmax(spectrum) * 48000 / len(audio)) if heard else 0.0
        say(event="heard", hz=round(hz, 1), frames=len(heard))
    await asyncio.to_thread(sys.stdin.readline)  # hold the call until the test is done
    pumping.cancel()
    await mesh.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--role", choices=["alice", "bob"], required=True)
    parser.add_argument("--ice", default="[]")
    parser.add_argument("--hz", type=float, default=440.0)
    parser.add_argument("--within", type=float, default=20.0)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
