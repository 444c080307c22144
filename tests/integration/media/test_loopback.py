"""Two peer links connect when loopback is the only usable interface (issue 3, item 6).

This machine also has a real interface, so the loopback-only condition is forced
through the same knobs the code reads: ``PARLEY_ICE_LOOPBACK=only``, and, for the
default ``auto`` policy, an upstream address list that comes back empty — exactly what
aioice sees on a loopback-only host.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from media import ice
from media.peer import PeerLink
from media.peer_types import MediaKind, PeerState, SignalKind
from media.tracks import SyntheticAudioTrack, SyntheticVideoTrack
from tests.integration.media.conftest import Closer, FrameSink, SignalNetwork, wait_for

TIMEOUT = 10.0


def _candidate_hosts(sdp: str) -> set[str]:
    return {line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")}


async def _call_and_check(
    network: SignalNetwork, sinks: Callable[[], FrameSink], closer: Closer
) -> None:
    offers: list[str] = []
    links: dict[str, PeerLink] = {}
    sink = {"alice": sinks(), "bob": sinks()}
    for user, remote in (("alice", "bob"), ("bob", "alice")):
        link = PeerLink(
            user,
            remote,
            network.sender(user),
            on_track=lambda uid, track, user=user: sink[user].add(  # type: ignore[misc]
                uid, MediaKind(track.kind), track
            ),
        )
        links[user] = link
        closer.add(link.close)

        async def deliver(_f: str, kind: str, payload: dict[str, object], link=link) -> None:  # type: ignore[no-untyped-def]
            if kind in (SignalKind.OFFER, SignalKind.ANSWER):
                offers.append(str(payload["sdp"]))
            await link.handle_signal(kind, dict(payload))

        network.attach(user, deliver)
        await link.set_track(MediaKind.AUDIO, SyntheticAudioTrack(mode="tone"))
        await link.set_track(MediaKind.VIDEO, SyntheticVideoTrack(user, 160, 120, fps=15))
    await links["bob"].start()
    await links["alice"].start()
    for link in links.values():
        await wait_for(lambda link=link: link.state is PeerState.CONNECTED, TIMEOUT, f"{link}")  # type: ignore[misc]
    await sink["alice"].wait_frames("bob", MediaKind.VIDEO, 3, TIMEOUT)
    await sink["bob"].wait_frames("alice", MediaKind.VIDEO, 3, TIMEOUT)
    await sink["alice"].wait_frames("bob", MediaKind.AUDIO, 10, TIMEOUT)
    await sink["bob"].wait_frames("alice", MediaKind.AUDIO, 10, TIMEOUT)

    assert len(offers) == 2  # one offer, one answer
    for sdp in offers:
        assert _candidate_hosts(sdp) == {ice.IPV4_LOOPBACK}


async def test_links_connect_with_only_loopback_candidates(
    monkeypatch: pytest.MonkeyPatch,
    network: SignalNetwork,
    sinks: Callable[[], FrameSink],
    closer: Closer,
) -> None:
    monkeypatch.setenv(ice.ENV_VAR, "only")
    await _call_and_check(network, sinks, closer)


async def test_auto_policy_falls_back_to_loopback_when_no_interface_is_left(
    monkeypatch: pytest.MonkeyPatch,
    network: SignalNetwork,
    sinks: Callable[[], FrameSink],
    closer: Closer,
) -> None:
    monkeypatch.setenv(ice.ENV_VAR, "auto")
    # What aioice's own address list holds on a loopback-only host: nothing.
    monkeypatch.setattr(ice, "_upstream", lambda use_ipv4, use_ipv6: [])
    await _call_and_check(network, sinks, closer)


async def test_without_the_fallback_a_loopback_only_host_gathers_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The upstream behaviour the patch exists for, so the test above can fail.
    monkeypatch.setenv(ice.ENV_VAR, "off")
    monkeypatch.setattr(ice, "_upstream", lambda use_ipv4, use_ipv6: [])
    ice.install()
    import aioice.ice

    assert aioice.ice.get_host_addresses(True, True) == []
    monkeypatch.setenv(ice.ENV_VAR, "auto")
    assert aioice.ice.get_host_addresses(True, True) == [ice.IPV4_LOOPBACK]
