"""Two real PeerLinks in one process, synthetic devices, signals through JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from aiortc.rtcdtlstransport import State as DtlsState
from av import AudioFrame, VideoFrame

from media.peer import PeerLink
from media.peer_support import parse_candidate
from media.peer_types import MediaDirections, MediaKind, PeerState, SignalKind
from media.stats import LinkStats
from media.tracks import SyntheticAudioTrack, SyntheticVideoTrack
from tests.integration.media.conftest import Closer, FrameSink, SignalNetwork, wait_for

AUDIO, VIDEO = MediaKind.AUDIO, MediaKind.VIDEO
CONNECT_TIMEOUT = 10.0
FRAMES_TIMEOUT = 10.0


class Side:
    """One user's end: a link, the remote frames it got, and the states it reported."""

    def __init__(self, link: PeerLink, sink: FrameSink, states: list[PeerState]) -> None:
        self.link = link
        self.sink = sink
        self.states = states


async def make_side(
    user: str,
    remote: str,
    network: SignalNetwork,
    sinks: Callable[[], FrameSink],
    closer: Closer,
    directions: MediaDirections | None = None,
    **kwargs: Any,
) -> Side:
    sink = sinks()
    states: list[PeerState] = []
    link = PeerLink(
        user,
        remote,
        network.sender(user),
        directions=directions,
        on_track=lambda uid, track: sink.add(uid, MediaKind(track.kind), track),
        on_state=lambda _uid, state: states.append(state),
        **kwargs,
    )

    async def deliver(_from: str, kind: str, payload: dict[str, Any]) -> None:
        await link.handle_signal(kind, payload)

    network.attach(user, deliver)
    closer.add(link.close)
    return Side(link, sink, states)


def video(label: str, width: int = 320, height: int = 240) -> SyntheticVideoTrack:
    return SyntheticVideoTrack(label, width=width, height=height, fps=15)


async def connect(*sides: Side) -> None:
    # Answerers first, so the offer finds a started link (as the mesh's buffering does).
    for side in sorted(sides, key=lambda s: s.link.is_offerer):
        await side.link.start()
    for side in sides:
        await wait_for(
            lambda side=side: side.link.state is PeerState.CONNECTED,  # type: ignore[misc]
            CONNECT_TIMEOUT,
            f"{side.link} to connect",
        )


