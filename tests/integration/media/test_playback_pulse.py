"""The real PortAudio output path: AudioPlayback on PulseAudio's null sink."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import numpy.typing as npt
import pytest
from av import AudioFrame

from app.testing import wait_until
from media import devices
from media.errors import DeviceExceptionType
from media.levels import audio_level_dbfs
from media.playback import AudioPlayback
from media.tracks import MicrophoneTrack, SyntheticAudioTrack
from tests.support import media_fixtures
from tests.support.media_fixtures import (
    Cleanup,
    ThreadLeakCheck,
    pending_tasks,
    require_virtual_audio,
)

media_cleanup = media_fixtures.media_cleanup

pytestmark = pytest.mark.audio

# PulseAudio may hold a new output stream back for up to ~2 s (ENVIRONMENT.md).
STARTUP_S = 6.0


class Tap:
    def __init__(self) -> None:
        self.levels: list[int] = []

    def __call__(self, block: npt.NDArray[np.int16], played_at: float) -> None:
        self.levels.append(int(np.abs(block.astype(np.int32)).max()))


def _pulse_indices() -> list[int]:
    return [s.index for s in devices.list_speakers() if s.name in ("pulse", "default")]


async def test_playback_plays_to_the_null_sink_through_portaudio(media_cleanup: Cleanup) -> None:
    require_virtual_audio()
    leaks = ThreadLeakCheck()
    errors: list[DeviceExceptionType] = []
    playback = media_cleanup.add(AudioPlayback(None, on_device_error=errors.append))
    tap = Tap()
    playback.add_tap(tap)
    tone = SyntheticAudioTrack("tone")
    playback.add_track("alice", tone)
    await playback.start()
    assert not playback.output_is_null
    await wait_until(lambda: playback.device_callbacks >= 50, STARTUP_S, "50 device callbacks")
    await wait_until(lambda: max(tap.levels[-5:], default=0) > 5000, 2.0, "the tone to play")
    await playback.close()
    tone.stop()
    assert errors == []
    assert pending_tasks() == []
    assert leaks.leaked() == []


async def test_switching_the_output_device_during_playback_keeps_playing(
    media_cleanup: Cleanup,
) -> None:
    require_virtual_audio()
    indices = _pulse_indices()
    assert len(indices) == 2  # "pulse" and "default" both reach the null sink
    errors: list[DeviceExceptionType] = []
    playback = media_cleanup.add(AudioPlayback(indices[0], on_device_error=errors.append))
    tap = Tap()
    playback.add_tap(tap)
    tone = SyntheticAudioTrack("tone")
    playback.add_track("alice", tone)
    await playback.start()
    await wait_until(lambda: playback.device_callbacks >= 25, STARTUP_S, "the first device")
    before = len(tap.levels)
    await playback.set_output_device(indices[1])
    assert playback.device == indices[1]
    assert not playback.output_is_null
    await wait_until(lambda: playback.device_callbacks >= 25, STARTUP_S, "the second device")
    await wait_until(lambda: max(tap.levels[-5:], default=0) > 5000, 2.0, "the tone after switch")
    # The tap never went quiet for long across the switch.
    assert len(tap.levels) > before
    await playback.close()
    tone.stop()
    assert errors == []


async def test_a_bad_output_device_reports_and_falls_back_to_the_default(
    media_cleanup: Cleanup,
) -> None:
    require_virtual_audio()
    errors: list[DeviceExceptionType] = []
    playback = media_cleanup.add(AudioPlayback(None, on_device_error=errors.append))
    await playback.start()
    await playback.set_output_device(999)
    assert errors == [DeviceExceptionType.INVALID_ID]
    assert not playback.output_is_null  # on the system default instead
    await wait_until(lambda: playback.device_callbacks >= 10, STARTUP_S, "the default device")
    await playback.close()


def _set_default_source(pactl: str, source: str) -> None:
    subprocess.run([pactl, "set-default-source", source], check=True, timeout=5)


async def test_a_tone_played_to_the_sink_is_captured_from_its_monitor(
    media_cleanup: Cleanup,
) -> None:
    """End to end through PortAudio both ways: playback → null sink → monitor → mic."""
    require_virtual_audio()
    pactl = shutil.which("pactl")
    if pactl is None:
        pytest.skip("pactl is needed to route the sink's monitor to the microphone")
    _set_default_source(pactl, "vspeaker.monitor")
    try:
        playback = media_cleanup.add(AudioPlayback(None))
        playback.add_track("alice", SyntheticAudioTrack("tone", frequency=1000.0))
        await playback.start()
        microphone = media_cleanup.add(MicrophoneTrack())
        heard = -100.0
        for _ in range(300):  # up to 6 s: PulseAudio may hold new output back ~2 s
            frame = await microphone.recv()
            assert isinstance(frame, AudioFrame)
            heard = max(heard, audio_level_dbfs(frame.to_ndarray()))
            if heard > -25:
                break
        assert microphone.failure is None
        # The tone is -15 dBFS; resampling and mixing in PulseAudio may shave a little.
        assert heard > -25
    finally:
        _set_default_source(pactl, "vmic")
