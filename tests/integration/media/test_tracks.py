"""Tracks: synthetic sources' timing and format, camera and microphone fallbacks, slots."""

from __future__ import annotations

import asyncio
import fractions
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from av import AudioFrame, VideoFrame

from app.testing import wait_until
from media import devices
from media.errors import DeviceExceptionType
from media.levels import audio_level_dbfs
from media.tracks import (
    CameraTrack,
    MicrophoneTrack,
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    TrackSlot,
    VideoPreset,
)
from tests.support import media_fixtures
from tests.support.media_fixtures import (
    Cleanup,
    FakeCapture,
    FakeInputStream,
    ThreadLeakCheck,
    pending_tasks,
)

media_cleanup = media_fixtures.media_cleanup


async def _video(track: Any) -> VideoFrame:
    frame = await track.recv()
    assert isinstance(frame, VideoFrame)
    return frame


async def _audio(track: Any) -> AudioFrame:
    frame = await track.recv()
    assert isinstance(frame, AudioFrame)
    return frame


def _pts(frames: list[VideoFrame] | list[AudioFrame]) -> list[int]:
    stamps = [f.pts for f in frames]
    assert all(p is not None for p in stamps)
    return [int(p or 0) for p in stamps]


async def test_synthetic_video_frames_are_sized_stamped_and_paced(media_cleanup: Cleanup) -> None:
    track = SyntheticVideoTrack("Alice", width=320, height=180, fps=30)
    started = time.perf_counter()
    frames = [await _video(track) for _ in range(16)]
    elapsed = time.perf_counter() - started
    track.stop()
    assert all((f.width, f.height, f.format.name) == (320, 180, "yuv420p") for f in frames)
    assert all(f.time_base == fractions.Fraction(1, 90_000) for f in frames)
    assert [f.pts for f in frames] == [i * 3000 for i in range(16)]
    # 15 periods of 1/30 s after the first frame, which comes at once.
    assert 0.5 - 0.01 <= elapsed <= 0.5 + 0.1
    # The pattern moves: consecutive frames differ.
    first, second = (f.to_ndarray() for f in frames[:2])
    assert not np.array_equal(first, second)


async def test_synthetic_video_draws_the_label(media_cleanup: Cleanup) -> None:
    alice = SyntheticVideoTrack("Alice").render(0).copy()
    bob = SyntheticVideoTrack("Bob").render(0).copy()
    assert alice.shape == (720, 640)
    assert not np.array_equal(alice, bob)


async def test_synthetic_video_rejects_odd_sizes(media_cleanup: Cleanup) -> None:
    with pytest.raises(ValueError, match="even"):
        SyntheticVideoTrack("x", width=641)


async def test_synthetic_audio_frames_are_48k_mono_s16_20ms_and_paced(
    media_cleanup: Cleanup,
) -> None:
    track = SyntheticAudioTrack("silence")
    started = time.perf_counter()
    frames = [await _audio(track) for _ in range(26)]
    elapsed = time.perf_counter() - started
    track.stop()
    for frame in frames:
        assert (frame.sample_rate, frame.samples, frame.format.name, frame.layout.name) == (
            48_000,
            960,
            "s16",
            "mono",
        )
    assert [f.pts for f in frames] == [i * 960 for i in range(26)]
    assert 0.5 - 0.01 <= elapsed <= 0.5 + 0.1
    assert all(not f.to_ndarray().any() for f in frames)


async def test_tone_has_the_expected_level_and_a_continuous_phase(media_cleanup: Cleanup) -> None:
    track = SyntheticAudioTrack("tone", frequency=440.0)
    samples = np.concatenate([(await _audio(track)).to_ndarray().reshape(-1) for _ in range(5)])
    track.stop()
    assert audio_level_dbfs(samples) == pytest.approx(20 * np.log10(0.25 / np.sqrt(2)), abs=0.5)
    # No jump at frame boundaries: steps stay within one sample's slope of the sine.
    max_step = 0.25 * 32767 * 2 * np.pi * 440 / 48_000
    assert np.abs(np.diff(samples.astype(np.int32))).max() <= max_step + 2


