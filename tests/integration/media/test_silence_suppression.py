"""Silence suppression end to end: two real aiortc peers on loopback, real playback.

Alice's synthetic microphone goes through an :class:`~media.relay.OpusFanout` (as the
mesh sends it) to Bob, who plays it on the null output with a level meter on it, as
``LocalMedia`` does. While Alice is silent her packets stop; a click after a long
silence is still heard in Bob's playback, on time; the timestamps Bob receives jump
over the silence; and Bob's meter stops saying Alice speaks although nothing arrives.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame
from av.frame import Frame

from media.levels import SILENCE_DBFS, LevelMeter
from media.peer import PeerLink
from media.peer_types import MediaDirections, MediaKind, PeerState
from media.playback import NULL_OUTPUT, AudioPlayback
from media.relay import OpusFanout
from media.silence import SilenceSuppression
from media.synthetic import SyntheticAudioTrack
from tests.integration.media.conftest import Closer, SignalNetwork, wait_for

TIMEOUT = 15.0
RATE = 48_000
LOUD = 8_000  # int16; the click peaks near 29,000, a tone at 8,190, silence at 0
AUDIO_ONLY = MediaDirections(send_video=False, recv_video=False)


class RecordingTrack(MediaStreamTrack):
    """Passes the remote track on to playback, noting each frame's arrival and pts."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.frames: list[tuple[float, int, int]] = []  # (perf_counter, pts, peak)

    async def recv(self) -> Frame:
        try:
            frame = await self.source.recv()
        except MediaStreamError:
            self.stop()
            raise
        assert isinstance(frame, AudioFrame)
        peak = int(np.abs(frame.to_ndarray().astype(np.int32)).max())
        self.frames.append((time.perf_counter(), frame.pts or 0, peak))
        return frame


class Call:
    """Alice sends her microphone through a fan-out; Bob plays it and meters it."""

    def __init__(
        self, network: SignalNetwork, closer: Closer, suppression: SilenceSuppression
    ) -> None:
        self.mic = SyntheticAudioTrack("silence")
        self.fanout = OpusFanout(self.mic, suppression=suppression)
        self.playback = AudioPlayback(NULL_OUTPUT)
        self.levels: list[tuple[float, float, bool]] = []  # (perf_counter, dbfs, speaking)
        self.meter = LevelMeter(lambda _key, dbfs, speaking: self._level(dbfs, speaking))
        self.playback.add_source_listener(self._feed)
        self.onsets: list[float] = []
        self.playback.add_tap(self._tap)
        self.received: RecordingTrack | None = None
        self.alice = PeerLink("alice", "bob", network.sender("alice"), directions=AUDIO_ONLY)
        self.bob = PeerLink(
            "bob", "alice", network.sender("bob"), directions=AUDIO_ONLY, on_track=self._track
        )
        for link in (self.alice, self.bob):

            async def deliver(
                _from: str, kind: str, payload: dict[str, Any], link: PeerLink = link
            ) -> None:
                await link.handle_signal(kind, payload)

            network.attach(link.local_id, deliver)

        async def close_media() -> None:
            await self.playback.close()
            await self.fanout.close()
            self.mic.stop()

        closer.add(close_media)
        closer.add(self.alice.close)
        closer.add(self.bob.close)

    def _feed(self, key: str, block: npt.NDArray[np.int16]) -> None:
        self.meter.feed(key, block)

    def _level(self, dbfs: float, speaking: bool) -> None:
        self.levels.append((time.perf_counter(), dbfs, speaking))

    def _tap(self, block: npt.NDArray[np.int16], played_at: float) -> None:
        loud = np.flatnonzero(np.abs(block.astype(np.int32)) > LOUD)
        if len(loud) and (not self.onsets or played_at - self.onsets[-1] > 0.1):
            self.onsets.append(played_at + loud[0] / RATE)

    def _track(self, _user: str, track: MediaStreamTrack) -> None:
        self.received = RecordingTrack(track)
        self.playback.add_track("alice", self.received)

    async def start(self) -> None:
        await self.playback.start()
        await self.alice.set_track(MediaKind.AUDIO, self.fanout.subscribe())
        await self.bob.start()
        await self.alice.start()
        for link in (self.alice, self.bob):
            await wait_for(lambda link=link: link.state is PeerState.CONNECTED, TIMEOUT, f"{link}")  # type: ignore[misc]
        await wait_for(lambda: self.received is not None, TIMEOUT, "bob to get alice's track")

    def frames_in(self) -> int:
        return len(self.received.frames) if self.received is not None else 0


