"""Small track adapters for peer links: a frame counter and a one-to-many relay.

aiortc's senders each pull frames with ``track.recv()`` and stop their track when they
stop, so one local track cannot feed several peer connections directly: the senders
would split its frames between them and the first link to close would end it for all.
:class:`TrackRelay` reads the source once and gives each link its own proxy.
(aiortc's ``contrib.media.MediaRelay`` does the same but keeps reading the source with
an untracked task after the last consumer is gone, which our leak check forbids.)
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
from collections.abc import Callable
from typing import Any, Union

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.frame import Frame
from av.packet import Packet

from media.opus import FRAME_SAMPLES, RATE, VoiceEncoder
from media.silence import SilenceGate, SilenceSuppression, frame_level_dbfs, track_suppression

logger = logging.getLogger(__name__)

OPUS_TIME_BASE = fractions.Fraction(1, RATE)
OPUS_FRAME_SAMPLES = FRAME_SAMPLES  # 20 ms packets at 48 kHz

# A string alias: av's Packet is generic for type checkers only.
MediaItem = Union[Frame, "Packet[Any]"]


class PassThroughTrack(MediaStreamTrack):
    """Hands on another track's frames, each through :meth:`_pass`; ends with it, and
    stopping it stops the source."""

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source

    async def recv(self) -> MediaItem:
        """The source's next frame, as :meth:`_pass` makes it."""
        if self.readyState != "live":
            raise MediaStreamError
        try:
            frame = await self.source.recv()
        except MediaStreamError:
            self.stop()
            raise
        return self._pass(frame)

    def _pass(self, frame: MediaItem) -> MediaItem:
        return frame

    def stop(self) -> None:
        """End this track and the source it wraps."""
        super().stop()
        self.source.stop()


class CountingTrack(PassThroughTrack):
    """Passes another track's frames through and calls ``on_frame`` for each one."""

    def __init__(self, source: MediaStreamTrack, on_frame: Callable[[], None]) -> None:
        super().__init__(source)
        self._on_frame = on_frame

    def _pass(self, frame: MediaItem) -> MediaItem:
        self._on_frame()
        return frame


class SwitchableTrack(MediaStreamTrack):
    """What an aiortc sender reads: the frames of a source that can be switched.

    aiortc's sender ends its RTP loop for good when its track raises, and stops its
    track when that loop ends (also when the transport fails). This track sits between
    the two: switching the source (or setting none) never disturbs the sender, a source
    that ends is simply waited past, and stopping this track leaves the source running.
    """

    def __init__(self, kind: str, source: MediaStreamTrack | None = None) -> None:
        super().__init__()
        self.kind = kind
        self._source = source
        self._switched = asyncio.Event()

    @property
    def source(self) -> MediaStreamTrack | None:
        """The track whose frames are passed on now."""
        return self._source

    def switch(self, source: MediaStreamTrack | None) -> None:
        """Read ``source`` from now on; the previous source's owner stops it."""
        self._source = source
        self._switched.set()

    async def recv(self) -> MediaItem:
        """The current source's next frame; waits while there is no source."""
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            source = self._source
            if source is None:
                self._switched.clear()
                await self._switched.wait()
                continue
            try:
                return await source.recv()
            except MediaStreamError:
                # The source ended or was switched away and stopped: wait for the next.
                if self._source is source:
                    self._source = None


class RelayTrack(MediaStreamTrack):
    """One consumer's view of a :class:`TrackRelay`; stopping it only unsubscribes."""

    def __init__(self, relay: TrackRelay, kind: str, queue_size: int) -> None:
        super().__init__()
        self.kind = kind
        self._relay = relay
        self._queue: asyncio.Queue[MediaItem | None] = asyncio.Queue(maxsize=queue_size)

    async def recv(self) -> MediaItem:
        """The next frame of the relayed source."""
        if self.readyState != "live":
            raise MediaStreamError
        item = await self._queue.get()
        if item is None:
            self.stop()
            raise MediaStreamError
        return item

    def stop(self) -> None:
        """Unsubscribe from the relay; the source keeps running for the others."""
        if self.readyState == "live":
            super().stop()
            self._relay._unsubscribe(self)
            # Wake a pending recv() so its reader moves on instead of waiting forever.
            self._offer(None)

    def _offer(self, item: MediaItem | None) -> None:
        # A slow consumer loses its oldest frame rather than delaying the others.
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
        self._queue.put_nowait(item)


