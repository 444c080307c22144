"""The real PortAudio capture path: MicrophoneTrack on PulseAudio's null source."""

from __future__ import annotations

import time

import numpy as np
import pytest
from av import AudioFrame

from media.errors import DeviceExceptionType
from media.tracks import MicrophoneTrack
from tests.support import media_fixtures
from tests.support.media_fixtures import (
    Cleanup,
    ThreadLeakCheck,
    pending_tasks,
    require_virtual_audio,
)

media_cleanup = media_fixtures.media_cleanup

pytestmark = pytest.mark.audio


async def test_microphone_captures_from_the_null_source(media_cleanup: Cleanup) -> None:
    require_virtual_audio()
    leaks = ThreadLeakCheck()
    errors: list[DeviceExceptionType] = []
    track = media_cleanup.add(MicrophoneTrack(on_error=errors.append))
    track.start()
    started = time.perf_counter()
    frames = []
    for _ in range(25):
        frame = await track.recv()
        assert isinstance(frame, AudioFrame)
        frames.append(frame)
    elapsed = time.perf_counter() - started
    callbacks = track.callbacks
    track.stop()
    track.close()
    assert errors == []
    assert not track.using_fallback
    assert callbacks >= 25  # the frames came through PortAudio's callback
    assert all((f.samples, f.sample_rate, f.format.name) == (960, 48_000, "s16") for f in frames)
    assert [f.pts for f in frames] == [i * 960 for i in range(25)]
    # A null source delivers silence, in real time (20 ms a frame).
    assert all(not np.asarray(f.to_ndarray()).any() for f in frames)
    assert elapsed == pytest.approx(0.5, abs=0.25)
    assert pending_tasks() == []
    assert leaks.leaked() == []


async def test_microphone_with_a_bad_device_id_reports_invalid_id(media_cleanup: Cleanup) -> None:
    require_virtual_audio()
    errors: list[DeviceExceptionType] = []
    track = media_cleanup.add(MicrophoneTrack(device=999, on_error=errors.append))
    frame = await track.recv()
    track.stop()
    assert errors == [DeviceExceptionType.INVALID_ID]
    assert isinstance(frame, AudioFrame)
    assert not np.asarray(frame.to_ndarray()).any()
