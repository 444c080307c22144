"""The settings page's preview: frames and levels from synthetic and virtual devices.

Real tracks throughout: the synthetic camera and tone, the PulseAudio null source and
sink through the real PortAudio, and OpenCV failing to open a camera that is not there.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pytest

from app.kit.devices.preview import DevicePreview, speaker_output
from app.kit.devices.settings import DeviceSettings, MemoryStorage
from app.kit.media import MediaOptions
from app.kit.views.devices import DeviceKind, MicrophoneTest, PreviewState
from app.testing import wait_until
from media.camera import VideoPreset
from media.levels import SILENCE_DBFS
from media.playback import NULL_OUTPUT
from media.portaudio import open_stream_count
from resources import SOUNDS
from tests.support.media_fixtures import (
    FakeCapture,
    ThreadLeakCheck,
    pending_tasks,
    require_virtual_audio,
)


@dataclass
class Seen:
    """What the preview handed out, with arrival times."""

    frames: list[tuple[float, npt.NDArray[np.uint8]]] = field(default_factory=list)
    levels: list[tuple[float, float]] = field(default_factory=list)
    states: list[tuple[DeviceKind, PreviewState]] = field(default_factory=list)

    def frame(self, array: npt.NDArray[np.uint8]) -> None:
        self.frames.append((time.perf_counter(), array))

    def level(self, dbfs: float) -> None:
        self.levels.append((time.perf_counter(), dbfs))

    def state(self, kind: DeviceKind, state: PreviewState) -> None:
        self.states.append((kind, state))

    def states_of(self, kind: DeviceKind) -> list[PreviewState]:
        return [state for k, state in self.states if k is kind]


def playing(preview: DevicePreview) -> bool:
    """Whether the test sound plays, read afresh (mypy would keep an assert's narrowing)."""
    return preview.playing_test_sound


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def threads() -> Iterator[ThreadLeakCheck]:
    check = ThreadLeakCheck()
    yield check
    assert check.leaked() == []


@pytest.fixture
async def preview(seen: Seen, threads: ThreadLeakCheck) -> AsyncIterator[DevicePreview]:
    made = DevicePreview(seen.frame, seen.level, seen.state, sounds_dir=SOUNDS)
    yield made
    await made.close()
    assert pending_tasks() == []


async def test_synthetic_preview_delivers_throttled_frames_and_the_tone_level(
    preview: DevicePreview, seen: Seen
) -> None:
    options = MediaOptions(synthetic=True, tone_hz=440.0, video_preset=VideoPreset.P360)
    await preview.start(options)
    await wait_until(lambda: len(seen.frames) >= 16, 5.0, "16 frames")
    await wait_until(lambda: len(seen.levels) >= 5, 5.0, "5 levels")
    frame = seen.frames[-1][1]
    assert frame.shape == (360, 640, 3)
    assert frame.dtype == np.uint8
    # A 30 fps source, at most 15 frames a second to the page.
    span = seen.frames[-1][0] - seen.frames[0][0]
    assert (len(seen.frames) - 1) / span < 17
    # The synthetic tone is a quarter of full scale: about -15 dBFS, ~10 times a second.
    assert all(-17 < dbfs < -13 for _, dbfs in seen.levels[1:])
    level_span = seen.levels[-1][0] - seen.levels[0][0]
    assert 7 < (len(seen.levels) - 1) / level_span < 13
    assert preview.state(DeviceKind.CAMERA) is PreviewState.LIVE
    assert preview.state(DeviceKind.MICROPHONE) is PreviewState.LIVE
    await preview.stop()
    assert preview.state(DeviceKind.CAMERA) is PreviewState.OFF
    assert preview.state(DeviceKind.MICROPHONE) is PreviewState.OFF
    assert seen.levels[-1][1] == SILENCE_DBFS, "the bar drops when the microphone closes"
    count = len(seen.frames)
    await wait_until(lambda: True, 0.2, "")
    assert len(seen.frames) == count


async def test_a_camera_that_cannot_open_says_so_and_shows_no_test_pattern(
    preview: DevicePreview, seen: Seen
) -> None:
    # No camera exists in CI: OpenCV really fails to open index 9.
    await preview.open_camera(MediaOptions(camera_index=9), available=True)
    await wait_until(
        lambda: preview.state(DeviceKind.CAMERA) is PreviewState.FAILED, 10.0, "the failure"
    )
    assert seen.states_of(DeviceKind.CAMERA) == [PreviewState.STARTING, PreviewState.FAILED]
    await preview.close_camera()
    assert seen.frames == [], "the fallback picture must not pose as the camera"
    assert preview.state(DeviceKind.CAMERA) is PreviewState.OFF


async def test_stopping_releases_the_camera(seen: Seen, threads: ThreadLeakCheck) -> None:
    # The capture is OpenCV's stand-in (the one seam faked): its release is the light.
    capture = FakeCapture(value=90)
    preview = DevicePreview(seen.frame, seen.level, seen.state, capture_factory=lambda i: capture)
    await preview.open_camera(MediaOptions(camera_index=0, video_preset=VideoPreset.P180))
    await wait_until(lambda: len(seen.frames) >= 3, 5.0, "camera frames")
    assert seen.frames[-1][1].shape == (180, 320, 3)
    assert preview.state(DeviceKind.CAMERA) is PreviewState.LIVE
    assert not capture.released.is_set()
    await preview.close()
    assert capture.released.is_set(), "the camera is released when the preview stops"
    assert preview.state(DeviceKind.CAMERA) is PreviewState.OFF


async def test_no_camera_opens_nothing(preview: DevicePreview, seen: Seen) -> None:
    await preview.open_camera(MediaOptions(), available=False)
    assert preview.state(DeviceKind.CAMERA) is PreviewState.NO_DEVICE
    await preview.close_camera()
    assert seen.frames == []


@pytest.mark.audio
async def test_the_virtual_microphone_is_metered_and_released_on_stop(
    preview: DevicePreview, seen: Seen
) -> None:
    require_virtual_audio()
    settings = DeviceSettings(MemoryStorage())
    devices = await settings.refresh()  # the real PortAudio listing
    names = [m.name for m in devices.microphones]
    assert "pulse" in names
    draft = settings.choices.with_choice(DeviceKind.MICROPHONE, "pulse (ALSA)")
    options = settings.media_options(MediaOptions(), draft)
    assert options.microphone == "pulse"
    await preview.open_microphone(options)
    assert open_stream_count() == 1
    await wait_until(lambda: len(seen.levels) >= 3, 10.0, "levels from the null source")
    assert preview.state(DeviceKind.MICROPHONE) is PreviewState.LIVE
    assert all(dbfs == SILENCE_DBFS for _, dbfs in seen.levels), "a null source is silent"
    await preview.stop()
    assert open_stream_count() == 0, "the microphone is released"
    await settings.close()


@pytest.mark.audio
async def test_the_test_sound_plays_on_the_virtual_speaker_and_ends(
    preview: DevicePreview,
) -> None:
    require_virtual_audio()
    done: list[bool] = []
    await preview.play_test_sound(speaker_output(MediaOptions(speaker="pulse")), lambda: None)
    assert playing(preview)
    await wait_until(lambda: open_stream_count() == 1, 5.0, "the speaker to open")
    await preview.stop_test_sound()
    assert not playing(preview)
    assert open_stream_count() == 0
    await preview.play_test_sound("pulse", lambda: done.append(True))
    await wait_until(lambda: done == [True], 10.0, "the end of the test sound")
    assert open_stream_count() == 0, "the speaker is released once the sound has played"


async def test_the_microphone_test_records_then_plays_it_back(preview: DevicePreview) -> None:
    await preview.open_microphone(MediaOptions(synthetic=True, tone_hz=440))
    steps: list[MicrophoneTest] = []
    await preview.test_microphone(NULL_OUTPUT, steps.append, seconds=0.6)
    assert steps == [MicrophoneTest.RECORDING, MicrophoneTest.PLAYING, MicrophoneTest.IDLE]
    assert preview.last_recording is not None
    samples, rate = preview.last_recording
    assert 0.4 * rate <= samples.size <= 0.8 * rate  # what came in those 0.6 s
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 1000  # the tone, not silence


async def test_the_microphone_test_with_nothing_to_hear_ends_without_playing(
    preview: DevicePreview,
) -> None:
    steps: list[MicrophoneTest] = []  # no microphone open
    await preview.test_microphone(NULL_OUTPUT, steps.append, seconds=0.2)
    assert steps == [MicrophoneTest.RECORDING, MicrophoneTest.IDLE]


@pytest.mark.audio
async def test_the_microphone_test_on_virtual_devices_records_processed_and_releases_them(
    preview: DevicePreview,
) -> None:
    require_virtual_audio()
    await preview.open_microphone(MediaOptions(microphone="pulse", voice_processing=True))
    steps: list[MicrophoneTest] = []
    await preview.test_microphone("pulse", steps.append, seconds=0.6)
    assert steps == [MicrophoneTest.RECORDING, MicrophoneTest.PLAYING, MicrophoneTest.IDLE]
    assert preview.last_recording is not None
    assert preview.last_recording[1] == 48000  # the processed microphone's frames
    await preview.stop()
    assert open_stream_count() == 0, "microphone and speaker released"