async def test_injected_sound_is_mixed_into_the_following_frames(media_cleanup: Cleanup) -> None:
    track = SyntheticAudioTrack("silence")
    await track.recv()
    track.inject(np.full(1500, 1234))
    first = (await _audio(track)).to_ndarray().reshape(-1)
    second = (await _audio(track)).to_ndarray().reshape(-1)
    third = (await _audio(track)).to_ndarray().reshape(-1)
    track.stop()
    assert (first == 1234).all()
    assert (second[:540] == 1234).all()
    assert not second[540:].any()
    assert not third.any()


async def test_click_time_is_when_its_frame_leaves_recv(media_cleanup: Cleanup) -> None:
    track = SyntheticAudioTrack("silence")
    for _ in range(3):
        await track.recv()
    promised = track.inject_click()
    frame = await _audio(track)
    handed_out = time.perf_counter()
    track.stop()
    samples = frame.to_ndarray().reshape(-1)
    assert np.abs(samples.astype(np.int32)).max() > 0.5 * 32767
    assert track.last_click_sent is not None
    assert abs(track.last_click_sent - promised) < 0.005
    assert abs(handed_out - promised) < 0.01


async def test_ended_track_raises(media_cleanup: Cleanup) -> None:
    from aiortc.mediastreams import MediaStreamError

    track = SyntheticAudioTrack()
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()


# -- camera ---------------------------------------------------------------------------


async def test_camera_frames_come_from_the_capture_at_the_preset_size(
    media_cleanup: Cleanup,
) -> None:
    leaks = ThreadLeakCheck()
    capture = FakeCapture(value=77, size=(1280, 720))
    track = media_cleanup.add(CameraTrack(0, VideoPreset.P360, capture_factory=lambda i: capture))
    track.start()
    frames = [await _video(track) for _ in range(3)]
    track.stop()
    assert all((f.width, f.height) == (640, 360) for f in frames)  # resized to the preset
    assert all(abs(float(f.to_ndarray(format="bgr24").mean()) - 77) < 2 for f in frames)
    assert _pts(frames) == sorted(set(_pts(frames)))
    assert capture.settings  # the preset was asked of the device
    assert capture.released.is_set()
    assert not track.using_fallback
    assert leaks.leaked() == []


async def test_camera_that_stops_delivering_reports_zero_fps_and_falls_back(
    media_cleanup: Cleanup,
) -> None:
    leaks = ThreadLeakCheck()
    errors: list[DeviceExceptionType] = []
    capture = FakeCapture(frames=5, value=200)
    track = media_cleanup.add(
        CameraTrack(
            0,
            label="Alice",
            on_error=errors.append,
            capture_factory=lambda i: capture,
            zero_fps_timeout_s=0.3,
        )
    )
    track.start()
    first = await _video(track)
    assert abs(float(first.to_ndarray(format="bgr24").mean()) - 200) < 2
    assert errors == []
    frames: list[VideoFrame] = []
    while not track.using_fallback:
        frames.append(await _video(track))
        assert len(frames) < 100, "no fallback after the camera stalled"
    fallback = [await _video(track) for _ in range(3)]
    assert errors == [DeviceExceptionType.ZERO_CAPTURE_FPS]
    # The test pattern, not the camera's flat grey: colour bars vary across the row.
    picture = fallback[-1].to_ndarray(format="bgr24")
    assert picture.std() > 20
    assert (fallback[-1].width, fallback[-1].height) == (640, 480)
    pts = _pts([first, *frames, *fallback])
    assert pts == sorted(pts)
    assert len(set(pts)) == len(pts)
    track.stop()
    track.close()  # idempotent
    assert capture.released.is_set()
    assert leaks.leaked() == []
    assert pending_tasks() == []


