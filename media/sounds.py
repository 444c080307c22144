"""Short UI sounds (ringtone, ring-back, call end) played from WAV files, no Qt.

PySide6-Essentials has no QtMultimedia, so the sounds go through the same
:class:`~media.playback.AudioPlayback` as a call's audio: a WAV file becomes a paced
audio track that the playback mixes into the speaker. With no output device (a headless
machine, CI) or when disabled, every method simply does nothing.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import wave
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from media.clock import FramePacer
from media.playback import AudioPlayback, OutputDevice, _has_output_device
from media.portaudio import load_sounddevice

log = logging.getLogger(__name__)

FRAME_S = 0.02  # 20 ms frames, like every other audio source here


def load_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """Mono 16-bit samples and the sample rate of a PCM WAV file (stereo is downmixed)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV files are supported")
        channels, rate = wav.getnchannels(), wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples, rate


class WavTrack(MediaStreamTrack):
    """A WAV file as a real-time audio track, looped or played once."""

    kind = "audio"

    def __init__(self, samples: npt.NDArray[np.int16], rate: int, *, loop: bool) -> None:
        super().__init__()
        if samples.size == 0:
            raise ValueError("a sound needs at least one sample")
        self._samples = samples
        self._rate = rate
        self._looping = loop
        self._block = max(1, round(rate * FRAME_S))
        self._position = 0
        self._pts = 0
        self._pacer = FramePacer(FRAME_S)

    async def recv(self) -> AudioFrame:
        """The next 20 ms of the sound, at its own pace."""
        if self.readyState != "live":
            raise MediaStreamError
        if not self._looping and self._position >= self._samples.size:
            self.stop()
            raise MediaStreamError
        await self._pacer.wait_next()
        block = np.zeros(self._block, dtype=np.int16)
        filled = 0
        while filled < self._block:
            if self._position >= self._samples.size:
                if not self._looping:
                    break
                self._position = 0
            chunk = self._samples[self._position : self._position + self._block - filled]
            block[filled : filled + chunk.size] = chunk
            filled += chunk.size
            self._position += chunk.size
        frame = AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._rate
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, self._rate)
        self._pts += self._block
        return frame


class SoundPlayer:
    """Plays one sound at a time (``play``/``stop``); a no-op without an output device."""

    def __init__(
        self, sounds_dir: Path, *, device: OutputDevice = None, enabled: bool = True
    ) -> None:
        self._dir = sounds_dir
        self._device = device
        self._enabled = enabled
        self._cache: dict[str, tuple[npt.NDArray[np.int16], int]] = {}
        self._playback: AudioPlayback | None = None
        self._track: WavTrack | None = None
        self.playing: str | None = None
        """The name of the sound playing now (tests and the presenter read it)."""

    def _available(self) -> bool:
        if not self._enabled:
            return False
        sd: Any = load_sounddevice()
        return sd is not None and _has_output_device(sd)

    async def play(self, name: str, *, loop: bool = True) -> None:
        """Play ``resources/sounds/<name>.wav`` (replacing any sound playing)."""
        await self.stop()
        self.playing = name
        if self._playback is None and not self._available():
            self._enabled = False  # asked once: no device now means none for this run
            return
        try:
            if name not in self._cache:
                self._cache[name] = load_wav(self._dir / f"{name}.wav")
            samples, rate = self._cache[name]
            if self._playback is None:
                self._playback = AudioPlayback(self._device)
                await self._playback.start()
            self._track = WavTrack(samples, rate, loop=loop)
            self._playback.add_track("sound", self._track)
        except (OSError, ValueError, RuntimeError) as exc:
            # A missing file or a device that refuses must never disturb a call.
            log.warning("cannot play sound %s: %s", name, exc)

    async def stop(self) -> None:
        """Stop the sound playing, if any."""
        self.playing = None
        track, self._track = self._track, None
        if track is not None:
            track.stop()
            if self._playback is not None:
                await self._playback.remove_track("sound")

    async def close(self) -> None:
        """Stop and release the output; idempotent."""
        await self.stop()
        playback, self._playback = self._playback, None
        if playback is not None:
            await playback.close()
        await asyncio.sleep(0)
