"""Echo cancellation on a simulated echo path: what the speaker plays, heard again by the
microphone through a room (a delay and a decaying reflection), with or without the user
speaking over it."""

from __future__ import annotations

import asyncio

import numpy as np
import numpy.typing as npt
import pytest
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from media.synthetic import SyntheticAudioTrack
from media.voice_processing import CHUNK, RATE, ProcessedMicrophone, VoiceProcessor

Int16Array = npt.NDArray[np.int16]
FRAME = 2 * CHUNK  # the microphone's 20 ms


def speechlike(seconds: float, seed: int, pitch: float = 140.0) -> Int16Array:
    """Voiced bursts with pauses: harmonics of a gliding pitch under a syllable envelope."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    f0 = pitch * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    wave = sum(np.sin(k * phase) / k for k in range(1, 15))
    syllables = np.clip(np.sin(2 * np.pi * 3.0 * t + rng.uniform(0, 6)), 0, None)
    return (5000 * syllables * wave).astype(np.int16)


def room(far: Int16Array, delay_s: float = 0.15) -> Int16Array:
    """The far end as a microphone hears it: delayed, quieter, with a reflection."""
    delay = int(delay_s * RATE)
    echo = np.zeros(len(far), dtype=np.float64)
    echo[delay:] += 0.5 * far[: len(far) - delay]
    echo[delay + 480 :] += 0.2 * far[: len(far) - delay - 480]
    return np.clip(echo, -32768, 32767).astype(np.int16)


def run(processor: VoiceProcessor, far: Int16Array, near: Int16Array) -> Int16Array:
    """Play ``far`` and capture ``room(far) + near``, 20 ms at a time as Parley does."""
    mic = np.clip(room(far).astype(np.int32) + near, -32768, 32767).astype(np.int16)
    out = []
    for i in range(0, len(far) - FRAME + 1, FRAME):
        processor.render(far[i : i + FRAME])
        out.append(processor.capture(mic[i : i + FRAME]))
    return np.concatenate(out)


def energy_db(samples: npt.NDArray[np.generic]) -> float:
    data = samples.astype(np.float64)
    return float(10 * np.log10(np.mean(data**2) + 1e-9))


def test_the_echo_of_what_is_played_is_removed_by_30_db_and_more() -> None:
    processor = VoiceProcessor()
    processor.capture(np.zeros(FRAME, dtype=np.int16))  # the microphone starts first
    far = speechlike(8.0, seed=1)
    out = run(processor, far, np.zeros(len(far), dtype=np.int16))
    settled = slice(3 * RATE, len(out))  # AEC3 adapts within the first seconds
    erle = energy_db(room(far)[settled]) - energy_db(out[settled])
    assert erle >= 30, erle


def test_the_user_speaking_over_the_echo_still_comes_through() -> None:
    processor = VoiceProcessor(noise_suppression=False, auto_gain_control=False)
    processor.capture(np.zeros(FRAME, dtype=np.int16))
    far = speechlike(8.0, seed=2)
    near = (speechlike(8.0, seed=3, pitch=220.0) // 2).astype(np.int16)
    out = run(processor, far, near)
    settled = slice(3 * RATE, len(out))
    # Most of the user's own voice is kept (double talk), the echo mostly not.
    kept = energy_db(out[settled]) - energy_db(near[settled])
    assert kept > -6, kept


def test_switched_off_it_passes_the_microphone_untouched_and_loads_nothing() -> None:
    processor = VoiceProcessor(enabled=False)
    samples = speechlike(0.1, seed=4)[:FRAME]
    processor.render(samples)
    assert processor.capture(samples) is samples
    assert processor.frames_processed == 0


def test_any_block_size_comes_back_the_same_size() -> None:
    processor = VoiceProcessor()
    for size in (FRAME, 300, 1000, 7, 0):
        block = np.ones(size, dtype=np.int16)
        assert len(processor.capture(block)) == size


async def test_a_processed_microphone_keeps_its_frames_timing() -> None:
    source = SyntheticAudioTrack("tone")
    track = ProcessedMicrophone(source, VoiceProcessor(noise_suppression=False))
    try:
        frames = [await track.recv() for _ in range(5)]
    finally:
        track.stop()
    assert source.readyState == "ended"
    for n, frame in enumerate(frames):
        assert isinstance(frame, AudioFrame)
        assert frame.samples == FRAME
        assert frame.pts == n * FRAME
    assert track.processor.frames_processed == 10
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(track.recv(), 1)
