"""The settings page's live preview: the chosen camera's frames and the microphone's level.

:class:`DevicePreview` opens the devices :class:`~app.kit.devices.settings.DeviceSettings`
chose, hands out RGB frames and dBFS levels on the event loop, says why a device failed
instead of showing a test pattern, and releases both devices when stopped. No Qt here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from app.kit.devices.settings import (
    TEST_SOUND,
)
from app.kit.media import MediaOptions
from app.kit.tasks import TaskKeeper
from app.kit.views.devices import (
    DeviceKind,
    MicrophoneTest,
    PreviewState,
)
from media.camera import CameraTrack
from media.devices import (
    CaptureFactory,
    open_capture,
)
from media.errors import DeviceExceptionType
from media.levels import SILENCE_DBFS, LevelMeter
from media.microphone import MicrophoneTrack
from media.playback import NULL_OUTPUT, AudioPlayback, OutputDevice
from media.sounds import SoundPlayer, WavTrack, load_wav
from media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

log = logging.getLogger("parley.devices")

FrameCallback = Callable[[npt.NDArray[np.uint8]], None]
StateCallback = Callable[[DeviceKind, PreviewState], None]

#: How long the microphone test records before playing it back.
MICROPHONE_TEST_S = 5.0

_PROBLEMS = {
    DeviceExceptionType.DEVICE_OCCUPIED: PreviewState.BUSY,
    DeviceExceptionType.PERMISSION_NOT_GRANTED: PreviewState.DENIED,
    DeviceExceptionType.ZERO_CAPTURE_FPS: PreviewState.SILENT,
}


def preview_problem(kind: DeviceExceptionType) -> PreviewState:
    """The preview state that says why a device failed."""
    return _PROBLEMS.get(kind, PreviewState.FAILED)


class DevicePreview:
    """The chosen camera as RGB frames (at most ``max_fps``) and the microphone's level.

    Callbacks run on the event loop. Levels are the microphone's RMS dBFS, about
    ``level_hz`` times a second. A failing camera shows no test pattern here: the preview
    reports why instead. :meth:`stop` releases both devices (the camera light goes off).
    """

    def __init__(
        self,
        on_frame: FrameCallback,
        on_level: Callable[[float], None],
        on_state: StateCallback | None = None,
        *,
        max_fps: float = 15.0,
        level_hz: float = 10.0,
        label: str = "Preview",
        sounds_dir: Path | None = None,
        capture_factory: CaptureFactory = open_capture,
    ) -> None:
        if max_fps <= 0:
            raise ValueError("max_fps must be positive")
        self._on_frame = on_frame
        self._on_level = on_level
        self._on_state = on_state
        self._frame_interval = 1.0 / max_fps
        self._meter = LevelMeter(lambda _key, dbfs, _speaking: on_level(dbfs), rate_hz=level_hz)
        self._label = label
        self._sounds_dir = sounds_dir
        self._capture_factory = capture_factory
        self._tracks: dict[DeviceKind, MediaStreamTrack] = {}
        self._tasks = TaskKeeper("device preview")
        self._readers: dict[DeviceKind, asyncio.Task[Any]] = {}
        self._states = {
            DeviceKind.CAMERA: PreviewState.OFF,
            DeviceKind.MICROPHONE: PreviewState.OFF,
        }
        self._sound: tuple[asyncio.Task[Any], asyncio.Event] | None = None
        self.frames_delivered = 0
        self._microphone: MicrophoneTrack | None = None
        self._recording: list[npt.NDArray[np.int16]] | None = None
        self._recording_rate = 48000
        #: The microphone test's last recording (mono int16) and its rate.
        self.last_recording: tuple[npt.NDArray[np.int16], int] | None = None

    def state(self, kind: DeviceKind) -> PreviewState:
        """How the camera's or the microphone's preview is doing."""
        return self._states.get(kind, PreviewState.OFF)

    @property
    def can_play_test_sound(self) -> bool:
        """Whether a test sound is available."""
        return self._sounds_dir is not None

    @property
    def playing_test_sound(self) -> bool:
        """Whether the test sound is playing."""
        return self._sound is not None and not self._sound[0].done()

    async def start(
        self, options: MediaOptions, *, camera: bool = True, microphone: bool = True
    ) -> None:
        """Open the camera and microphone of ``options``; ``camera``/``microphone`` say
        whether there is such a device at all (synthetic options need none)."""
        await self.open_camera(options, available=camera)
        await self.open_microphone(options, available=microphone)

    async def open_camera(self, options: MediaOptions, *, available: bool = True) -> None:
        """(Re)open the camera of ``options``."""
        await self.close_camera()
        track: MediaStreamTrack
        res = options.video_preset.resolution
        if options.synthetic:
            self._set_state(DeviceKind.CAMERA, PreviewState.STARTING)
            track = SyntheticVideoTrack(self._label, res.width, res.height, res.fps)
        elif not available:
            self._set_state(DeviceKind.CAMERA, PreviewState.NO_DEVICE)
            return
        else:
            self._set_state(DeviceKind.CAMERA, PreviewState.STARTING)
            camera = CameraTrack(
                options.camera_index,
                options.video_preset,
                label=self._label,
                on_error=self._on_camera_error,
                capture_factory=self._capture_factory,
            )
            camera.start()
            track = camera
        self._open(DeviceKind.CAMERA, track, self._read_camera(track))

    async def open_microphone(self, options: MediaOptions, *, available: bool = True) -> None:
        """(Re)open the microphone of ``options``."""
        await self.close_microphone()
        track: MediaStreamTrack
        if options.synthetic:
            self._set_state(DeviceKind.MICROPHONE, PreviewState.STARTING)
            tone = options.tone_hz
            track = SyntheticAudioTrack("tone", tone) if tone else SyntheticAudioTrack()
        elif not available:
            self._set_state(DeviceKind.MICROPHONE, PreviewState.NO_DEVICE)
            return
        else:
            # A microphone that cannot open reports it at once, from start().
            self._set_state(DeviceKind.MICROPHONE, PreviewState.STARTING)
            microphone = MicrophoneTrack(options.microphone, on_error=self._on_microphone_error)
            microphone.start()
            self._microphone = microphone
            # As a call sends it: the microphone test is heard processed (or not).
            from media.voice_processing import ProcessedMicrophone, VoiceProcessor

            track = ProcessedMicrophone(
                microphone, VoiceProcessor(enabled=options.voice_processing)
            )
        self._open(DeviceKind.MICROPHONE, track, self._read_microphone(track))

    async def close_camera(self) -> None:
        """Release the camera (its light goes off)."""
        await self._close(DeviceKind.CAMERA)

    async def close_microphone(self) -> None:
        """Release the microphone."""
        await self._close(DeviceKind.MICROPHONE)
        self._microphone = None

    async def test_microphone(
        self,
        speaker: OutputDevice,
        on_step: Callable[[MicrophoneTest], None],
        *,
        seconds: float = MICROPHONE_TEST_S,
    ) -> None:
        """Record ``seconds`` of the microphone as a call sends it (echo cancellation and
        noise suppression when they are on), then play them back on ``speaker``;
        ``on_step`` follows (``IDLE`` at the end, also when it stops early)."""
        await self.stop_test_sound()  # one sound at a time
        self._recording = []
        on_step(MicrophoneTest.RECORDING)
        playback: AudioPlayback | None = None
        try:
            await asyncio.sleep(seconds)
            recorded, self._recording = self._recording, None
            if not recorded:
                return  # no microphone (or it went away): nothing to hear
            samples = np.concatenate(recorded)
            rate = self._recording_rate
            self.last_recording = (samples, rate)
            on_step(MicrophoneTest.PLAYING)
            playback = AudioPlayback(speaker)
            await playback.start()
            playback.add_track("microphone test", WavTrack(samples, rate, loop=False))
            await asyncio.sleep(samples.size / rate + 0.3)  # played, and a little tail
        finally:
            self._recording = None
            if playback is not None:
                await playback.close()
            on_step(MicrophoneTest.IDLE)

    async def stop(self) -> None:
        """Release both devices and stop the test sound; idempotent."""
        await self.close_camera()
        await self.close_microphone()
        await self.stop_test_sound()

    async def close(self) -> None:
        """Same as :meth:`stop`."""
        await self.stop()

    # -- the test sound --------------------------------------------------------------------

    async def play_test_sound(self, speaker: OutputDevice, on_done: Callable[[], None]) -> None:
        """Play the test sound once on ``speaker`` (``NULL_OUTPUT`` plays to nowhere);
        ``on_done()`` runs when it has finished or was stopped."""
        await self.stop_test_sound()
        if self._sounds_dir is None:
            on_done()
            return
        try:
            samples, rate = load_wav(self._sounds_dir / f"{TEST_SOUND}.wav")
        except (OSError, ValueError) as exc:
            log.warning("no test sound: %s", exc)
            on_done()
            return
        # Output can stall a moment at the start (PulseAudio): leave the tail time to play.
        duration = len(samples) / rate + 0.5
        player = SoundPlayer(self._sounds_dir, device=speaker)
        stop = asyncio.Event()
        task = self._tasks.spawn(self._run_sound(player, duration, stop, on_done), "test sound")
        self._sound = (task, stop)

    async def stop_test_sound(self) -> None:
        """Stop the test sound, if it plays; its output is closed when this returns."""
        sound, self._sound = self._sound, None
        if sound is not None:
            task, stop = sound
            # Asked to stop rather than cancelled, so the output is always closed.
            stop.set()
            await asyncio.gather(task, return_exceptions=True)

    @staticmethod
    async def _run_sound(
        player: SoundPlayer, duration: float, stop: asyncio.Event, on_done: Callable[[], None]
    ) -> None:
        try:
            await player.play(TEST_SOUND, loop=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        finally:
            await player.close()
            on_done()

    # -- readers -----------------------------------------------------------------------------

    def _open(
        self, kind: DeviceKind, track: MediaStreamTrack, reader: Coroutine[Any, Any, None]
    ) -> None:
        self._tracks[kind] = track
        self._readers[kind] = self._tasks.spawn(reader, f"preview-{kind}")

    async def _close(self, kind: DeviceKind) -> None:
        track = self._tracks.pop(kind, None)
        reader = self._readers.pop(kind, None)
        if track is not None:
            track.stop()  # the camera's capture thread has ended and released it on return
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if track is not None or self._states[kind] is not PreviewState.OFF:
            self._set_state(kind, PreviewState.OFF)
        if kind is DeviceKind.MICROPHONE and track is not None:
            self._meter.remove("microphone")
            self._on_level(SILENCE_DBFS)

    async def _read_camera(self, track: MediaStreamTrack) -> None:
        next_at = 0.0
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(track, CameraTrack) and track.using_fallback:
                # The test pattern would pretend the camera works: the state says why
                # instead. Only a silent camera may still come back.
                if self._states[DeviceKind.CAMERA] is PreviewState.SILENT:
                    continue
                return
            now = time.perf_counter()
            if now < next_at:
                continue
            next_at = max(next_at + self._frame_interval, now + self._frame_interval * 0.5)
            if self._states[DeviceKind.CAMERA] is not PreviewState.LIVE:
                self._set_state(DeviceKind.CAMERA, PreviewState.LIVE)
            array: npt.NDArray[np.uint8] = frame.to_ndarray(format="rgb24")  # type: ignore[union-attr]
            self.frames_delivered += 1
            self._on_frame(array)

    async def _read_microphone(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if self._microphone is not None and self._microphone.using_fallback:
                return  # it sends silence from now on: the state says why
            if self._states[DeviceKind.MICROPHONE] is not PreviewState.LIVE:
                self._set_state(DeviceKind.MICROPHONE, PreviewState.LIVE)
            samples = frame.to_ndarray()  # type: ignore[union-attr]
            self._meter.feed("microphone", samples)
            if self._recording is not None:
                self._recording.append(samples.reshape(-1).astype(np.int16))
                self._recording_rate = frame.sample_rate  # type: ignore[union-attr]

    def _on_camera_error(self, kind: DeviceExceptionType) -> None:
        self._set_state(DeviceKind.CAMERA, preview_problem(kind))

    def _on_microphone_error(self, kind: DeviceExceptionType) -> None:
        self._set_state(DeviceKind.MICROPHONE, preview_problem(kind))
        self._on_level(SILENCE_DBFS)

    def _set_state(self, kind: DeviceKind, state: PreviewState) -> None:
        if self._states.get(kind) is state:
            return
        self._states[kind] = state
        if self._on_state is not None:
            try:
                self._on_state(kind, state)
            except Exception:
                log.exception("preview state callback failed")


def speaker_output(options: MediaOptions) -> OutputDevice:
    """Where a test sound for ``options`` plays (nowhere for synthetic media)."""
    return NULL_OUTPUT if options.synthetic else options.speaker
