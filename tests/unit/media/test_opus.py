"""libopus through ctypes: voice encoding with FEC, decoding, concealment and recovery."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from media.opus import (
    DEFAULT_BITRATE,
    FRAME_SAMPLES,
    RATE,
    OpusError,
    VoiceDecoder,
    VoiceEncoder,
    packet_samples,
)

Int16Array = npt.NDArray[np.int16]


def voice_like(seconds: float) -> Int16Array:
    """A vowel-ish signal: a 140 Hz pulse train's harmonics with a slow pitch glide."""
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    wave = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)
    return (6000 * envelope * wave).astype(np.int16)


def frames(signal: Int16Array) -> list[Int16Array]:
    return [signal[i : i + FRAME_SAMPLES] for i in range(0, len(signal), FRAME_SAMPLES)]


def snr_db(reference: Int16Array, test: Int16Array) -> float:
    ref = reference.astype(np.float64)
    noise = ref - test.astype(np.float64)
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum(noise**2), 1e-9)))


def decoded(packets: list[bytes], lost: set[int], how: str) -> Int16Array:
    decoder = VoiceDecoder()
    out = []
    for n, packet in enumerate(packets):
        if n not in lost:
            out.append(decoder.decode(packet))
        elif how == "fec" and n + 1 < len(packets) and n + 1 not in lost:
            out.append(decoder.recover(packets[n + 1]))
        else:
            out.append(decoder.conceal())
    return np.concatenate(out)


def test_voice_goes_through_encoder_and_decoder_in_20_ms_packets() -> None:
    encoder = VoiceEncoder()
    signal = voice_like(1.0)
    packets = [encoder.encode(frame) for frame in frames(signal)]
    assert len(packets) == 50
    assert all(packet_samples(p) == FRAME_SAMPLES for p in packets)
    # The bitrate asked for, give or take the VBR: 160 bytes a packet at 64 kbit/s.
    expected = DEFAULT_BITRATE / 8 / 50
    assert 0.6 * expected <= np.mean([len(p) for p in packets]) <= 1.3 * expected
    out = decoded(packets, set(), "none")
    assert out.shape == signal.shape
    level_in = np.sqrt(np.mean(signal.astype(np.float64) ** 2))
    level_out = np.sqrt(np.mean(out[RATE // 10 :].astype(np.float64) ** 2))
    assert level_out == pytest.approx(level_in, rel=0.25)


def test_a_lost_packet_rebuilt_from_the_next_ones_fec_is_far_better_than_concealed() -> None:
    encoder = VoiceEncoder(expected_loss=0.2)
    signal = voice_like(2.0)
    packets = [encoder.encode(frame) for frame in frames(signal)]
    lost = set(range(10, 100, 7))
    clean = decoded(packets, set(), "none")
    with_fec = decoded(packets, lost, "fec")
    concealed = decoded(packets, lost, "conceal")

    def lost_audio(audio: Int16Array) -> Int16Array:
        return np.concatenate([audio[n * FRAME_SAMPLES : (n + 1) * FRAME_SAMPLES] for n in lost])

    # Against what the decoder gives with nothing lost, over the lost frames only.
    fec_snr = snr_db(lost_audio(clean), lost_audio(with_fec))
    plc_snr = snr_db(lost_audio(clean), lost_audio(concealed))
    assert fec_snr > plc_snr + 4, (fec_snr, plc_snr)


def test_expected_loss_changes_a_running_encoder() -> None:
    encoder = VoiceEncoder(expected_loss=0.3)
    chunks = frames(voice_like(4.0))
    packets = [encoder.encode(frame) for frame in chunks[:100]]
    encoder.set_expected_loss(0.0)  # no loss reported: no bits spent on FEC
    assert encoder.expected_loss_percent == 0
    packets += [encoder.encode(frame) for frame in chunks[100:]]
    lost = set(range(20, 200, 9))
    clean = decoded(packets, set(), "none")
    with_fec = decoded(packets, lost, "fec")

    def rebuilt_snr(frames_lost: list[int]) -> float:
        def cut(audio: Int16Array) -> Int16Array:
            return np.concatenate(
                [audio[n * FRAME_SAMPLES : (n + 1) * FRAME_SAMPLES] for n in frames_lost]
            )

        return snr_db(cut(clean), cut(with_fec))

    before = rebuilt_snr([n for n in sorted(lost) if n < 99])
    after = rebuilt_snr([n for n in sorted(lost) if n > 105])
    assert before > after + 4, (before, after)
    encoder.set_expected_loss(0.9)
    assert encoder.expected_loss_percent == 50  # clamped


def test_bad_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="960 mono samples"):
        VoiceEncoder().encode(np.zeros(480, dtype=np.int16))
    with pytest.raises(OpusError, match=r"corrupted|invalid"):
        VoiceDecoder().decode(b"\xff\xff\xff")
    decoder = VoiceDecoder()
    decoder.close()
    with pytest.raises(OpusError, match="closed"):
        decoder.decode(b"\x00")