async def test_silence_sends_nothing_and_a_click_after_it_is_heard_on_time(
    network: SignalNetwork, closer: Closer
) -> None:
    call = Call(network, closer, SilenceSuppression())  # keep-alives on, as by default
    await call.start()
    # Sound first, so Bob's receiver is primed with a talk burst as in a conversation.
    call.mic.mode = "tone"
    await wait_for(lambda: call.frames_in() >= 25, TIMEOUT, "alice's tone at bob")
    call.mic.mode = "silence"
    await wait_for(lambda: call.fanout.suppressing, TIMEOUT, "alice's fan-out to go quiet")
    sent, arrived = call.fanout.packets_sent, call.frames_in()
    await asyncio.sleep(2.0)
    # 100 frames of silence were encoded; only keep-alives (one per 0.4 s) went out.
    assert call.fanout.packets_sent - sent <= 6
    assert call.fanout.packets_suppressed >= 90
    assert call.frames_in() - arrived <= 6

    clicked = call.mic.inject_click()
    await wait_for(lambda: bool(call.onsets) and call.onsets[-1] > clicked, TIMEOUT, "the click")
    latency = call.onsets[-1] - clicked
    # The call's usual mouth-to-ear is ~0.1 s (jitter buffer + mixer): nothing is added.
    assert 0.0 < latency < 0.6, f"click heard {latency * 1000:.0f} ms after it was made"

    # Bob's timestamps jumped over the silence with the time that passed: a gap, not a warp.
    assert call.received is not None
    frames = call.received.frames
    first_time, first_pts, _ = frames[0]
    at_click = next(i for i, f in enumerate(frames) if f[0] > clicked and f[2] > LOUD)
    click_time, click_pts, _ = frames[at_click]
    last_tone = max(i for i, f in enumerate(frames[:at_click]) if f[2] > 2_000)
    skipped = (click_pts - frames[last_tone][1]) // 960
    assert skipped >= 100  # 2 s and more of Alice's time passed between the two ...
    assert at_click - last_tone <= 30  # ... but only the hangover and keep-alives came
    assert all(b[1] > a[1] for a, b in itertools.pairwise(frames))  # never backwards
    assert abs((click_pts - first_pts) / RATE - (click_time - first_time)) < 0.3


@pytest.mark.parametrize("keepalive_s", [None, 0.4])
async def test_a_silent_speakers_level_stops_reporting_speaking(
    network: SignalNetwork, closer: Closer, keepalive_s: float | None
) -> None:
    # A short hangover: Bob's meter gets less silence than its 0.3 s hold before
    # Alice's packets stop, so only the meter's idle check can end "speaking".
    call = Call(network, closer, SilenceSuppression(hangover_s=0.1, keepalive_s=keepalive_s))
    await call.start()
    call.mic.mode = "tone"
    await wait_for(
        lambda: bool(call.levels) and call.levels[-1][2], TIMEOUT, "bob to see alice speak"
    )
    assert call.meter.is_speaking("alice")
    call.mic.mode = "silence"
    quiet_at = time.perf_counter()
    await wait_for(lambda: call.fanout.suppressing, TIMEOUT, "alice's fan-out to go quiet")

    def reported_silent() -> bool:
        return bool(call.levels) and call.levels[-1][1:] == (SILENCE_DBFS, False)

    await wait_for(reported_silent, TIMEOUT, "bob's meter to report alice silent")
    assert not call.meter.is_speaking("alice")
    # The hold (0.3 s) and the jitter buffer's 80 ms after the last tone, plus load.
    assert call.levels[-1][0] - quiet_at < 1.5
    count = len(call.levels)
    await asyncio.sleep(1.0)
    # Not reported speaking again while nothing (or only silent keep-alives) arrives.
    assert all(not speaking for _, _, speaking in call.levels[count - 1 :])