async def test_camera_whose_reads_keep_failing_is_reported_unplugged(
    media_cleanup: Cleanup,
) -> None:
    errors: list[DeviceExceptionType] = []
    capture = FakeCapture(frames=2, stall_s=0.0)  # reads fail at once, as after unplugging
    track = media_cleanup.add(
        CameraTrack(
            0, on_error=errors.append, capture_factory=lambda i: capture, zero_fps_timeout_s=30
        )
    )
    track.start()
    await wait_until(lambda: bool(errors), 5.0, "the failure to be reported")
    frame = await _video(track)
    assert errors == [DeviceExceptionType.DEVICE_UNPLUGGED]
    assert track.using_fallback
    assert frame.to_ndarray(format="bgr24").std() > 20  # the test pattern
    await wait_until(capture.released.is_set, 2.0, "the device to be released")


async def test_camera_that_cannot_open_falls_back_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, media_cleanup: Cleanup
) -> None:
    monkeypatch.setattr(devices, "V4L_DIR", tmp_path)  # a machine with no /dev/video*
    monkeypatch.setattr(devices, "IS_LINUX", True)
    errors: list[DeviceExceptionType] = []
    capture = FakeCapture(opened=False)
    track = media_cleanup.add(
        CameraTrack(4, on_error=errors.append, capture_factory=lambda i: capture)
    )
    track.start()
    await wait_until(lambda: bool(errors), 2.0, "the open failure to be reported")
    started = time.perf_counter()
    frame = await _video(track)
    track.stop()
    assert errors == [DeviceExceptionType.INVALID_ID]
    assert track.using_fallback
    assert time.perf_counter() - started < 0.2
    assert (frame.width, frame.height) == (640, 480)
    assert capture.released.is_set()


async def test_camera_stop_releases_the_device_while_frames_flow(media_cleanup: Cleanup) -> None:
    leaks = ThreadLeakCheck()
    capture = FakeCapture()
    track = media_cleanup.add(CameraTrack(0, capture_factory=lambda i: capture))
    track.start()
    await track.recv()
    track.stop()
    assert track.device_released.is_set()
    assert capture.released.is_set()
    assert track.readyState == "ended"
    assert leaks.leaked() == []


# -- microphone -------------------------------------------------------------------------


async def test_microphone_that_cannot_open_reports_and_sends_silence(
    media_cleanup: Cleanup,
) -> None:
    errors: list[DeviceExceptionType] = []

    def broken(**kwargs: Any) -> Any:
        raise OSError(16, "Device or resource busy")

    track = media_cleanup.add(MicrophoneTrack(on_error=errors.append, stream_factory=broken))
    started = time.perf_counter()
    frames = [await _audio(track) for _ in range(5)]
    elapsed = time.perf_counter() - started
    track.stop()
    assert errors == [DeviceExceptionType.DEVICE_OCCUPIED]
    assert track.failure is DeviceExceptionType.DEVICE_OCCUPIED
    assert all(f.samples == 960 and not f.to_ndarray().any() for f in frames)
    assert [f.pts for f in frames] == [i * 960 for i in range(5)]
    assert elapsed >= 4 * 0.02 - 0.005  # silence is paced in real time


async def test_microphone_that_vanishes_mid_call_falls_back_to_silence(
    media_cleanup: Cleanup,
) -> None:
    leaks = ThreadLeakCheck()
    errors: list[DeviceExceptionType] = []
    streams: list[FakeInputStream] = []

    def factory(**kwargs: Any) -> FakeInputStream:
        streams.append(FakeInputStream(blocks=5, value=1000, **kwargs))
        return streams[-1]

    track = media_cleanup.add(MicrophoneTrack(on_error=errors.append, stream_factory=factory))
    captured = [await _audio(track) for _ in range(5)]
    assert all((f.to_ndarray() == 1000).all() for f in captured)
    after = [await _audio(track) for _ in range(3)]
    track.stop()
    track.close()
    assert errors == [DeviceExceptionType.DEVICE_UNPLUGGED]
    assert all(not f.to_ndarray().any() for f in after)
    pts = [f.pts for f in captured + after]
    assert pts == [i * 960 for i in range(8)]
    assert streams[0].closed
    assert leaks.leaked() == []


# -- slot -----------------------------------------------------------------------------------


