"""Playback on the null output: mixing, per-user volume and mute, taps, lifecycle."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from aiortc.mediastreams import MediaStreamTrack

from app.testing import wait_until
from media.errors import DeviceExceptionType
from media.playback import NULL_OUTPUT, AudioPlayback
from media.tracks import SyntheticAudioTrack, SyntheticVideoTrack
from tests.support import media_fixtures
from tests.support.media_fixtures import (
    Cleanup,
    FakePortAudio,
    ThreadLeakCheck,
    pending_tasks,
)

media_cleanup = media_fixtures.media_cleanup


def constant_track(value: int, seconds: float = 20.0) -> SyntheticAudioTrack:
    """A track whose samples are all ``value`` (silence plus an injected DC level)."""
    track = SyntheticAudioTrack("silence")
    track.inject(np.full(int(48_000 * seconds), value))
    return track


class TapRecorder:
    def __init__(self) -> None:
        self.blocks: list[npt.NDArray[np.int16]] = []
        self.times: list[float] = []

    def __call__(self, block: npt.NDArray[np.int16], played_at: float) -> None:
        self.blocks.append(block.copy())
        self.times.append(played_at)

    def latest_is(self, value: int) -> bool:
        return bool(self.blocks) and bool((self.blocks[-1] == value).all())


async def _settle(tap: TapRecorder, value: int) -> None:
    # Wait for two whole blocks in a row at the expected value (buffers have settled).
    def settled() -> bool:
        return len(tap.blocks) >= 2 and all((b == value).all() for b in tap.blocks[-2:])

    await wait_until(settled, 3.0, f"mixed output to settle at {value}")


async def test_two_tracks_are_summed_with_volume_and_mute(media_cleanup: Cleanup) -> None:
    leaks = ThreadLeakCheck()
    playback = media_cleanup.add(AudioPlayback(NULL_OUTPUT))
    tap = TapRecorder()
    playback.add_tap(tap)
    alice, bob = constant_track(1000), constant_track(2000)
    playback.add_track("alice", alice)
    playback.add_track("bob", bob)
    await playback.start()
    assert playback.output_is_null

    await _settle(tap, 3000)
    playback.set_volume("bob", 0.5)
    await _settle(tap, 2000)
    playback.set_volume("alice", 2.0)
    await _settle(tap, 3000)
    playback.set_user_muted("alice", True)
    assert playback.is_user_muted("alice")
    await _settle(tap, 1000)
    playback.muted = True
    await _settle(tap, 0)
    playback.muted = False
    playback.set_user_muted("alice", False)
    await _settle(tap, 3000)

    assert all(len(b) == 960 and b.dtype == np.int16 for b in tap.blocks)
    assert tap.times == sorted(tap.times)
    await playback.close()
    await playback.close()  # idempotent
    alice.stop()
    bob.stop()
    assert pending_tasks() == []
    assert leaks.leaked() == []


async def test_sum_clips_instead_of_wrapping(media_cleanup: Cleanup) -> None:
    playback = media_cleanup.add(AudioPlayback(NULL_OUTPUT))
    tap = TapRecorder()
    playback.add_tap(tap)
    for key in ("a", "b"):
        playback.add_track(key, constant_track(30_000))
    await playback.start()
    await _settle(tap, 32767)
    await playback.close()


async def test_null_output_consumes_in_real_time(media_cleanup: Cleanup) -> None:
    playback = media_cleanup.add(AudioPlayback(NULL_OUTPUT))
    tap = TapRecorder()
    playback.add_tap(tap)
    await playback.start()
    await wait_until(lambda: len(tap.blocks) >= 26, 2.0, "26 blocks")
    await playback.close()
    span = tap.times[25] - tap.times[0]
    assert span == pytest.approx(0.5, abs=0.05)


async def test_volume_is_validated_and_unknown_users_are_errors(media_cleanup: Cleanup) -> None:
    playback = media_cleanup.add(AudioPlayback(NULL_OUTPUT))
    playback.add_track("alice", constant_track(1))
    with pytest.raises(ValueError, match="volume"):
        playback.set_volume("alice", 2.5)
    with pytest.raises(KeyError, match="carol"):
        playback.set_volume("carol", 1.0)
    assert playback.volume("alice") == 1.0
    await playback.close()


async def test_a_track_that_ends_is_removed_and_others_keep_playing(media_cleanup: Cleanup) -> None:
    playback = media_cleanup.add(AudioPlayback(NULL_OUTPUT))
    tap = TapRecorder()
    playback.add_tap(tap)
    leaving, staying = constant_track(500), constant_track(700)
    playback.add_track("leaving", leaving)
    playback.add_track("staying", staying)
    await playback.start()
    await _settle(tap, 1200)
    leaving.stop()
    await _settle(tap, 700)
    await wait_until(lambda: playback.keys == ["staying"], 1.0, "the ended track to go")
    await playback.remove_track("staying")
    await _settle(tap, 0)
    assert playback.keys == []
    await playback.close()
    staying.stop()


async def test_switching_between_null_outputs_keeps_playing(media_cleanup: Cleanup) -> None:
    playback = media_cleanup.add(AudioPlayback(NULL_OUTPUT))
    tap = TapRecorder()
    playback.add_tap(tap)
    playback.add_track("a", constant_track(100))
    await playback.start()
    await _settle(tap, 100)
    await playback.set_output_device(NULL_OUTPUT)
    count = len(tap.blocks)
    await wait_until(lambda: len(tap.blocks) >= count + 5, 1.0, "more blocks after switching")
    assert tap.latest_is(100)
    await playback.close()


async def test_stop_then_start_resumes_and_a_tap_can_be_removed(media_cleanup: Cleanup) -> None:
    playback = media_cleanup.add(AudioPlayback(NULL_OUTPUT))
    tap = TapRecorder()
    playback.add_tap(tap)
    await playback.start()
    await wait_until(lambda: len(tap.blocks) >= 2, 1.0, "blocks")
    await playback.stop()
    assert pending_tasks() == [] or all(
        t.get_name().startswith("playback-reader") for t in pending_tasks()
    )
    count = len(tap.blocks)
    await playback.start()
    await wait_until(lambda: len(tap.blocks) >= count + 2, 1.0, "blocks after restart")
    playback.remove_tap(tap)
    count = len(tap.blocks)
    await wait_until(lambda: playback.blocks_played >= 10 + count, 2.0, "more mixing")
    assert len(tap.blocks) == count
    await playback.close()
    with pytest.raises(RuntimeError, match="closed"):
        await playback.start()


async def test_a_video_track_fed_to_playback_is_dropped_not_fatal(media_cleanup: Cleanup) -> None:
    playback = media_cleanup.add(AudioPlayback(NULL_OUTPUT))
    video: MediaStreamTrack = SyntheticVideoTrack("x")
    playback.add_track("v", video)
    await wait_until(lambda: playback.keys == [], 2.0, "the video track to be dropped")
    await playback.close()
    video.stop()


async def test_an_unplugged_device_is_reported_and_playback_falls_back(
    media_cleanup: Cleanup,
) -> None:
    leaks = ThreadLeakCheck()
    portaudio = FakePortAudio()
    errors: list[DeviceExceptionType] = []
    playback = media_cleanup.add(
        AudioPlayback(0, on_device_error=errors.append, portaudio=portaudio)
    )
    tap = TapRecorder()
    playback.add_tap(tap)
    playback.add_track("a", constant_track(300))
    await playback.start()
    await _settle(tap, 300)
    assert not playback.output_is_null
    first = portaudio.streams[0]
    assert first.kwargs["device"] == 0

    first.vanish()  # device 0 unplugged: on to the system default
    await wait_until(lambda: len(portaudio.streams) == 2, 3.0, "the default device to open")
    assert errors == [DeviceExceptionType.DEVICE_UNPLUGGED]
    assert portaudio.streams[1].kwargs["device"] is None
    assert first.closed
    count = len(tap.blocks)
    await wait_until(lambda: len(tap.blocks) >= count + 5, 2.0, "playing on the default")

    portaudio.streams[1].vanish()  # the default goes too: the null output takes over
    await wait_until(lambda: playback.output_is_null, 3.0, "the null output")
    assert errors == [DeviceExceptionType.DEVICE_UNPLUGGED] * 2
    await _settle(tap, 300)
    await playback.close()
    assert all(s.closed for s in portaudio.streams)
    assert leaks.leaked() == []


async def test_switching_devices_opens_the_new_stream_before_closing_the_old(
    media_cleanup: Cleanup,
) -> None:
    portaudio = FakePortAudio()
    playback = media_cleanup.add(AudioPlayback(0, portaudio=portaudio))
    tap = TapRecorder()
    playback.add_tap(tap)
    playback.add_track("a", constant_track(300))
    await playback.start()
    await _settle(tap, 300)
    old = portaudio.streams[0]
    await playback.set_output_device(None)
    new = portaudio.streams[1]
    assert old.closed
    assert new.active
    await wait_until(lambda: new.callbacks >= 3, 2.0, "the new stream to play")
    await _settle(tap, 300)
    await playback.set_output_device(NULL_OUTPUT)
    assert new.closed
    assert playback.output_is_null
    await _settle(tap, 300)
