"""UI sounds: WAV files become paced, looping tracks; no device means no sound, no error."""

from __future__ import annotations

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from media.sounds import SoundPlayer, WavTrack, load_wav
from resources import SOUNDS


@pytest.mark.parametrize("name", ["ringtone", "ringback", "call_end"])
def test_the_shipped_sounds_load_as_mono_16_bit(name: str) -> None:
    samples, rate = load_wav(SOUNDS / f"{name}.wav")
    assert samples.dtype == np.int16
    assert samples.ndim == 1
    assert rate == 16_000
    assert samples.size > rate // 4


async def test_a_looping_track_wraps_around_and_a_single_one_ends() -> None:
    samples = np.arange(1, 481, dtype=np.int16)  # 30 ms at 16 kHz: 1.5 frames
    looping = WavTrack(samples, 16_000, loop=True)
    blocks = [(await looping.recv()).to_ndarray().reshape(-1) for _ in range(3)]
    assert [b.size for b in blocks] == [320, 320, 320]
    assert blocks[1][159] == 480  # the end of the sound, then it starts again
    assert blocks[1][160] == 1
    looping.stop()

    once = WavTrack(samples, 16_000, loop=False)
    first, second = (await once.recv()).to_ndarray(), (await once.recv()).to_ndarray()
    assert first.reshape(-1)[0] == 1
    assert second.reshape(-1)[-1] == 0  # padded with silence
    with pytest.raises(MediaStreamError):
        await once.recv()


async def test_a_disabled_player_only_remembers_what_it_would_play() -> None:
    player = SoundPlayer(SOUNDS, enabled=False)
    await player.play("ringtone")
    assert player.playing == "ringtone"
    await player.stop()
    now: str | None = player.playing  # mypy keeps the narrowing across the await otherwise
    assert now is None
    await player.close()


async def test_a_missing_file_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    from media.playback import NULL_OUTPUT

    player = SoundPlayer(SOUNDS, device=NULL_OUTPUT)
    player._available = lambda: True  # type: ignore[method-assign]  # no device needed
    await player.play("no-such-sound")
    assert "cannot play sound no-such-sound" in caplog.text
    await player.play("ringback")
    assert player.playing == "ringback"
    await player.close()