async def test_slot_switches_sources_without_ending_and_timestamps_keep_rising(
    media_cleanup: Cleanup,
) -> None:
    leaks = ThreadLeakCheck()
    capture = FakeCapture(value=90)
    camera = media_cleanup.add(CameraTrack(0, capture_factory=lambda i: capture))
    slot = media_cleanup.add(TrackSlot("video", camera))
    from_camera = await _video(slot)
    synthetic = SyntheticVideoTrack("Alice")
    slot.replace(synthetic)  # camera -> synthetic; the camera is released
    assert capture.released.is_set()
    assert camera.readyState == "ended"
    from_synthetic = await _video(slot)
    slot.replace(None)  # off: black
    black = await _video(slot)
    assert synthetic.readyState == "ended"
    assert slot.readyState == "live"
    picture = black.to_ndarray(format="yuv420p")
    assert (picture[:480] == 16).all()
    pts = _pts([from_camera, from_synthetic, black])
    assert pts == sorted(pts)
    assert len(set(pts)) == 3
    slot.close()
    slot.close()
    assert leaks.leaked() == []


async def test_audio_slot_sends_silence_when_off_and_keeps_sample_timestamps(
    media_cleanup: Cleanup,
) -> None:
    tone = SyntheticAudioTrack("tone")
    slot = media_cleanup.add(TrackSlot("audio", tone))
    frames = [await _audio(slot) for _ in range(2)]
    slot.replace(None)
    frames += [await _audio(slot) for _ in range(2)]
    slot.replace(SyntheticAudioTrack("tone"))
    frames += [await _audio(slot) for _ in range(2)]
    slot.stop()
    assert [f.pts for f in frames] == [i * 960 for i in range(6)]
    levels = [audio_level_dbfs(f.to_ndarray()) for f in frames]
    assert levels[0] > -20
    assert levels[2] == -100
    assert levels[3] == -100
    assert levels[5] > -20
    assert tone.readyState == "ended"


async def test_slot_rejects_a_track_of_the_other_kind(media_cleanup: Cleanup) -> None:
    slot = media_cleanup.add(TrackSlot("audio"))
    with pytest.raises(ValueError, match="audio slot"):
        slot.replace(SyntheticVideoTrack("x"))
    slot.stop()


async def test_replacing_while_recv_waits_reads_the_new_source(media_cleanup: Cleanup) -> None:
    slot = media_cleanup.add(TrackSlot("audio", SyntheticAudioTrack("silence")))
    await slot.recv()
    waiting = asyncio.ensure_future(slot.recv())
    await asyncio.sleep(0)
    loud = SyntheticAudioTrack("tone")
    slot.replace(loud)
    frame = await asyncio.wait_for(waiting, 1.0)
    slot.stop()
    assert isinstance(frame, AudioFrame)
    assert audio_level_dbfs(frame.to_ndarray()) > -20


async def test_switching_away_from_a_stalled_camera_is_immediate(media_cleanup: Cleanup) -> None:
    capture = FakeCapture(frames=1, stall_s=0.05)
    camera = CameraTrack(0, capture_factory=lambda i: capture)
    slot = media_cleanup.add(TrackSlot("video", camera))
    await slot.recv()
    waiting = asyncio.ensure_future(slot.recv())  # blocks on the silent camera
    await asyncio.sleep(0.1)
    assert not waiting.done()
    started = time.perf_counter()
    slot.replace(SyntheticVideoTrack("Alice"))
    frame = await asyncio.wait_for(waiting, 2.0)
    assert time.perf_counter() - started < 0.3
    assert isinstance(frame, VideoFrame)
    assert capture.released.is_set()


async def test_stopping_a_microphone_wakes_a_waiting_recv(media_cleanup: Cleanup) -> None:
    from aiortc.mediastreams import MediaStreamError

    def silent(**kwargs: Any) -> _NeverCalls:
        return _NeverCalls(**kwargs)

    track = media_cleanup.add(MicrophoneTrack(stream_factory=silent))
    waiting = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    track.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(waiting, 2.0)
    assert time.perf_counter() - started < 0.3


class _NeverCalls:
    """An input stream that opens but never calls back (a hung device)."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def start(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass
