"""The track adapters peer links send through (media/relay.py), without a network."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame
from av.packet import Packet

from media.relay import CountingTrack, OpusFanout, SwitchableTrack, TrackRelay
from media.tracks import SyntheticAudioTrack, SyntheticVideoTrack

TIMEOUT = 5.0


async def test_relay_gives_every_subscriber_every_frame_and_stops_reading_when_idle() -> None:
    source = SyntheticVideoTrack("src", 64, 48, fps=60)
    relay = TrackRelay("video", source)
    a, b = relay.subscribe(), relay.subscribe()
    first_a = await asyncio.wait_for(a.recv(), TIMEOUT)
    first_b = await asyncio.wait_for(b.recv(), TIMEOUT)
    assert first_a is first_b  # the same frame, read once from the source
    a.stop()
    assert relay.subscribers == 1
    await asyncio.wait_for(b.recv(), TIMEOUT)
    b.stop()
    assert relay.subscribers == 0
    await relay.close()
    assert source.readyState == "live"  # the relay never stops its source
    source.stop()


async def test_stopping_a_proxy_wakes_its_reader() -> None:
    relay = TrackRelay("audio")  # no source: nothing will ever arrive
    proxy = relay.subscribe()
    pending = asyncio.ensure_future(proxy.recv())
    await asyncio.sleep(0.05)
    proxy.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(pending, TIMEOUT)
    await relay.close()


async def test_switchable_track_waits_past_a_stopped_source_without_ending() -> None:
    first, second = SyntheticAudioTrack(), SyntheticAudioTrack(mode="tone")
    relay_first = TrackRelay("audio", first)
    proxy = relay_first.subscribe()
    track = SwitchableTrack("audio", proxy)
    assert isinstance(await asyncio.wait_for(track.recv(), TIMEOUT), AudioFrame)
    pending = asyncio.ensure_future(track.recv())
    proxy.stop()  # as when a link stops a replaced track under a waiting sender
    track.switch(second)
    frame = await asyncio.wait_for(pending, TIMEOUT)
    assert isinstance(frame, AudioFrame)
    assert track.readyState == "live"
    track.stop()
    assert second.readyState == "live"  # stopping the switchable spares the source
    await relay_first.close()
    first.stop()
    second.stop()


async def test_opus_fanout_encodes_once_with_continuous_timestamps() -> None:
    first, second = SyntheticAudioTrack(mode="tone"), SyntheticAudioTrack(mode="tone")
    fanout = OpusFanout(first)
    a, b = fanout.subscribe(), fanout.subscribe()
    pts: list[int] = []
    for _ in range(5):
        packet = await asyncio.wait_for(a.recv(), TIMEOUT)
        assert isinstance(packet, Packet)
        assert packet is await asyncio.wait_for(b.recv(), TIMEOUT)
        assert packet.pts is not None
        pts.append(packet.pts)
    fanout.switch(second)
    first.stop()
    for _ in range(5):
        packet = await asyncio.wait_for(a.recv(), TIMEOUT)
        await asyncio.wait_for(b.recv(), TIMEOUT)
        assert packet.pts is not None
        pts.append(packet.pts)
    assert pts == [pts[0] + 960 * i for i in range(len(pts))]
    await fanout.close()
    second.stop()


async def test_counting_track_counts_and_passes_the_end_on() -> None:
    source = SyntheticAudioTrack()
    counted: list[int] = []
    track = CountingTrack(source, lambda: counted.append(1))
    for _ in range(3):
        await asyncio.wait_for(track.recv(), TIMEOUT)
    assert len(counted) == 3
    source.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(track.recv(), TIMEOUT)
    assert track.readyState == "ended"
