"""Audio levels: dBFS of known signals, throttling, and the speaking flag with hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.levels import SILENCE_DBFS, LevelMeter, audio_level_dbfs

RATE = 48_000


def sine(amplitude: float, n: int = 960, freq: float = 1000.0) -> np.ndarray:
    t = np.arange(n) / RATE
    return amplitude * 32767 * np.sin(2 * np.pi * freq * t)


@pytest.mark.parametrize("amplitude", [1.0, 0.5, 0.1, 0.01, 0.001])
def test_sine_level_matches_theory(amplitude: float) -> None:
    expected = 20 * math.log10(amplitude * 32767 / math.sqrt(2) / 32768)
    samples = np.rint(sine(amplitude)).astype(np.int16)
    assert audio_level_dbfs(samples) == pytest.approx(expected, abs=0.5)


def test_silence_and_empty_are_the_floor() -> None:
    assert audio_level_dbfs(np.zeros(960, dtype=np.int16)) == SILENCE_DBFS
    assert audio_level_dbfs(np.zeros(0, dtype=np.int16)) == SILENCE_DBFS
    assert audio_level_dbfs(np.ones(960, dtype=np.int16)) > SILENCE_DBFS


def test_full_scale_square_is_zero_dbfs() -> None:
    square = np.full(960, -32768, dtype=np.int16)
    assert audio_level_dbfs(square) == pytest.approx(0.0, abs=0.01)


@given(st.floats(min_value=0.01, max_value=0.45))
def test_doubling_amplitude_adds_six_db(amplitude: float) -> None:
    quiet = audio_level_dbfs(sine(amplitude))
    loud = audio_level_dbfs(sine(2 * amplitude))
    assert loud - quiet == pytest.approx(20 * math.log10(2), abs=0.01)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, bool]] = []

    def __call__(self, key: str, dbfs: float, speaking: bool) -> None:
        self.calls.append((key, dbfs, speaking))


def test_meter_reports_at_most_ten_hz_per_stream() -> None:
    recorder = Recorder()
    meter = LevelMeter(recorder, rate_hz=10.0)
    loud = sine(0.5)
    for i in range(100):  # two seconds of 20 ms blocks for two streams
        meter.feed("alice", loud, now=i * 0.02)
        meter.feed("bob", loud, now=i * 0.02)
    alice = [c for c in recorder.calls if c[0] == "alice"]
    bob = [c for c in recorder.calls if c[0] == "bob"]
    assert 19 <= len(alice) <= 21
    assert len(bob) == len(alice)
    assert all(c[1] == pytest.approx(-9.03, abs=0.5) for c in alice)


def test_meter_reports_the_loudest_block_since_last_report() -> None:
    recorder = Recorder()
    meter = LevelMeter(recorder, rate_hz=10.0)
    meter.feed("a", sine(0.01), now=0.0)  # first report
    meter.feed("a", sine(0.5), now=0.02)  # a short peak between reports
    meter.feed("a", sine(0.01), now=0.04)
    meter.feed("a", sine(0.01), now=0.10)  # second report
    assert len(recorder.calls) == 2
    assert recorder.calls[1][1] == pytest.approx(-9.03, abs=0.5)


def test_speaking_flag_holds_through_short_pauses_then_drops() -> None:
    recorder = Recorder()
    meter = LevelMeter(recorder, threshold_dbfs=-45.0, hold_s=0.3)
    quiet = np.zeros(960, dtype=np.int16)
    meter.feed("a", quiet, now=0.0)
    assert not meter.is_speaking("a")
    meter.feed("a", sine(0.1), now=0.02)
    assert meter.is_speaking("a")
    meter.feed("a", quiet, now=0.30)  # 280 ms of pause: still speaking
    assert meter.is_speaking("a")
    meter.feed("a", quiet, now=0.33)  # 310 ms: the hold has run out
    assert not meter.is_speaking("a")
    assert not meter.is_speaking("nobody")


def test_quiet_signal_below_threshold_is_not_speaking() -> None:
    meter = LevelMeter(Recorder(), threshold_dbfs=-45.0)
    meter.feed("a", sine(0.003), now=0.0)  # about -53 dBFS
    assert not meter.is_speaking("a")


def test_reported_flag_follows_the_hold() -> None:
    recorder = Recorder()
    meter = LevelMeter(recorder, rate_hz=10.0, hold_s=0.3)
    for i in range(10):
        meter.feed("a", sine(0.2), now=i * 0.02)
    for i in range(10, 60):
        meter.feed("a", np.zeros(960), now=i * 0.02)
    flags = [(round(c[1]), c[2]) for c in recorder.calls]
    assert flags[0][1] is True
    assert flags[-1] == (-100, False)
    # The flag drops once, and not before the hold since the last loud block (0.18 s).
    first_false = next(i for i, f in enumerate(flags) if not f[1])
    assert all(not f[1] for f in flags[first_false:])
    assert first_false * 0.1 > 0.18 + 0.3 - 0.1


def test_meter_validates_arguments() -> None:
    with pytest.raises(ValueError, match="rate"):
        LevelMeter(Recorder(), rate_hz=0)
    with pytest.raises(ValueError, match="hold"):
        LevelMeter(Recorder(), hold_s=-1)
