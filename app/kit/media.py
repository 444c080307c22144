"""The local side of a call's media: microphone and camera slots, playback and levels.

The peer connections always send the same two :class:`~media.slot.TrackSlot` tracks;
turning a device on or off, or switching to another one, only changes what feeds the
slot, so nothing is renegotiated. Real devices fall back to synthetic sources inside
``media``; ``synthetic=True`` uses synthetic sources from the start (bots, tests, and a
machine without devices).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamTrack

from media.camera import CameraTrack, VideoPreset
from media.devices import list_speakers
from media.errors import AudioRoute, DeviceExceptionType
from media.levels import LevelMeter
from media.microphone import MicrophoneTrack
from media.playback import AudioPlayback, NullOutput
from media.silence import SilenceSuppression, set_track_suppression
from media.slot import TrackSlot
from media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from media.voice_processing import ProcessedMicrophone, VoiceProcessor

log = logging.getLogger("parley.media")

#: A local device a call or room sends from (the wire's ``DeviceKind``).
MediaDevice = Literal["microphone", "camera"]
OnDeviceException = Callable[[MediaDevice, DeviceExceptionType], None]
OnLevel = Callable[[str, float, bool], None]


@dataclass(frozen=True)
class MediaOptions:
    """Which devices to use; ``synthetic`` replaces all of them with generated media."""

    synthetic: bool = False
    camera_index: int = 0
    microphone: int | str | None = None
    speaker: int | str | None = None
    video_preset: VideoPreset = VideoPreset.P480
    tone_hz: float | None = None  # synthetic microphone: a tone instead of silence
    # Stop sending microphone packets while it is silent (media.silence); off sends
    # every 20 ms frame to every peer.
    suppress_silence: bool = True
    # Echo cancellation, noise suppression and automatic gain on a real microphone
    # (media.voice_processing), the far end taken from what this media plays. Synthetic
    # microphones are never processed: their tones are what tests listen for.
    voice_processing: bool = True


class MediaFactory(Protocol):
    """Builds the local media of a call or room (:class:`LocalMedia` or a subclass; the
    device settings build one with the user's chosen devices)."""

    def __call__(
        self,
        label: str,
        options: MediaOptions | None = None,
        *,
        on_device_exception: OnDeviceException | None = None,
        on_level: OnLevel | None = None,
    ) -> LocalMedia: ...


class LocalMedia:
    """Devices, outgoing slots and playback of one local user in one call."""

    def __init__(
        self,
        label: str,
        options: MediaOptions | None = None,
        *,
        on_device_exception: OnDeviceException | None = None,
        on_level: OnLevel | None = None,
    ) -> None:
        self.label = label
        self.options = options or MediaOptions()
        self._on_device_exception = on_device_exception
        self._on_level = on_level
        res = self.options.video_preset.resolution
        self.audio = TrackSlot("audio")
        set_track_suppression(self.audio, SilenceSuppression(enabled=self.options.suppress_silence))
        self.video = TrackSlot("video", width=res.width, height=res.height, fps=res.fps)
        speaker = NullOutput.NULL if self.options.synthetic else self.options.speaker
        self.playback = AudioPlayback(speaker, on_device_error=self._on_output_error)
        # Throttled to ~10 Hz per remote user by the meter itself.
        self.levels = LevelMeter(self._level)
        self.playback.add_source_listener(lambda key, block: self._feed(key, block))
        self.voice = VoiceProcessor(enabled=self.options.voice_processing)
        # The echo canceller's far end: the mixed audio as the output plays it.
        self.playback.add_tap(lambda block, _played_at: self.voice.render(block))
        self._started = False
        self._closed = False

    @property
    def microphone_on(self) -> bool:
        return self.audio.source is not None

    @property
    def camera_on(self) -> bool:
        return self.video.source is not None

    async def start(self) -> None:
        """Start playback (the slots start with their devices off)."""
        if not self._started:
            self._started = True
            await self.playback.start()

    def set_microphone(self, on: bool) -> None:
        """Open or release the microphone."""
        if on == self.microphone_on:
            return
        self.audio.replace(self._open_microphone() if on else None)

    def set_camera(self, on: bool) -> None:
        """Open or release the camera (the light goes off when released)."""
        if on == self.camera_on:
            return
        self.video.replace(self._open_camera() if on else None)

    def switch_camera(self, index: int) -> None:
        """Use another camera from now on, without renegotiating."""
        self.options = replace(self.options, camera_index=index)
        if self.camera_on:
            self.video.replace(self._open_camera())

    def _open_microphone(self) -> MediaStreamTrack:
        if self.options.synthetic:
            if self.options.tone_hz:
                return SyntheticAudioTrack("tone", self.options.tone_hz)
            return SyntheticAudioTrack("silence")
        track = MicrophoneTrack(
            self.options.microphone,
            on_error=lambda kind: self.report_device_failure("microphone", kind),
        )
        track.start()
        return ProcessedMicrophone(track, self.voice)

    def _open_camera(self) -> MediaStreamTrack:
        res = self.options.video_preset.resolution
        if self.options.synthetic:
            return SyntheticVideoTrack(self.label, res.width, res.height, res.fps)
        track = CameraTrack(
            self.options.camera_index,
            self.options.video_preset,
            label=self.label,
            on_error=lambda kind: self.report_device_failure("camera", kind),
        )
        track.start()
        return track

    def report_device_failure(self, device: MediaDevice, kind: DeviceExceptionType) -> None:
        log.warning("%s failed: %s", device, kind.value)
        if self._on_device_exception is not None:
            self._on_device_exception(device, kind)

    def _on_output_error(self, kind: DeviceExceptionType) -> None:
        log.warning("audio output failed: %s", kind.value)

    def _feed(self, key: str, block: npt.NDArray[np.int16]) -> None:
        self.levels.feed(key, block)

    def _level(self, key: str, dbfs: float, speaking: bool) -> None:
        if self._on_level is not None:
            self._on_level(key, dbfs, speaking)

    async def set_output(self, device: int | str | None) -> AudioRoute:
        """Play to another device without dropping audio; returns where sound now goes."""
        if self.options.synthetic:
            return AudioRoute.SPEAKER
        await self.playback.set_output_device(device)
        for info in list_speakers():
            if device in (info.index, info.name) or (device is None and info.is_default):
                return info.route or AudioRoute.SPEAKER
        return AudioRoute.SPEAKER

    def play(self, user_id: str, track: MediaStreamTrack) -> None:
        """Mix a remote user's audio into the output."""
        self.playback.add_track(user_id, track)

    def show(self, user_id: str, track: MediaStreamTrack) -> None:
        """A remote user's video arrived; the pages read it from the session's members."""

    async def stop_playing(self, user_id: str) -> None:
        await self.playback.remove_track(user_id)
        self.levels.remove(user_id)

    async def close(self) -> None:
        """Release every device and stop playback; idempotent."""
        if self._closed:
            return
        self._closed = True
        self.audio.stop()
        self.video.stop()
        await self.playback.close()
        # Let the slots' readers see the end before the loop moves on.
        await asyncio.sleep(0)
