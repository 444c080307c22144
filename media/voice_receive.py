"""Parley's audio receive path inside an aiortc receiver: adaptive playout, concealment, FEC.

aiortc's ``RTCRtpReceiver`` hands each depayloaded RTP packet to its jitter buffer's
``add()`` and decodes whatever frame that returns on a decoder thread. For an Opus
stream, :func:`install_voice_receive` puts a :class:`VoiceReceivePath` where that jitter
buffer was: it takes the packets into a :class:`~media.jitter.VoiceJitterBuffer`, and a
playout clock on the event loop (one timer, running only while a talk spurt plays)
decodes one frame per slot with libopus — the packet, the FEC copy of a lost one, or
concealment — and queues it on the receiver's track like aiortc's decoder would.
Packets of any other codec go to aiortc's own buffer, as before.

The clock runs only while there is audio to play and stops once the spurt is over, so a
silent or finished stream costs nothing; decoding one frame takes ~0.1 ms, so it is done
on the loop rather than hopping to a thread.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from typing import Any

from aiortc.codecs import CODECS
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RtpPacket
from av.audio.frame import AudioFrame

from media.jitter import Playout, Step, VoiceJitterBuffer
from media.levels import audio_level_dbfs
from media.opus import RATE, OpusError, VoiceDecoder

logger = logging.getLogger(__name__)

TIME_BASE = fractions.Fraction(1, RATE)
MAX_CATCH_UP = 10
"""Slots played at once when the loop was late (the mixer keeps only the newest of them,
but the clock stays where it was, so the delay does not grow); past that the missed time
is skipped."""

GRACE_S = 0.006
"""How long past its slot a missing packet is still waited for before concealment."""
GRACE_STEP_S = 0.002

# aiortc keeps these private (name-mangled); one place names them.
_JITTER_ATTR = "_RTCRtpReceiver__jitter_buffer"
_CODECS_ATTR = "_RTCRtpReceiver__codecs"


class VoiceReceivePath:
    """The jitter buffer and decoder of one audio receiver (see the module docstring)."""

    def __init__(self, receiver: RTCRtpReceiver, track: MediaStreamTrack) -> None:
        self._loop = asyncio.get_running_loop()
        self._receiver = receiver
        self._track = track
        self._queue: asyncio.Queue[Any] = track._queue  # type: ignore[attr-defined]
        self._fallback = getattr(receiver, _JITTER_ATTR)
        self.buffer = VoiceJitterBuffer()
        self._decoder = VoiceDecoder()
        self._timer: asyncio.TimerHandle | None = None
        self._slot = 0.0
        self._pts = 0
        self._closed = False

    # The interface aiortc's receiver calls: JitterBuffer.add.
    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """Take one packet; never returns a frame for aiortc's decoder (Opus is ours)."""
        codecs: dict[int, Any] = getattr(self._receiver, _CODECS_ATTR)
        codec = codecs.get(packet.payload_type)
        if codec is None or codec.name.lower() != "opus":
            result: tuple[bool, JitterFrame | None] = self._fallback.add(packet)
            return result
        if self._closed:
            return False, None
        data: bytes = getattr(packet, "_data", packet.payload)
        self.buffer.push(packet.sequence_number, packet.timestamp, data, self._loop.time())
        if self._timer is None:
            self._schedule_start()
        return False, None

    def close(self) -> None:
        """Stop the playout clock and free the decoder; later packets are ignored."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._decoder.close()

    # -- the playout clock ---------------------------------------------------------------

    def _schedule_start(self) -> None:
        start = self.buffer.start_time()
        if start is None:
            return
        self._slot = start
        self._timer = self._loop.call_at(start, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self._closed or self._track.readyState != "live":
            return
        now = self._loop.time()
        if now - self._slot > MAX_CATCH_UP * self.buffer.frame_s:
            # The loop stalled: play the last few slots, skip the time before them.
            self._slot = now - MAX_CATCH_UP * self.buffer.frame_s
        while self._slot <= now:
            if self.buffer.waiting_for_next() and now < self._slot + GRACE_S:
                # The packet may be in the socket already, a few turns of the loop from
                # the buffer (aiortc hands it on through several awaits): look again
                # shortly rather than conceal it; the mixer's pre-buffer covers the wait.
                self._timer = self._loop.call_at(
                    min(now + GRACE_STEP_S, self._slot + GRACE_S), self._tick
                )
                return
            step = self.buffer.pop(self._slot)
            if step is None:
                self._schedule_start()
                return
            self._slot += self._play(step) / RATE
        self._timer = self._loop.call_at(self._slot, self._tick)

    def _play(self, step: Playout) -> int:
        """Decode one slot's audio onto the track; returns its length in samples."""
        try:
            for payload in step.skipped:
                self._decoder.decode(payload)  # keeps the decoder's state continuous
            if step.step is Step.PACKET:
                samples = self._decoder.decode(step.payload)
            elif step.step is Step.RECOVER:
                samples = self._decoder.recover(step.payload)
            else:
                samples = self._decoder.conceal()
        except OpusError:
            logger.debug("undecodable Opus packet; concealing it", exc_info=True)
            samples = self._decoder.conceal()
        self.buffer.last_level_dbfs = audio_level_dbfs(samples)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        # The sender's clock, as aiortc's decoder gives it: a silent gap stays a gap.
        frame.pts = self._pts if step.timestamp is None else step.timestamp
        frame.time_base = TIME_BASE
        self._pts = frame.pts + len(samples)
        self._queue.put_nowait(frame)
        return len(samples)


def install_voice_receive(receiver: RTCRtpReceiver, track: MediaStreamTrack) -> VoiceReceivePath:
    """Give an audio receiver Parley's receive path (idempotent)."""
    current = getattr(receiver, _JITTER_ATTR)
    if isinstance(current, VoiceReceivePath):
        return current
    path = VoiceReceivePath(receiver, track)
    setattr(receiver, _JITTER_ATTR, path)
    return path


def voice_receive_of(receiver: RTCRtpReceiver) -> VoiceReceivePath | None:
    """The receive path installed in ``receiver``, if any."""
    current = getattr(receiver, _JITTER_ATTR, None)
    return current if isinstance(current, VoiceReceivePath) else None


def advertise_inband_fec() -> None:
    """Say in every SDP Parley writes that it decodes Opus FEC (``useinbandfec=1``).

    RFC 7587 § 7: a sender only adds in-band FEC for a receiver that asks for it, and
    browsers read this in Parley's offers and answers. aiortc has no per-connection
    setting for format parameters, so its codec table is amended once, at import.
    """
    for codec in CODECS["audio"]:
        if codec.mimeType.lower() == "audio/opus":
            codec.parameters.setdefault("useinbandfec", 1)


advertise_inband_fec()