async def test_two_links_exchange_audio_and_video_both_ways(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    alice = await make_side("alice", "bob", network, sinks, closer)
    bob = await make_side("bob", "alice", network, sinks, closer)
    assert alice.link.is_offerer
    assert not bob.link.is_offerer
    for side, name in ((alice, "alice"), (bob, "bob")):
        await side.link.set_track(AUDIO, SyntheticAudioTrack(mode="tone"))
        await side.link.set_track(VIDEO, video(name))
    await connect(alice, bob)

    for side, remote in ((alice, "bob"), (bob, "alice")):
        await side.sink.wait_frames(remote, VIDEO, 5, FRAMES_TIMEOUT)
        await side.sink.wait_frames(remote, AUDIO, 25, FRAMES_TIMEOUT)
        picture = side.sink.last[(remote, VIDEO)]
        sound = side.sink.last[(remote, AUDIO)]
        assert isinstance(picture, VideoFrame)
        assert (picture.width, picture.height) == (320, 240)
        assert isinstance(sound, AudioFrame)
        assert sound.sample_rate == 48_000
        # The tone survived Opus: a decoded frame is far from silence.
        assert np.abs(sound.to_ndarray()).max() > 1000
    assert network.count(SignalKind.OFFER) == 1
    assert network.count(SignalKind.ANSWER) == 1

    # Alice hangs up; Bob's link notices the closed DTLS session and closes itself.
    await alice.link.close()
    await wait_for(lambda: bob.link.closed, CONNECT_TIMEOUT, "bob's link to close")
    assert bob.states[-1] is PeerState.CLOSED
    assert alice.states[-1] is PeerState.CLOSED


@pytest.mark.parametrize("audience", ["aaron", "zoe"], ids=["audience-offers", "audience-answers"])
async def test_receive_only_audience_gets_audio_without_sending(
    audience: str, network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    listens = MediaDirections(send_audio=False, send_video=False, recv_audio=True, recv_video=False)
    speaks = MediaDirections(send_audio=True, send_video=False, recv_audio=False, recv_video=False)
    host = await make_side("host", audience, network, sinks, closer, directions=speaks)
    listener = await make_side(audience, "host", network, sinks, closer, directions=listens)
    await host.link.set_track(AUDIO, SyntheticAudioTrack(mode="tone"))
    # A microphone handed to a listen-only link is never sent.
    await listener.link.set_track(AUDIO, SyntheticAudioTrack(mode="tone"))
    await connect(host, listener)

    await listener.sink.wait_frames("host", AUDIO, 25, FRAMES_TIMEOUT)
    assert set(listener.sink.tracks) == {("host", AUDIO)}
    assert host.sink.tracks == {}
    assert host.sink.frames == {}


async def test_replacing_a_track_does_not_renegotiate(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    alice = await make_side("alice", "bob", network, sinks, closer)
    bob = await make_side("bob", "alice", network, sinks, closer)
    for side, name in ((alice, "alice"), (bob, "bob")):
        await side.link.set_track(AUDIO, SyntheticAudioTrack())
        await side.link.set_track(VIDEO, video(name))
    await connect(alice, bob)
    await bob.sink.wait_frames("alice", VIDEO, 3, FRAMES_TIMEOUT)
    await alice.sink.wait_frames("bob", VIDEO, 3, FRAMES_TIMEOUT)
    offers = network.count(SignalKind.OFFER)

    # Both switch cameras; the new cameras have another size, so their frames are known.
    first_alice_camera = alice.link.track(VIDEO)
    await alice.link.set_track(VIDEO, video("alice-2", 160, 120))
    await bob.link.set_track(VIDEO, video("bob-2", 160, 120))
    assert first_alice_camera is not None
    assert first_alice_camera.readyState == "ended"

    for side, remote in ((alice, "bob"), (bob, "alice")):
        await wait_for(
            lambda side=side, remote=remote: (  # type: ignore[misc]
                side.sink.last[(remote, VIDEO)].width == 160
            ),
            FRAMES_TIMEOUT,
            f"the switched camera's frames from {remote}",
        )
    assert network.count(SignalKind.OFFER) == offers
    assert network.count(SignalKind.RENEGOTIATE) == 0
    assert alice.link.offers_sent == 1
    assert bob.link.renegotiations_requested == 0


async def test_turning_the_camera_on_mid_call_renegotiates(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    alice = await make_side("alice", "bob", network, sinks, closer)
    bob = await make_side("bob", "alice", network, sinks, closer)
    await alice.link.set_track(AUDIO, SyntheticAudioTrack())
    await bob.link.set_track(AUDIO, SyntheticAudioTrack())
    await connect(alice, bob)
    await alice.sink.wait_frames("bob", AUDIO, 10, FRAMES_TIMEOUT)
    assert network.count(SignalKind.OFFER) == 1

    # The answerer turns its camera on: it asks, the offerer offers again.
    await bob.link.set_track(VIDEO, video("bob"))
    await alice.sink.wait_frames("bob", VIDEO, 5, FRAMES_TIMEOUT)
    assert network.count(SignalKind.RENEGOTIATE, from_user="bob") == 1
    assert network.count(SignalKind.OFFER) == 2

    # The offerer turns its camera on: it offers at once.
    await alice.link.set_track(VIDEO, video("alice"))
    await bob.sink.wait_frames("alice", VIDEO, 5, FRAMES_TIMEOUT)
    assert network.count(SignalKind.OFFER) == 3
    assert alice.link.state is PeerState.CONNECTED
    assert bob.link.state is PeerState.CONNECTED

    # Audio kept flowing through both renegotiations.
    await alice.sink.wait_frames("bob", AUDIO, 10, FRAMES_TIMEOUT)
    await bob.sink.wait_frames("alice", AUDIO, 10, FRAMES_TIMEOUT)


@pytest.mark.parametrize("failing", ["alice", "bob"], ids=["offerer-fails", "answerer-fails"])
async def test_a_failed_connection_is_rebuilt(
    failing: str, network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    alice = await make_side("alice", "bob", network, sinks, closer, rebuild_backoff=0.05)
    bob = await make_side("bob", "alice", network, sinks, closer, rebuild_backoff=0.05)
    await alice.link.set_track(AUDIO, SyntheticAudioTrack())
    await bob.link.set_track(AUDIO, SyntheticAudioTrack())
    await connect(alice, bob)
    await bob.sink.wait_frames("alice", AUDIO, 5, FRAMES_TIMEOUT)
    first_tracks = (alice.sink.tracks[("bob", AUDIO)], bob.sink.tracks[("alice", AUDIO)])

    # The lowest seam: one side's DTLS transport fails, as on a network loss.
    side = alice if failing == "alice" else bob
    pc = side.link._pc
    assert pc is not None
    pc.getTransceivers()[0].receiver.transport._set_state(DtlsState.FAILED)

    await wait_for(
        lambda: (
            (alice.sink.tracks[("bob", AUDIO)], bob.sink.tracks[("alice", AUDIO)]) != first_tracks
        ),
        CONNECT_TIMEOUT,
        "new remote tracks after the rebuild",
    )
    await bob.sink.wait_frames("alice", AUDIO, 10, FRAMES_TIMEOUT)
    await alice.sink.wait_frames("bob", AUDIO, 10, FRAMES_TIMEOUT)
    assert PeerState.RECONNECTING in side.states
    assert alice.states[-1] is PeerState.CONNECTED
    assert bob.states[-1] is PeerState.CONNECTED
    assert alice.sink.tracks[("bob", AUDIO)] is not first_tracks[0]
    assert bob.sink.tracks[("alice", AUDIO)] is not first_tracks[1]
    # Only the answerer has to ask; either way the offerer offers once more.
    assert network.count(SignalKind.RENEGOTIATE) == (1 if failing == "bob" else 0)
    assert network.count(SignalKind.OFFER) == 2


async def test_browser_shaped_candidates_are_accepted(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    alice = await make_side("alice", "bob", network, sinks, closer)
    bob = await make_side("bob", "alice", network, sinks, closer)
    await alice.link.set_track(AUDIO, SyntheticAudioTrack())
    await bob.link.start()
    # Before the offer arrives a candidate is held, then applied after it.
    await bob.link.handle_signal(SignalKind.CANDIDATE, {**BROWSER_CANDIDATE, "sdpMid": "0"})
    await connect(alice, bob)
    await bob.link.handle_signal(SignalKind.CANDIDATE, BROWSER_CANDIDATE)
    await bob.link.handle_signal(SignalKind.CANDIDATE, {"candidate": ""})
    await bob.sink.wait_frames("alice", AUDIO, 5, FRAMES_TIMEOUT)

    parsed = parse_candidate(BROWSER_CANDIDATE)
    assert parsed is not None
    assert (parsed.ip, parsed.port, parsed.type, parsed.sdpMLineIndex) == (
        "127.0.0.1",
        9,
        "host",
        0,
    )
    assert parse_candidate({"candidate": ""}) is None
    with pytest.raises(ValueError, match="candidate"):
        await bob.link.handle_signal(SignalKind.CANDIDATE, {"candidate": "candidate:garbage"})
    with pytest.raises(ValueError, match="candidate"):
        await bob.link.handle_signal(SignalKind.CANDIDATE, {"sdpMid": "0"})
    with pytest.raises(ValueError, match="offer"):
        await bob.link.handle_signal(SignalKind.OFFER, {"type": "offer"})
    assert bob.link.state is PeerState.CONNECTED


BROWSER_CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host generation 0",
    "sdpMLineIndex": 0,
}


async def test_stats_are_reported_while_connected(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    reports: list[LinkStats] = []
    alice = await make_side(
        "alice",
        "bob",
        network,
        sinks,
        closer,
        stats_interval=0.5,
        on_stats=lambda _uid, stats: reports.append(stats),
    )
    bob = await make_side("bob", "alice", network, sinks, closer)
    await bob.link.set_track(AUDIO, SyntheticAudioTrack(mode="tone"))
    await bob.link.set_track(VIDEO, video("bob"))
    await alice.link.set_track(AUDIO, SyntheticAudioTrack(mode="tone"))
    await connect(alice, bob)
    # RTT needs a sender report answered by a receiver report (aiortc: every ~1 s).
    await wait_for(
        lambda: len(reports) >= 4 and any(r.rtt_ms is not None for r in reports),
        FRAMES_TIMEOUT,
        "four stats reports, one with a round-trip time",
    )
    latest = reports[-1]
    assert latest.interval_s == pytest.approx(0.5, abs=0.25)
    assert latest.bitrate_in_bps > 20_000  # VP8 + Opus coming in
    assert latest.bitrate_out_bps > 5_000  # Opus going out
    assert latest.frame_rate_in is not None
    assert 5 <= latest.frame_rate_in <= 20  # the camera runs at 15 fps
    assert 0.0 <= latest.packet_loss < 0.05
    assert all(r.rtt_ms < 100 for r in reports if r.rtt_ms is not None)


async def test_rebuilding_gives_up_after_the_bounded_retries(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    alice = await make_side("alice", "bob", network, sinks, closer, max_rebuilds=0)
    bob = await make_side("bob", "alice", network, sinks, closer)
    await alice.link.set_track(AUDIO, SyntheticAudioTrack())
    await connect(alice, bob)
    pc = alice.link._pc
    assert pc is not None
    pc.getTransceivers()[0].receiver.transport._set_state(DtlsState.FAILED)
    await wait_for(lambda: alice.link.closed, CONNECT_TIMEOUT, "alice's link to give up")
    assert alice.states[-1] is PeerState.FAILED
    assert PeerState.RECONNECTING not in alice.states
    assert network.count(SignalKind.OFFER) == 1


async def test_an_offer_from_a_restarted_offerer_replaces_the_connection(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    bob = await make_side("bob", "alice", network, sinks, closer)
    await bob.link.set_track(AUDIO, SyntheticAudioTrack())
    sink = sinks()
    first = PeerLink("alice", "bob", network.sender("alice"), on_track=lambda u, t: None)
    closer.add(first.close)

    async def to_first(_from: str, kind: str, payload: dict[str, Any]) -> None:
        await first.handle_signal(kind, payload)

    network.attach("alice", to_first)
    await first.set_track(AUDIO, SyntheticAudioTrack())
    await bob.link.start()
    await first.start()
    await wait_for(lambda: bob.link.state is PeerState.CONNECTED, CONNECT_TIMEOUT, "bob")

    # Alice's app restarts without a goodbye: a new link, a new session, same user ids.
    second = PeerLink(
        "alice",
        "bob",
        network.sender("alice"),
        on_track=lambda uid, track: sink.add(uid, MediaKind(track.kind), track),
    )
    closer.add(second.close)

    async def to_second(_from: str, kind: str, payload: dict[str, Any]) -> None:
        await second.handle_signal(kind, payload)

    network.attach("alice", to_second)
    await second.set_track(AUDIO, SyntheticAudioTrack())
    await second.start()
    await sink.wait_frames("bob", AUDIO, 10, FRAMES_TIMEOUT)
    await bob.sink.wait_frames("alice", AUDIO, 10, FRAMES_TIMEOUT)
    assert bob.link.state is PeerState.CONNECTED
    assert second.state is PeerState.CONNECTED
    assert bob.states.count(PeerState.CLOSED) == 0


async def test_a_connection_that_never_comes_up_is_replaced_after_the_timeout(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    # Bob's answers are lost on the way: without its own timeout the offerer would wait
    # for aioice to give up (~64 s).
    alice = await make_side(
        "alice",
        "bob",
        network,
        sinks,
        closer,
        connect_timeout=1.0,
        max_rebuilds=1,
        rebuild_backoff=0.1,
    )
    bob = await make_side("bob", "alice", network, sinks, closer)
    network.attach("alice", lambda *_: asyncio.sleep(0))  # alice hears nothing
    await bob.link.start()
    await alice.link.start()

    await wait_for(lambda: alice.link.state is PeerState.RECONNECTING, 3.0, "a rebuild")
    await wait_for(lambda: alice.link.state is PeerState.FAILED, 4.0, "giving up")
    assert alice.link.offers_sent == 2  # the first connection's, and its replacement's
    assert not alice.link.relay_only  # no TURN server known: the same kind again


async def test_a_connection_that_comes_up_in_time_is_kept(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    alice = await make_side("alice", "bob", network, sinks, closer, connect_timeout=1.0)
    bob = await make_side("bob", "alice", network, sinks, closer)
    await connect(alice, bob)
    await asyncio.sleep(1.5)  # past the timeout
    assert alice.link.state is PeerState.CONNECTED
    assert alice.link.offers_sent == 1
