"""Sender-side silence suppression (media/silence.py) and the fan-out that applies it.

The fan-out is driven frame by frame (``_convert`` is what its reading task calls for
each source frame), so these tests need neither a clock nor a network: they check which
frames become packets, that timestamps run on across a gap, and that the first loud
frame after a long silence is sent and decodes to the sound that was put in.
"""

from __future__ import annotations

import asyncio
import fractions
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from aiortc.codecs.opus import OpusDecoder
from aiortc.jitterbuffer import JitterFrame
from av import AudioFrame
from av.packet import Packet

from media.levels import SILENCE_DBFS, LevelMeter
from media.relay import OPUS_FRAME_SAMPLES, OpusFanout
from media.silence import (
    SUPPRESSION_OFF,
    SilenceGate,
    SilenceSuppression,
    frame_level_dbfs,
    set_track_suppression,
    track_suppression,
)
from media.synthetic import SyntheticAudioTrack, _click_waveform

RATE = 48_000
FRAME_S = 0.02
HANGOVER_FRAMES = 20  # 0.4 s
KEEPALIVE_FRAMES = 20  # 0.4 s


def frame(samples: npt.NDArray[np.int16], index: int) -> AudioFrame:
    out = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    out.sample_rate = RATE
    out.pts = index * OPUS_FRAME_SAMPLES
    out.time_base = fractions.Fraction(1, RATE)
    return out


def silence() -> npt.NDArray[np.int16]:
    return np.zeros(OPUS_FRAME_SAMPLES, dtype=np.int16)


def click() -> npt.NDArray[np.int16]:
    samples = np.zeros(OPUS_FRAME_SAMPLES)
    wave = _click_waveform()
    samples[: len(wave)] = wave
    return np.rint(samples).astype(np.int16)


def packets_of(fanout: OpusFanout, samples: npt.NDArray[np.int16], index: int) -> list[Packet[Any]]:
    items = fanout._convert(frame(samples, index))
    assert all(isinstance(item, Packet) for item in items)
    return [item for item in items if isinstance(item, Packet)]


# --- the gate alone ------------------------------------------------------------------


def test_gate_sends_the_hangover_then_only_keepalives_and_resumes_at_once() -> None:
    gate = SilenceGate(SilenceSuppression(threshold_dbfs=-60.0, hangover_s=0.4, keepalive_s=0.4))
    sent = [gate.admit(SILENCE_DBFS, FRAME_S) for _ in range(200)]
    # A new stream sends one hangover (it primes the receivers), then 1 frame in 20.
    assert sent[:HANGOVER_FRAMES] == [True] * HANGOVER_FRAMES
    assert sent[HANGOVER_FRAMES] is False
    assert gate.suppressing
    keepalives = [i for i, s in enumerate(sent) if s and i >= HANGOVER_FRAMES]
    assert keepalives[0] == 2 * HANGOVER_FRAMES
    assert np.diff(keepalives).tolist() == [KEEPALIVE_FRAMES] * (len(keepalives) - 1)
    # The first frame above the threshold goes out, whatever came before.
    assert gate.admit(-59.0, FRAME_S) is True
    assert not bool(gate.suppressing)  # bool(): mypy narrowed the property above
    assert [gate.admit(SILENCE_DBFS, FRAME_S) for _ in range(HANGOVER_FRAMES)] == [True] * 20
    assert gate.admit(SILENCE_DBFS, FRAME_S) is False


def test_gate_threshold_is_inclusive_and_short_pauses_keep_the_stream() -> None:
    gate = SilenceGate(SilenceSuppression(threshold_dbfs=-60.0, hangover_s=0.4, keepalive_s=None))
    for _ in range(HANGOVER_FRAMES):
        gate.admit(-60.0, FRAME_S)  # exactly at the threshold counts as silence
    assert gate.admit(-60.0, FRAME_S) is False
    # Speech with pauses shorter than the hangover is never interrupted.
    pattern = ([-30.0] * 5 + [SILENCE_DBFS] * 15) * 10
    assert all(gate.admit(level, FRAME_S) for level in pattern)
    # The rest of the hangover, then no keep-alives when they are turned off.
    assert all(gate.admit(SILENCE_DBFS, FRAME_S) for _ in range(HANGOVER_FRAMES - 15))
    assert not any(gate.admit(SILENCE_DBFS, FRAME_S) for _ in range(200))


def test_gate_off_sends_everything_and_settings_are_checked() -> None:
    gate = SilenceGate(SUPPRESSION_OFF)
    assert all(gate.admit(SILENCE_DBFS, FRAME_S) for _ in range(100))
    assert gate.frames_sent == 100
    assert gate.frames_suppressed == 0
    with pytest.raises(ValueError, match="hangover"):
        SilenceSuppression(hangover_s=-1)
    with pytest.raises(ValueError, match="keepalive"):
        SilenceSuppression(keepalive_s=0)


def test_gate_counts_audio_time_whatever_the_frame_size() -> None:
    gate = SilenceGate(SilenceSuppression(hangover_s=0.4, keepalive_s=None))
    sent = [gate.admit(SILENCE_DBFS, 0.01) for _ in range(60)]  # 10 ms microphone blocks
    assert sent.index(False) == 40


