"""Echo cancellation, noise suppression and automatic gain on the microphone path.

WebRTC's audio processing module (AEC3, noise suppression, AGC, high-pass filter) as the
``livekit`` wheel ships it (``rtc.AudioProcessingModule``; wheels for Linux, macOS and
Windows). Its far end — what the echo canceller removes — is what Parley really plays:
:class:`~media.playback.AudioPlayback` taps its mixed output into :meth:`VoiceProcessor.render`.
The near end is the microphone, through :class:`ProcessedMicrophone`. AEC3 finds the
delay between the two itself (measured unaffected by 150 ms it was not told about).

The module works on 10 ms frames of 48 kHz mono int16; anything else is cut into them
here, a remainder kept for the next call. It is called from two threads (the output's
PortAudio callback and the microphone's reader), so one lock guards it. Turned off, it is
bypassed and costs nothing; turned on again it starts from its old state, which AEC3
re-adapts within a second.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamTrack
from av.audio.frame import AudioFrame

from media.relay import MediaItem, PassThroughTrack

RATE = 48_000
CHUNK = RATE // 100
"""The module's frame: 10 ms."""

Int16Array = npt.NDArray[np.int16]


class VoiceProcessor:
    """One microphone's audio processing, with the far end it cancels."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        echo_cancellation: bool = True,
        noise_suppression: bool = True,
        auto_gain_control: bool = True,
    ) -> None:
        self.enabled = enabled
        """Switchable while it runs (device settings); off, audio passes untouched."""
        self._features = {
            "echo_cancellation": echo_cancellation,
            "noise_suppression": noise_suppression,
            "auto_gain_control": auto_gain_control,
            "high_pass_filter": True,
        }
        self._apm: Any = None
        self._lock = threading.Lock()
        self._near_rest = np.zeros(0, dtype=np.int16)
        self._far_rest = np.zeros(0, dtype=np.int16)
        self.frames_processed = 0
        """10 ms microphone frames that went through the module."""

    def render(self, samples: Int16Array) -> None:
        """Note audio as it is played (mono int16, 48 kHz), for the echo canceller."""
        # Until the microphone is processed there is nothing to cancel from (and no
        # reason to load the module: a synthetic microphone never is).
        if not self.enabled or self._apm is None:
            return
        with self._lock:
            apm = self._apm
            self._far_rest, chunks = _chunks(self._far_rest, samples)
            for chunk in chunks:
                apm.process_reverse_stream(_frame(chunk))

    def capture(self, samples: Int16Array) -> Int16Array:
        """The microphone's samples (mono int16, 48 kHz) with echo and noise removed.

        Returns as many samples as were given; the first call after switching on is
        up to 10 ms late by the remainder it keeps.
        """
        if not self.enabled:
            return samples
        with self._lock:
            apm = self._module()
            rest, chunks = _chunks(self._near_rest, samples)
            out = []
            for chunk in chunks:
                frame = _frame(chunk)
                apm.process_stream(frame)
                out.append(np.frombuffer(frame.data, dtype=np.int16))
                self.frames_processed += 1
            self._near_rest = rest
        processed = np.concatenate(out) if out else np.zeros(0, dtype=np.int16)
        # Keep the length: what the module has not had yet waits as silence's place.
        if len(processed) < len(samples):
            processed = np.concatenate(
                (np.zeros(len(samples) - len(processed), dtype=np.int16), processed)
            )
        return processed[-len(samples) :] if len(samples) else processed

    def _module(self) -> Any:
        if self._apm is None:
            from livekit import rtc  # loads its native library: only when first used

            self._apm = rtc.AudioProcessingModule(**self._features)
        return self._apm


class ProcessedMicrophone(PassThroughTrack):
    """A microphone track whose frames go through a :class:`VoiceProcessor`."""

    def __init__(self, source: MediaStreamTrack, processor: VoiceProcessor) -> None:
        super().__init__(source)
        self.processor = processor

    def _pass(self, frame: MediaItem) -> MediaItem:
        if (
            not self.processor.enabled
            or not isinstance(frame, AudioFrame)
            or (frame.format.name, frame.layout.name, frame.sample_rate) != ("s16", "mono", RATE)
        ):
            # Parley's microphones give 48 kHz mono int16 (media.microphone); anything
            # else passes as it is.
            return frame
        samples = frame.to_ndarray().reshape(-1).astype(np.int16, copy=False)
        out = AudioFrame.from_ndarray(
            self.processor.capture(samples).reshape(1, -1), format="s16", layout="mono"
        )
        out.sample_rate = RATE
        out.pts = frame.pts
        out.time_base = frame.time_base
        return out


def _chunks(rest: Int16Array, samples: Int16Array) -> tuple[Int16Array, list[Int16Array]]:
    data = np.concatenate((rest, samples.astype(np.int16, copy=False)))
    whole = len(data) // CHUNK * CHUNK
    return data[whole:], [data[i : i + CHUNK] for i in range(0, whole, CHUNK)]


def _frame(chunk: Int16Array) -> Any:
    from livekit import rtc

    return rtc.AudioFrame(chunk.tobytes(), RATE, 1, CHUNK)