class TrackRelay:
    """Reads one source track only while someone listens and copies each frame to all.

    The source can be switched without touching the subscribers (their senders see
    one continuous track). The relay never stops a source: its owner does, and a
    source that ends is simply left until the next :meth:`switch`.
    """

    def __init__(
        self, kind: str, source: MediaStreamTrack | None = None, *, queue_size: int = 8
    ) -> None:
        self.kind = kind
        self._source = source
        self._switched = asyncio.Event()
        self._queue_size = queue_size
        self._proxies: set[RelayTrack] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def source(self) -> MediaStreamTrack | None:
        """The track being relayed now."""
        return self._source

    @property
    def subscribers(self) -> int:
        """How many proxies are live."""
        return len(self._proxies)

    def switch(self, source: MediaStreamTrack | None) -> None:
        """Relay ``source`` from its next frame on; the old source's owner stops it."""
        self._source = source
        self._switched.set()

    def subscribe(self) -> RelayTrack:
        """A new proxy of the source; call from the event loop."""
        if self._closed:
            raise RuntimeError("relay is closed")
        proxy = RelayTrack(self, self.kind, self._queue_size)
        self._proxies.add(proxy)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return proxy

    async def close(self) -> None:
        """End every proxy and the reading task; idempotent."""
        self._closed = True
        for proxy in list(self._proxies):
            proxy._offer(None)
        self._proxies.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _unsubscribe(self, proxy: RelayTrack) -> None:
        self._proxies.discard(proxy)
        if not self._proxies and self._task is not None:
            # Nobody listens: stop pulling frames (a camera would keep encoding nothing).
            self._task.cancel()
            self._task = None

    def _convert(self, frame: MediaItem) -> list[MediaItem]:
        """What subscribers get for one source frame (subclasses encode here)."""
        return [frame]

    async def _run(self) -> None:
        while self._proxies:
            source = self._source
            if source is None:
                self._switched.clear()
                await self._switched.wait()
                continue
            try:
                frame = await source.recv()
            except MediaStreamError:
                if self._source is source:
                    self._source = None
                continue
            try:
                items = self._convert(frame)
            except Exception:
                # One bad frame (an encoder refusing it) must not end the stream for all.
                logger.exception("%s relay dropped a frame it could not convert", self.kind)
                continue
            for item in items:
                for proxy in list(self._proxies):
                    proxy._offer(item)


class OpusFanout(TrackRelay):
    """An audio relay that encodes to Opus once and gives every subscriber the packets.

    aiortc's sender packs a pre-encoded ``av.Packet`` without encoding it again, so N
    listeners cost one Opus encode instead of N (and no executor hop per listener).
    Only valid where Opus is the negotiated audio codec, as between Parley peers and in
    browsers (Opus is mandatory-to-implement in WebRTC and aiortc's first choice).
    RTP timestamps stay continuous across :meth:`switch`, as one microphone would.

    The encoder is :class:`media.opus.VoiceEncoder`: mono voice at 32 kbit/s with Opus
    in-band FEC, whose size follows :meth:`set_expected_loss` (the mesh passes the worst
    loss its links' receivers report). aiortc's own encoder sends 96 kbit/s stereo with
    no FEC, so a lost packet could only be concealed.

    With ``suppression`` enabled (the default, see :mod:`media.silence`) packets stop
    once the source has been silent for the hangover, apart from a keep-alive packet
    now and then, and start again with the first frame that is not silent. Every frame
    is still encoded and advances the timestamps, so a receiver sees a gap in time, not
    a time warp. A source marked with :func:`media.silence.set_track_suppression`
    overrides the fan-out's setting. ``on_packet(pts, level_dbfs, sent)`` is called for
    every encoded packet (benchmarks count what was really sent with it).
    """

    def __init__(
        self,
        source: MediaStreamTrack | None = None,
        *,
        queue_size: int = 8,
        suppression: SilenceSuppression | None = None,
    ) -> None:
        super().__init__("audio", source, queue_size=queue_size)
        self._encoder = VoiceEncoder()
        self._resampler = AudioResampler(
            format="s16", layout="mono", rate=RATE, frame_size=FRAME_SAMPLES
        )
        self._pts = 0
        self._default_gate = SilenceGate(suppression or SilenceSuppression())
        self._gate = self._gate_for(source)
        self.on_packet: Callable[[int, float, bool], None] | None = None
        self.packets_sent = 0
        """Packets handed to the subscribers (each link sends each one)."""
        self.packets_suppressed = 0
        """Packets encoded but not sent because the source was silent."""

    @property
    def suppressing(self) -> bool:
        """Whether the source is silent past the hangover (only keep-alives go out)."""
        return self._gate.suppressing

    @property
    def expected_loss(self) -> float:
        """The packet loss the encoder's FEC is sized for (0..0.5)."""
        return self._encoder.expected_loss_percent / 100

    def set_expected_loss(self, fraction: float) -> None:
        """Size the FEC for receivers losing ``fraction`` of the packets."""
        self._encoder.set_expected_loss(fraction)

    def switch(self, source: MediaStreamTrack | None) -> None:
        """Relay ``source`` from its next frame on; the old source's owner stops it."""
        self._gate = self._gate_for(source)
        super().switch(source)

    def _gate_for(self, source: MediaStreamTrack | None) -> SilenceGate:
        own = track_suppression(source)
        if own is None or own == self._default_gate.config:
            return self._default_gate
        return SilenceGate(own)

    def _convert(self, frame: MediaItem) -> list[MediaItem]:
        if not isinstance(frame, AudioFrame):
            return []
        payloads = [
            self._encoder.encode(out.to_ndarray().reshape(-1).astype(np.int16, copy=False))
            for out in self._resampler.resample(frame)
        ]
        gate = self._gate
        measure = gate.config.enabled or self.on_packet is not None
        level = frame_level_dbfs(frame) if measure else 0.0
        send = gate.admit(level, frame.samples / (frame.sample_rate or OPUS_TIME_BASE.denominator))
        packets: list[MediaItem] = []
        for payload in payloads:
            pts = self._pts
            self._pts += OPUS_FRAME_SAMPLES
            if self.on_packet is not None:
                self.on_packet(pts, level, send)
            if not send:
                self.packets_suppressed += 1
                continue
            packet = Packet(payload)
            packet.pts = pts
            packet.time_base = OPUS_TIME_BASE
            packets.append(packet)
        self.packets_sent += len(packets)
        return packets
