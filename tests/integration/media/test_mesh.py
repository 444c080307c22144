"""Mesh sessions in one process: two and three users, synthetic devices."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamTrack
from av import AudioFrame, VideoFrame

from media.mesh import Mesh
from media.peer_types import MediaKind, PeerState, SignalKind
from media.tracks import SyntheticAudioTrack, SyntheticVideoTrack
from tests.integration.media.conftest import Closer, FrameSink, SignalNetwork, wait_for

AUDIO, VIDEO = MediaKind.AUDIO, MediaKind.VIDEO
TIMEOUT = 10.0


class Session:
    """One user's mesh plus what it received and the peer states it reported."""

    def __init__(
        self,
        user: str,
        network: SignalNetwork,
        sink: FrameSink,
        closer: Closer,
        *,
        encode_audio_once: bool = True,
    ) -> None:
        self.user = user
        self.sink = sink
        self.states: list[tuple[str, PeerState]] = []
        self.mesh = Mesh(
            user,
            network.sender(user),
            on_remote_track=sink.add,
            on_peer_state=lambda uid, state: self.states.append((uid, state)),
            encode_audio_once=encode_audio_once,
        )
        network.attach(user, self.mesh.handle_signal)
        self._closer = closer
        closer.add(self.mesh.close)

    def own(self, track: MediaStreamTrack) -> MediaStreamTrack:
        """The mesh never stops local sources; the test owns them, like the app would."""

        async def stop() -> None:
            track.stop()

        self._closer.add(stop)
        return track

    async def wait_connected(self, *users: str) -> None:
        for user in users:
            await wait_for(
                lambda user=user: (  # type: ignore[misc]
                    user in self.mesh.peers and self.mesh.peers[user].state is PeerState.CONNECTED
                ),
                TIMEOUT,
                f"{self.user} connected to {user}",
            )


def camera(user: str) -> SyntheticVideoTrack:
    return SyntheticVideoTrack(user, width=160, height=120, fps=15)


async def start_sessions(
    users: list[str],
    network: SignalNetwork,
    sinks: Callable[[], FrameSink],
    closer: Closer,
    *,
    video: bool,
) -> dict[str, Session]:
    sessions = {u: Session(u, network, sinks(), closer) for u in users}
    for s in sessions.values():
        await s.mesh.set_local_audio(s.own(SyntheticAudioTrack(mode="tone")))
        if video:
            await s.mesh.set_local_video(s.own(camera(s.user)))
    for a, b in itertools.permutations(users, 2):
        await sessions[a].mesh.add_peer(b)
    for s in sessions.values():
        await s.wait_connected(*(u for u in users if u != s.user))
    return sessions


