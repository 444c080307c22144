"""Synthesize Parley's call sounds into ``resources/sounds/`` (16-bit mono WAV).

The sounds are original: built here from sine partials and envelopes, so they can ship
under the project licence. Run ``python scripts/make_sounds.py`` after changing them.

- ``ringtone.wav`` (2 s, loops): an incoming call — two bright two-note chimes.
- ``ringback.wav`` (4 s, loops): the caller's "it is ringing" — 1 s of tone, 3 s quiet.
- ``call_end.wav`` (0.5 s): a falling two-note cue when a call ends.
"""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 16_000
OUT = Path(__file__).resolve().parents[1] / "resources" / "sounds"
Samples = npt.NDArray[np.float64]


def timeline(seconds: float) -> Samples:
    """Sample times of ``seconds`` of sound."""
    return np.arange(round(seconds * RATE)) / RATE


def tone(freq: float, seconds: float, partials: tuple[float, ...] = (1.0, 0.35, 0.12)) -> Samples:
    """A bell-ish tone: a fundamental and a few decaying harmonics."""
    t = timeline(seconds)
    out = np.zeros_like(t)
    for index, weight in enumerate(partials, start=1):
        out += weight * np.sin(2 * np.pi * freq * index * t) * np.exp(-t * 2.5 * index)
    return out / sum(partials)


def envelope(samples: Samples, attack: float = 0.008, release: float = 0.06) -> Samples:
    """Soft start and end, so loops and cuts never click."""
    n = len(samples)
    env = np.ones(n)
    a, r = min(n, round(attack * RATE)), min(n, round(release * RATE))
    env[:a] = np.linspace(0.0, 1.0, a)
    env[n - r :] *= np.linspace(1.0, 0.0, r)
    return samples * env


def place(track: Samples, sound: Samples, at: float) -> None:
    """Mix ``sound`` into ``track`` starting at ``at`` seconds."""
    start = round(at * RATE)
    end = min(len(track), start + len(sound))
    track[start:end] += sound[: end - start]


def ringtone() -> Samples:
    """Two rising chimes (E6→A6, then B5→E6), then quiet: 2 s, loopable."""
    track = np.zeros(len(timeline(2.0)))
    for at, (low, high) in ((0.0, (1318.5, 1760.0)), (0.5, (987.8, 1318.5))):
        place(track, envelope(tone(low, 0.22)), at)
        place(track, envelope(tone(high, 0.32)), at + 0.16)
    return track


def ringback() -> Samples:
    """A soft dual tone (440 + 480 Hz, the classic pair) for 1 s, then 3 s of silence."""
    track = np.zeros(len(timeline(4.0)))
    t = timeline(1.0)
    beat = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 480 * t)
    place(track, envelope(beat, attack=0.03, release=0.08), 0.0)
    return track


def call_end() -> Samples:
    """Two falling notes (G5 → C5): 0.5 s."""
    track = np.zeros(len(timeline(0.5)))
    place(track, envelope(tone(784.0, 0.2)), 0.0)
    place(track, envelope(tone(523.3, 0.28), release=0.1), 0.2)
    return track


def write_wav(path: Path, samples: Samples, peak: float = 0.6) -> None:
    """Normalise to ``peak`` of full scale and write 16-bit mono PCM."""
    top = float(np.max(np.abs(samples))) or 1.0
    pcm = np.round(samples / top * peak * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


def main() -> int:
    """Write the three sounds and print their sizes."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, samples in (
        ("ringtone.wav", ringtone()),
        ("ringback.wav", ringback()),
        ("call_end.wav", call_end()),
    ):
        path = OUT / name
        write_wav(path, samples)
        print(f"{path.relative_to(OUT.parents[1])}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