def test_frame_level_reads_int_and_float_formats() -> None:
    assert frame_level_dbfs(frame(silence(), 0)) == SILENCE_DBFS
    loud = frame(np.full(OPUS_FRAME_SAMPLES, 16384, dtype=np.int16), 0)
    assert frame_level_dbfs(loud) == pytest.approx(-6.02, abs=0.05)
    floats = AudioFrame.from_ndarray(
        np.full((1, OPUS_FRAME_SAMPLES), 0.5, dtype=np.float32), format="flt", layout="mono"
    )
    assert frame_level_dbfs(floats) == pytest.approx(-6.02, abs=0.05)


def test_a_track_owner_can_choose_for_its_track() -> None:
    track = SyntheticAudioTrack()
    assert track_suppression(track) is None
    set_track_suppression(track, SUPPRESSION_OFF)
    assert track_suppression(track) == SUPPRESSION_OFF
    set_track_suppression(track, None)
    assert track_suppression(track) is None
    assert track_suppression(None) is None


# --- the fan-out ---------------------------------------------------------------------


def test_silent_source_stops_after_the_hangover_and_the_first_loud_frame_is_sent() -> None:
    fanout = OpusFanout(suppression=SilenceSuppression(keepalive_s=None))
    seen: list[tuple[int, float, bool]] = []
    fanout.on_packet = lambda pts, level, sent: seen.append((pts, level, sent))
    sent: list[Packet[Any]] = []
    for i in range(100):  # 2 s of silence
        sent += packets_of(fanout, silence(), i)
    # The hangover (and at most one frame the encoder held back) went out, then nothing.
    assert HANGOVER_FRAMES <= len(sent) <= HANGOVER_FRAMES + 1
    assert fanout.suppressing
    assert fanout.packets_suppressed == 100 - len(sent)
    # Sound: the very frame that carries it is sent, with a timestamp that kept running.
    resumed = packets_of(fanout, click(), 100)
    assert len(resumed) == 1
    assert resumed[0].pts == 100 * OPUS_FRAME_SAMPLES
    assert resumed[0].pts - (sent[-1].pts or 0) > 60 * OPUS_FRAME_SAMPLES  # a gap, not a warp
    # Every encoded packet was reported, 960 samples apart, sent or not.
    assert [pts for pts, _, _ in seen] == [i * OPUS_FRAME_SAMPLES for i in range(101)]
    assert seen[-1][2] is True
    assert seen[-1][1] > -20.0

    # The first packet after the gap decodes to the click: nothing of it was clipped.
    decoder = OpusDecoder()
    for packet in [*sent, resumed[0]]:
        decoded = decoder.decode(JitterFrame(bytes(packet), packet.pts or 0))
    last = decoded[-1]
    assert isinstance(last, AudioFrame)
    samples = last.to_ndarray().reshape(-1).astype(np.int32)
    assert np.abs(samples).max() > 0.6 * 32767


def test_fanout_without_suppression_sends_every_frame() -> None:
    fanout = OpusFanout(suppression=SUPPRESSION_OFF)
    sent = [p for i in range(100) for p in packets_of(fanout, silence(), i)]
    assert len(sent) >= 99
    assert fanout.packets_suppressed == 0
    assert not fanout.suppressing


def test_the_source_owner_overrides_the_fanout() -> None:
    quiet_music = SyntheticAudioTrack()
    set_track_suppression(quiet_music, SUPPRESSION_OFF)
    fanout = OpusFanout(quiet_music)  # suppression on by default
    sent = [p for i in range(60) for p in packets_of(fanout, silence(), i)]
    assert len(sent) >= 59
    plain = SyntheticAudioTrack()
    fanout.switch(plain)
    sent = [p for i in range(60, 120) for p in packets_of(fanout, silence(), i)]
    assert len(sent) <= HANGOVER_FRAMES + 1
    quiet_music.stop()
    plain.stop()


# --- the receiving side's level meter ---------------------------------------------


async def test_level_meter_reports_a_stream_that_stops_arriving_as_silent_once() -> None:
    calls: list[tuple[str, float, bool]] = []
    meter = LevelMeter(lambda *call: calls.append(call), hold_s=0.3, idle_s=0.15)
    loud = np.full(960, 8000, dtype=np.int16)
    for _ in range(3):
        meter.feed("alice", loud)
        meter.feed("bob", loud)
    assert meter.is_speaking("alice")
    assert calls[-1][2] is True
    meter.remove("bob")  # a removed stream is not reported any more
    await asyncio.sleep(0.4)  # nothing arrives: the sender suppresses its silence
    assert not meter.is_speaking("alice")
    assert [c for c in calls if c[0] == "alice"][-1] == ("alice", SILENCE_DBFS, False)
    assert [c for c in calls if c[0] == "bob"][-1][2] is True
    count = len(calls)
    await asyncio.sleep(0.3)
    assert len(calls) == count  # reported once, not again and again
    meter.feed("alice", loud)  # back: reported at once
    key, dbfs, speaking = calls[-1]
    assert (key, speaking) == ("alice", True)
    assert dbfs == pytest.approx(-12.25, abs=0.1)
    meter.remove("alice")


def test_level_meter_without_a_loop_still_stops_speaking_when_idle() -> None:
    now = [0.0]
    meter = LevelMeter(lambda *_: None, hold_s=0.3, clock=lambda: now[0])
    meter.feed("alice", np.full(960, 8000, dtype=np.int16))
    assert meter.is_speaking("alice")
    now[0] = 0.31
    assert not meter.is_speaking("alice")
    with pytest.raises(ValueError, match="idle"):
        LevelMeter(lambda *_: None, idle_s=0)
