"""Echo removal: how much of what Parley plays comes back through the microphone.

A simulated echo path (no sound card needed): the far end — speech, espeak-ng's six
Harvard sentences, or a vowel-like signal where espeak-ng is missing — is "played" into
:meth:`media.voice_processing.VoiceProcessor.render` 20 ms at a time, and the microphone
hears it through a room: a delay the processor is not told about, half the level, and a
reflection 10 ms later at a fifth; with ``--talk`` the near-end user speaks over it.
ERLE (echo return loss enhancement) is the echo's energy before over after the
processor, over the part after the first ``--settle`` seconds (AEC3 adapts in about a
second). The floor, measured in the same run, is the processor switched off (0 dB).
CPU is the processor's time per 10 ms of microphone audio (render plus capture).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _common import emit, machine

from media.voice_processing import CHUNK, RATE, VoiceProcessor

GOAL_ERLE_DB = 30.0
FRAME = 2 * CHUNK
Int16Array = npt.NDArray[np.int16]


def speech(seconds: float) -> tuple[Int16Array, str]:
    if shutil.which("espeak-ng") is None:
        t = np.arange(int(seconds * RATE)) / RATE
        phase = 2 * np.pi * np.cumsum(140 + 15 * np.sin(2 * np.pi * 0.5 * t)) / RATE
        wave_ = sum(np.sin(k * phase) / k for k in range(1, 15))
        envelope = np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
        return (5000 * envelope * wave_).astype(np.int16), "synthetic vowels"
    import av

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.wav"
        text = (
            "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue "
            "background. It is easy to tell the depth of a well."
        )
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
        with wave.open(str(path)) as w:
            rate = w.getframerate()
            raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    frame = av.AudioFrame.from_ndarray(raw.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    out = np.concatenate([f.to_ndarray().reshape(-1) for f in resampler.resample(frame)])
    repeats = int(np.ceil(seconds * RATE / len(out)))
    return np.tile(out, repeats)[: int(seconds * RATE)].astype(np.int16), "espeak-ng speech"


def room(far: Int16Array, delay_s: float) -> Int16Array:
    delay = int(delay_s * RATE)
    echo = np.zeros(len(far))
    echo[delay:] += 0.5 * far[: len(far) - delay]
    echo[delay + 480 :] += 0.2 * far[: len(far) - delay - 480]
    return np.clip(echo, -32768, 32767).astype(np.int16)


def energy(samples: npt.NDArray[Any]) -> float:
    return float(np.mean(samples.astype(np.float64) ** 2)) + 1e-9


def measure(
    enabled: bool, far: Int16Array, near: Int16Array, args: argparse.Namespace
) -> dict[str, float]:
    processor = VoiceProcessor(enabled=enabled)
    echo = room(far, args.delay)
    mic = np.clip(echo.astype(np.int32) + near, -32768, 32767).astype(np.int16)
    processor.capture(np.zeros(FRAME, dtype=np.int16))  # the microphone is open first
    out = []
    started = time.process_time()
    for i in range(0, len(far) - FRAME + 1, FRAME):
        processor.render(far[i : i + FRAME])
        out.append(processor.capture(mic[i : i + FRAME]))
    cpu = time.process_time() - started
    processed = np.concatenate(out)
    settled = slice(int(args.settle * RATE), len(processed))
    result = {"cpu_ms_per_10ms": round(cpu / (len(processed) / CHUNK) * 1000, 3)}
    if args.talk:
        # Double talk: the residual is what is left beyond the user's own voice.
        kept = 10 * np.log10(energy(processed[settled]) / energy(near[settled]))
        result["near_end_kept_db"] = round(float(kept), 1)
    else:
        erle = 10 * np.log10(energy(echo[settled]) / energy(processed[settled]))
        result["erle_db"] = round(float(erle), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--delay", type=float, default=0.15, help="echo path delay, s")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds not counted")
    parser.add_argument("--talk", action="store_true", help="the user speaks over the echo")
    args = parser.parse_args()
    far, source = speech(args.seconds)
    near = np.zeros(len(far), dtype=np.int16)
    if args.talk:
        near = (np.roll(far, len(far) // 3) // 2).astype(np.int16)
    parley = measure(True, far, near, args)
    floor = measure(False, far, near, args)
    emit(
        {
            "benchmark": "echo",
            "unit": "dB of echo removed (ERLE) after the first seconds; CPU ms per 10 ms",
            "far_end": source,
            "goal_erle_db": GOAL_ERLE_DB,
            "parley": parley,
            "floor_processing_off": floor,
            "goal_met": args.talk or parley.get("erle_db", 0.0) >= GOAL_ERLE_DB,
            "config": {"seconds": args.seconds, "delay_s": args.delay, "talk": args.talk},
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
