"""Sender-side silence suppression: stop sending audio packets while the microphone is silent.

What Opus DTX and WebRTC's audio senders do with silent streams, done at the one place
Parley encodes a microphone for every link (:class:`media.relay.OpusFanout`): each 20 ms
frame is still encoded (so the encoder state and the RTP clock run on), but once the
frame's level has stayed at or below ``threshold_dbfs`` for ``hangover_s`` its packet is
not handed to the links. The first frame above the threshold is sent at once, so speech is
never clipped. Receivers see a gap in RTP timestamps (sequence numbers stay consecutive,
so nothing counts as lost), their jitter buffer simply waits, and their mixer plays
silence for a source that has nothing queued.

Every ``keepalive_s`` of suppressed audio one silent packet still goes out (Opus DTX
sends a comfort-noise update every 400 ms too). aiortc needs that: its sender reports
the NTP/RTP time of the last packet it sent in every RTCP sender report, and a receiver
report that answers an older sender report carrying the same stale value gives a wrong
(even negative) round-trip time. It also lets receivers' level meters and statistics
see that the stream is alive but silent.

A source track's owner can turn suppression on or off for that track alone with
:func:`set_track_suppression` (a music source, or the ``MediaOptions`` flag of the app);
it overrides the fan-out's own setting.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from aiortc.mediastreams import MediaStreamTrack
from av.audio.frame import AudioFrame

from media.levels import FULL_SCALE, SILENCE_DBFS, audio_level_dbfs

DEFAULT_THRESHOLD_DBFS = -60.0
"""Frames at or below this RMS level count as silence.

-60 dBFS is an RMS of about 33 on the int16 scale: below the noise floor of most
microphones in a room and ~20 dB under soft speech, so only a muted, gated or
digitally silent input is suppressed, and a mic whose own noise is louder simply keeps
sending (no saving, no harm)."""

DEFAULT_HANGOVER_S = 0.4
"""How long a source keeps sending after its last frame above the threshold.

Longer than the pauses inside and between words (~100–300 ms), so a sentence is one
burst; the receiver's speaking indicator (``LevelMeter``'s 0.3 s hold) has dropped before
the burst ends."""

DEFAULT_KEEPALIVE_S = 0.4
"""While suppressed, one packet every this long (Opus DTX's comfort-noise interval)."""


@dataclass(frozen=True)
class SilenceSuppression:
    """When an audio sender stops sending; ``enabled=False`` sends every frame."""

    enabled: bool = True
    threshold_dbfs: float = DEFAULT_THRESHOLD_DBFS
    hangover_s: float = DEFAULT_HANGOVER_S
    keepalive_s: float | None = DEFAULT_KEEPALIVE_S

    def __post_init__(self) -> None:
        if self.hangover_s < 0:
            raise ValueError(f"hangover_s must be >= 0, got {self.hangover_s}")
        if self.keepalive_s is not None and self.keepalive_s <= 0:
            raise ValueError(f"keepalive_s must be positive or None, got {self.keepalive_s}")


SUPPRESSION_OFF = SilenceSuppression(enabled=False)


class SilenceGate:
    """Decides frame by frame whether an encoded frame is sent.

    Time is counted in audio samples, not on a clock, so the decision depends only on
    the audio. The gate starts as if speech had just ended: a new stream sends one
    hangover of packets first, which primes the receivers' jitter buffers.
    """

    def __init__(self, config: SilenceSuppression) -> None:
        self.config = config
        self._quiet = 0.0  # seconds of audio at or below the threshold since the last loud
        self._since_keepalive = 0.0
        self.frames_sent = 0
        self.frames_suppressed = 0

    @property
    def suppressing(self) -> bool:
        """Whether the source is past its hangover (only keep-alives go out)."""
        return self.config.enabled and self._quiet > self.config.hangover_s + 1e-9

    def admit(self, level_dbfs: float, duration_s: float) -> bool:
        """Whether to send the frame of ``duration_s`` seconds measured at ``level_dbfs``."""
        send = self._decide(level_dbfs, duration_s)
        if send:
            self.frames_sent += 1
        else:
            self.frames_suppressed += 1
        return send

    def _decide(self, level_dbfs: float, duration_s: float) -> bool:
        config = self.config
        if not config.enabled:
            return True
        if level_dbfs > config.threshold_dbfs:
            self._quiet = 0.0  # sound: send it now, whatever came before
            return True
        was_suppressing = self.suppressing
        self._quiet += duration_s
        if not self.suppressing:
            return True  # the hangover
        if not was_suppressing:
            self._since_keepalive = 0.0
            return False
        if config.keepalive_s is None:
            return False
        self._since_keepalive += duration_s
        # The epsilon absorbs float error when 20 ms steps add up to the interval.
        if self._since_keepalive >= config.keepalive_s - 1e-9:
            self._since_keepalive = 0.0
            return True
        return False


def frame_level_dbfs(frame: AudioFrame) -> float:
    """RMS level of an audio frame in dBFS, over all channels.

    Integer and float sample formats are understood; any other format reads as full
    scale, so a frame the gate cannot measure is always sent.
    """
    name = frame.format.name
    if frame.samples == 0:
        return SILENCE_DBFS
    if name in ("s16", "s16p"):
        return audio_level_dbfs(frame.to_ndarray())
    if name in ("flt", "fltp", "dbl", "dblp"):
        return audio_level_dbfs(np.asarray(frame.to_ndarray(), dtype=np.float64) * FULL_SCALE)
    if name in ("s32", "s32p"):
        return audio_level_dbfs(np.asarray(frame.to_ndarray(), dtype=np.float64) / 65536.0)
    return 0.0


_track_settings: weakref.WeakKeyDictionary[MediaStreamTrack, SilenceSuppression] = (
    weakref.WeakKeyDictionary()
)


def set_track_suppression(track: MediaStreamTrack, config: SilenceSuppression | None) -> None:
    """Make a fan-out that relays ``track`` use ``config`` (``None``: its own setting)."""
    if config is None:
        _track_settings.pop(track, None)
    else:
        _track_settings[track] = config


def track_suppression(track: MediaStreamTrack | None) -> SilenceSuppression | None:
    """The setting the owner of ``track`` chose, if any."""
    return None if track is None else _track_settings.get(track)