async def test_three_sessions_exchange_media_and_a_leaver_is_removed(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    users = ["alice", "bob", "carol"]
    sessions = await start_sessions(users, network, sinks, closer, video=True)

    for s in sessions.values():
        for remote in users:
            if remote == s.user:
                continue
            await s.sink.wait_frames(remote, VIDEO, 3, TIMEOUT)
            await s.sink.wait_frames(remote, AUDIO, 10, TIMEOUT)
            assert isinstance(s.sink.last[(remote, VIDEO)], VideoFrame)
            assert s.sink.last[(remote, VIDEO)].width == 160
            assert isinstance(s.sink.last[(remote, AUDIO)], AudioFrame)
    # Exactly one offer per pair: the smaller id offers, nobody collides.
    assert network.count(SignalKind.OFFER) == 3
    assert network.count(SignalKind.OFFER, from_user="carol") == 0

    # Carol leaves; the others see her link close and drop it.
    await sessions["carol"].mesh.close()
    for user in ("alice", "bob"):
        s = sessions[user]
        await wait_for(lambda s=s: "carol" not in s.mesh.peers, TIMEOUT, f"{user} to drop carol")  # type: ignore[misc]
        assert ("carol", PeerState.CLOSED) in s.states
    assert sessions["carol"].mesh.peers == {}
    # Alice and Bob carry on.
    await sessions["alice"].sink.wait_frames("bob", AUDIO, 10, TIMEOUT)
    await sessions["bob"].sink.wait_frames("alice", VIDEO, 3, TIMEOUT)
    assert set(sessions["alice"].mesh.peers) == {"bob"}


async def test_camera_on_mid_call_renegotiates_and_switching_does_not(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    sessions = await start_sessions(["alice", "bob"], network, sinks, closer, video=False)
    alice, bob = sessions["alice"], sessions["bob"]
    await alice.sink.wait_frames("bob", AUDIO, 10, TIMEOUT)
    assert network.count(SignalKind.OFFER) == 1
    assert ("bob", VIDEO) not in alice.sink.tracks

    # Bob (the answerer) turns his camera on: one renegotiation, then video arrives.
    await bob.mesh.set_local_video(bob.own(camera("bob")))
    await alice.sink.wait_frames("bob", VIDEO, 5, TIMEOUT)
    assert network.count(SignalKind.OFFER) == 2
    offers = network.count(SignalKind.OFFER)

    # Bob switches camera: the frames change size, no signal is sent.
    await bob.mesh.set_local_video(bob.own(SyntheticVideoTrack("bob-2", 320, 240, fps=15)))
    await wait_for(
        lambda: alice.sink.last[("bob", VIDEO)].width == 320, TIMEOUT, "the second camera"
    )
    assert network.count(SignalKind.OFFER) == offers
    assert network.count(SignalKind.RENEGOTIATE) == 1

    # Camera off renegotiates again and keeps the call up.
    await bob.mesh.set_local_video(None)
    await wait_for(lambda: network.count(SignalKind.OFFER) == offers + 1, TIMEOUT, "an offer")
    await alice.sink.wait_frames("bob", AUDIO, 10, TIMEOUT)
    assert alice.mesh.peers["bob"].state is PeerState.CONNECTED


async def test_audience_listens_without_sending(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    # In an audio room the host speaks to everyone; the audience only listens.
    host = Session("m-host", network, sinks(), closer)
    audience = [Session(u, network, sinks(), closer) for u in ("a-listener", "z-listener")]
    await host.mesh.set_local_audio(host.own(SyntheticAudioTrack(mode="tone")))
    for member in audience:
        await member.mesh.set_local_audio(member.own(SyntheticAudioTrack(mode="tone")))
        await host.mesh.add_peer(
            member.user, send_audio=True, send_video=False, recv_audio=False, recv_video=False
        )
        await member.mesh.add_peer(
            host.user, send_audio=False, send_video=False, recv_audio=True, recv_video=False
        )
    await host.wait_connected(*(m.user for m in audience))
    for member in audience:
        await member.sink.wait_frames(host.user, AUDIO, 25, TIMEOUT)
        assertable = member.sink.last[(host.user, AUDIO)].to_ndarray()
        assert abs(assertable).max() > 1000
    assert host.sink.tracks == {}


async def test_signals_for_a_peer_not_yet_added_are_held(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    alice = Session("alice", network, sinks(), closer)
    bob = Session("bob", network, sinks(), closer)
    await alice.mesh.set_local_audio(alice.own(SyntheticAudioTrack()))
    await alice.mesh.add_peer("bob")
    await wait_for(lambda: network.count(SignalKind.OFFER) == 1, TIMEOUT, "alice's offer")
    await wait_for(lambda: "alice" in bob.mesh._early, TIMEOUT, "bob to hold the offer")
    assert "alice" not in bob.mesh.peers
    await bob.mesh.add_peer("alice")
    await bob.sink.wait_frames("alice", AUDIO, 5, TIMEOUT)
    # A peer that is removed again stops cleanly, twice.
    await bob.mesh.remove_peer("alice")
    await bob.mesh.remove_peer("alice")
    await wait_for(lambda: "bob" not in alice.mesh.peers, TIMEOUT, "alice to drop bob")


def dominant_hz(frame: AudioFrame) -> float:
    samples = frame.to_ndarray().astype(np.float64)
    mono = samples.reshape(-1)[:: len(frame.layout.channels)]
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.argmax(spectrum) * frame.sample_rate / len(mono))


@pytest.mark.parametrize("encode_once", [True, False], ids=["shared-encoder", "per-link"])
async def test_switching_microphone_keeps_the_session(
    encode_once: bool,
    network: SignalNetwork,
    sinks: Callable[[], FrameSink],
    closer: Closer,
) -> None:
    alice = Session("alice", network, sinks(), closer, encode_audio_once=encode_once)
    bob = Session("bob", network, sinks(), closer, encode_audio_once=encode_once)
    await alice.mesh.set_local_audio(alice.own(SyntheticAudioTrack(mode="tone", frequency=440)))
    await alice.mesh.add_peer("bob")
    await bob.mesh.add_peer("alice")
    await bob.sink.wait_frames("alice", AUDIO, 25, TIMEOUT)
    assert abs(dominant_hz(bob.sink.last[("alice", AUDIO)]) - 440) < 60
    signals = len(network.sent)

    await alice.mesh.set_local_audio(alice.own(SyntheticAudioTrack(mode="tone", frequency=1500)))
    await wait_for(
        lambda: abs(dominant_hz(bob.sink.last[("alice", AUDIO)]) - 1500) < 60,
        TIMEOUT,
        "the second microphone's tone",
    )
    assert len(network.sent) == signals
    assert bob.mesh.peers["alice"].state is PeerState.CONNECTED


@pytest.mark.parametrize("member", ["a-listener", "z-listener"], ids=["offers", "answers"])
async def test_audience_member_takes_a_seat_and_is_heard(
    member: str, network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    host = Session("m-host", network, sinks(), closer)
    listener = Session(member, network, sinks(), closer)
    await host.mesh.set_local_audio(host.own(SyntheticAudioTrack(mode="tone")))
    await listener.mesh.set_local_audio(listener.own(SyntheticAudioTrack(mode="tone")))
    await host.mesh.add_peer(member, send_video=False, recv_audio=False, recv_video=False)
    await listener.mesh.add_peer(host.user, send_audio=False, send_video=False, recv_video=False)
    await listener.sink.wait_frames(host.user, AUDIO, 10, TIMEOUT)
    assert host.sink.tracks == {}
    links = (host.mesh.peers[member], listener.mesh.peers[host.user])

    # The member takes a seat: both sides widen the link, which renegotiates in place.
    await listener.mesh.set_peer_directions(host.user, send_audio=True)
    await host.mesh.set_peer_directions(member, recv_audio=True)
    await host.sink.wait_frames(member, AUDIO, 25, TIMEOUT)
    assert np.abs(host.sink.last[(member, AUDIO)].to_ndarray()).max() > 1000
    assert (host.mesh.peers[member], listener.mesh.peers[host.user]) == links

    # Leaving the seat stops the member's audio again, the host still speaks.
    await listener.mesh.set_peer_directions(host.user, send_audio=False)
    heard = host.sink.frames[(member, AUDIO)]
    await listener.sink.wait_frames(host.user, AUDIO, 25, TIMEOUT)
    assert host.sink.frames[(member, AUDIO)] - heard < 25
