"""Voice over a lossy link: two real meshes on loopback, one in ten of Alice's packets lost.

Bob's receiver drops every tenth audio packet before aiortc sees it, so its statistics
count the loss and its receiver reports tell Alice, as a lossy network would. What Bob
hears must stay continuous: each lost packet rebuilt from the FEC copy in the next one
(or concealed), no frame missing from the sender's timeline. Alice's one encoder sizes
its FEC by the loss Bob reports, and turns it off on a clean link.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from av import AudioFrame

from media.mesh import Mesh
from media.peer_types import MediaKind, PeerState
from media.relay import OpusFanout
from media.silence import SilenceSuppression, set_track_suppression
from media.tracks import SyntheticAudioTrack
from media.voice_receive import VoiceReceivePath, voice_receive_of
from tests.integration.media.conftest import Closer, SignalNetwork, wait_for

TIMEOUT = 15.0
FRAME = 960


class Listener:
    """Bob: a mesh whose audio receiver loses every ``drop_every``-th packet."""

    def __init__(self, network: SignalNetwork, closer: Closer, drop_every: int | None) -> None:
        self.drop_every = drop_every
        self.dropped = 0
        self.frames: list[AudioFrame] = []
        self.path: VoiceReceivePath | None = None
        self.mesh = Mesh("bob", network.sender("bob"), on_remote_track=self._track)
        network.attach("bob", self.mesh.handle_signal)
        self._reader: asyncio.Task[None] | None = None
        closer.add(self.close)

    def _track(self, _user: str, kind: MediaKind, track: MediaStreamTrack) -> None:
        if kind is not MediaKind.AUDIO:
            return
        receiver = next(
            t.receiver
            for t in self.mesh.peers["alice"]._pc.getTransceivers()  # type: ignore[union-attr]
            if t.receiver.track is track
        )
        self.path = voice_receive_of(receiver)
        if self.drop_every is not None:
            self._lose_packets(receiver, self.drop_every)
        self._reader = asyncio.get_running_loop().create_task(self._read(track))

    def _lose_packets(self, receiver: RTCRtpReceiver, every: int) -> None:
        handle = receiver._handle_rtp_packet
        count = 0

        async def lossy(packet: Any, arrival_time_ms: int) -> None:
            nonlocal count
            count += 1
            if count % every == 0:
                self.dropped += 1
                return
            await handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = lossy  # type: ignore[method-assign]

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, AudioFrame)
            self.frames.append(frame)

    async def close(self) -> None:
        await self.mesh.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)


async def call(
    network: SignalNetwork, closer: Closer, drop_every: int | None
) -> tuple[Mesh, Listener]:
    mic = SyntheticAudioTrack("tone")
    set_track_suppression(mic, SilenceSuppression(enabled=False))
    alice = Mesh("alice", network.sender("alice"), stats_interval=0.5)
    network.attach("alice", alice.handle_signal)

    async def close_alice() -> None:
        await alice.close()
        mic.stop()

    closer.add(close_alice)
    bob = Listener(network, closer, drop_every)
    await alice.set_local_audio(mic)
    await bob.mesh.add_peer("alice", send_audio=False, send_video=False, recv_video=False)
    await alice.add_peer("bob", send_video=False, recv_audio=False, recv_video=False)
    await wait_for(
        lambda: alice.peers["bob"].state is PeerState.CONNECTED, TIMEOUT, "alice to connect"
    )
    await wait_for(lambda: len(bob.frames) >= 10, TIMEOUT, "bob to hear alice")
    return alice, bob


def fanout_of(mesh: Mesh) -> OpusFanout:
    relay = mesh._relays[MediaKind.AUDIO]
    assert isinstance(relay, OpusFanout)
    return relay


async def test_one_packet_in_ten_lost_leaves_no_gap_in_what_bob_hears(
    network: SignalNetwork, closer: Closer
) -> None:
    alice, bob = await call(network, closer, drop_every=10)
    await wait_for(lambda: bob.dropped >= 40, TIMEOUT, "40 packets to be lost")
    await asyncio.sleep(0.2)
    assert bob.path is not None
    stats = bob.path.buffer.stats
    # Every lost packet was rebuilt or concealed in its own slot: the sender's timeline
    # has no hole. Each frame starts where the one before ended, apart from concealment
    # played while waiting (the next packet then overlaps it: a step of 0) and a frame
    # dropped on purpose to bring the delay down (a step of two frames).
    starts = [frame.pts for frame in bob.frames[5:]]
    steps = np.diff(np.asarray(starts, dtype=np.int64))
    assert set(steps.tolist()) <= {0, FRAME, 2 * FRAME}, np.unique(steps, return_counts=True)
    assert int((steps == 2 * FRAME).sum()) <= stats.dropped <= 3
    assert stats.recovered + stats.concealed >= bob.dropped - 2
    # With FEC in the stream most of them were rebuilt, not guessed.
    assert stats.recovered >= bob.dropped // 2
    assert stats.late == 0
    # Alice's encoder sizes its FEC by what Bob's receiver reports: ~10 %.
    await wait_for(
        lambda: 0.05 <= fanout_of(alice).expected_loss <= 0.2,
        TIMEOUT,
        f"alice's expected loss to follow bob's reports ({fanout_of(alice).expected_loss})",
    )


async def test_on_a_clean_link_nothing_is_concealed_and_fec_is_switched_off(
    network: SignalNetwork, closer: Closer
) -> None:
    alice, bob = await call(network, closer, drop_every=None)
    await wait_for(lambda: fanout_of(alice).expected_loss == 0.0, TIMEOUT, "FEC to switch off")
    heard = len(bob.frames)
    await asyncio.sleep(1.0)
    assert bob.path is not None
    assert bob.path.buffer.stats.recovered == 0
    assert bob.path.buffer.stats.late == 0
    # A second of audio is ~50 frames; the playout clock neither starves nor floods.
    assert 45 <= len(bob.frames) - heard <= 55


async def test_offers_and_answers_ask_the_other_side_for_opus_fec() -> None:
    from aiortc import RTCPeerConnection

    import media.voice_receive  # noqa: F401  (amends aiortc's codec table on import)

    offerer, answerer = RTCPeerConnection(), RTCPeerConnection()
    try:
        offerer.addTransceiver("audio")
        offer = await offerer.createOffer()
        assert "useinbandfec=1" in offer.sdp
        await answerer.setRemoteDescription(offer)
        answer = await answerer.createAnswer()
        assert answer is not None
        assert "useinbandfec=1" in answer.sdp
    finally:
        await offerer.close()
        await answerer.close()
