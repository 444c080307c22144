"""An adaptive voice jitter buffer: conceal a gap, never throw away audio that arrived.

aiortc's audio jitter buffer holds four frames and, when one packet is missing, waits for
it until sixteen are queued and then drops everything before the gap: one lost packet
costs about five frames, and its delay grows from 80 to 280 ms and stays there. This one
works like the receivers of browsers (WebRTC's NetEq), in small:

* Playout is clocked: every 20 ms :meth:`VoiceJitterBuffer.pop` says what to play for
  the next frame slot. A packet that is there is played. A packet that is missing while
  later ones are already here is lost: it is rebuilt from the FEC copy inside the next
  packet when that one is here, otherwise concealed. A packet that is missing with
  nothing after it is probably late: a concealed frame is played *in its place* and the
  packet is still expected (the delay grows by one frame, as NetEq's "expand"); if the
  packet after it comes first, the lost one is then rebuilt from its FEC copy. A talk
  spurt's lost first packets are rebuilt too (sequence numbers do not stop during a
  sender's silence, so a gap before a spurt is loss).
* The delay adapts both ways. A talk spurt starts playing once its first packet has
  waited out the arrival spread measured over the last seconds (the 95th percentile of
  how much later than the fastest packet packets arrive, plus a margin), so on a clean
  link audio plays within a few milliseconds of arriving. While packets are being lost
  one frame more is kept, so the next packet (and the FEC copy it carries) is there when
  a loss is found. A link that gets rougher mid-spurt gets concealed frames added; once
  every packet of the last second would still have been on time a frame later, one is
  dropped. Both wait for a soft frame (a pause between words) for up to a few seconds;
  a stall's backlog, or a delay three frames too high, is cut at once.

The buffer is pure (no clock, no I/O): times are passed in, so tests drive it exactly.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

FRAME_S = 0.02
CLOCK_RATE = 48_000
SEQ_MOD = 1 << 16
TS_MOD = 1 << 32


QUIET_DBFS = -60.0
"""A frame at or below this level is silence (the senders' suppression threshold)."""
SOFT_DBFS = -45.0
"""Below this a frame is a pause between words, where a dropped or added frame is not heard."""
MAX_PACKETS = 250
"""At most this many packets (5 s) are held; past it the oldest go."""
MAX_CONCEALED_RUN = 5
"""A gap longer than this many packets is skipped rather than concealed frame by frame."""
MAX_ONSET_LOSS = 3
"""Packets lost at the start of a talk spurt that are still rebuilt or concealed."""
LARGE_SURPLUS_FRAMES = 3
"""A delay this many frames above the target for a whole trim window is cut at once."""
PATIENCE = 3
"""A delay change waits this many trim windows for a soft frame, then happens anyway."""


class Step(enum.Enum):
    """What to play for one frame slot."""

    PACKET = "packet"
    """Decode ``payload``, the packet due now."""
    RECOVER = "recover"
    """Decode the FEC copy of the lost packet inside ``payload`` (the next packet)."""
    CONCEAL = "conceal"
    """Play libopus's concealment; nothing to decode."""


@dataclass(frozen=True)
class Playout:
    """One frame slot's decision; ``skipped`` packets are decoded first and not played
    (dropped to bring the delay down; decoding keeps the decoder's state continuous)."""

    step: Step
    payload: bytes = b""
    skipped: tuple[bytes, ...] = ()
    timestamp: int | None = None
    """Where the played audio sits on the sender's clock (samples since the stream's
    first packet); ``None`` for concealment, which continues the previous frame."""


@dataclass
class JitterStats:
    """What the buffer did, since it was made."""

    received: int = 0
    played: int = 0
    recovered: int = 0
    """Lost packets rebuilt from the FEC copy in the next one."""
    concealed: int = 0
    """Frames of concealment played (losses without FEC, and waits for late packets)."""
    late: int = 0
    """Packets that came after their slot had been played (discarded)."""
    duplicates: int = 0
    dropped: int = 0
    """Packets skipped to bring the delay down."""
    stretched: int = 0
    """Frames of concealment played to raise the delay for a rougher link."""


@dataclass
class _Packet:
    timestamp: int
    payload: bytes
    arrival: float


class VoiceJitterBuffer:
    """Orders one stream's packets and decides, slot by slot, what to play.

    ``push`` takes each packet with its arrival time; :meth:`start_time` says when a
    stopped buffer should play its first slot; ``pop`` is called once per frame slot
    while :attr:`playing` (and once at the start time).
    """

    def __init__(
        self,
        *,
        frame_s: float = FRAME_S,
        margin_s: float = 0.004,
        max_delay_s: float = 0.5,
        max_expand: int = 3,
        window_s: float = 4.0,
        trim_window_s: float = 1.0,
        fec_memory_s: float = 5.0,
        warm_up_s: float = 0.5,
    ) -> None:
        self.frame_s = frame_s
        self.margin_s = margin_s
        """Added to the measured spread: the playout clock's own scheduling slack."""
        self.max_delay_s = max_delay_s
        self.max_expand = max_expand
        """Concealed frames played in a row with nothing buffered before a spurt is over."""
        self._frame_ticks = round(frame_s * CLOCK_RATE)
        self.window_s = window_s
        self.warm_up_s = warm_up_s
        """A stream's first packets come in a burst (queued while the connection was
        set up, measured up to 140 ms late): they say nothing about the link's spread,
        and would hold the delay up for a whole window, so only the fastest of them
        counts."""
        self._first_arrival: float | None = None
        self._trim_window = max(4, round(trim_window_s / frame_s))
        self._fec_memory = max(1, round(fec_memory_s / frame_s))
        self._packets: dict[int, _Packet] = {}
        self._highest: int | None = None  # extended sequence numbers
        self._next: int | None = None
        self._ts_last: tuple[int, int] | None = None  # (as on the wire, unwrapped)
        # (arrival, arrival - send time) of the packets of the last window_s: by time,
        # not count, so a hiccup before a silence does not outlive the silence.
        self._delays: deque[tuple[float, float, bool]] = deque()  # (…, warmed up)
        self._surplus_run = 0  # slots in a row played a frame or more later than needed
        self._spread_cache: tuple[int, float] | None = None  # (packets received, spread)
        self._since_loss = self._fec_memory
        self._expanded = 0
        self.playing = False
        self.last_level_dbfs = 0.0
        """Set by the decoding side: the level of the last frame played. After silence
        waiting for a late packet is pointless (concealing silence gives silence, and a
        lone keep-alive packet of a quiet sender is not followed by anything), so the
        spurt ends there instead; and the delay is changed, by a frame dropped or
        concealment added, where speech is soft rather than mid-word."""
        self.stats = JitterStats()

    # -- input -------------------------------------------------------------------------

    def push(self, sequence: int, timestamp: int, payload: bytes, arrival: float) -> None:
        """Take one received packet (RTP sequence number and timestamp as on the wire)."""
        self.stats.received += 1
        seq = self._extend(sequence)
        if seq in self._packets:
            self.stats.duplicates += 1
            return
        ts = self._unwrap_ts(timestamp)
        # Late packets count most here: they are what the delay must grow for.
        if self._first_arrival is None:
            self._first_arrival = arrival
        warm = arrival - self._first_arrival >= self.warm_up_s
        self._delays.append((arrival, arrival - ts / CLOCK_RATE, warm))
        while self._delays[0][0] < arrival - self.window_s:
            self._delays.popleft()
        if self._next is not None and seq < self._next:
            self.stats.late += 1
            return
        self._packets[seq] = _Packet(ts, payload, arrival)
        if self._highest is None or seq > self._highest:
            self._highest = seq
        if len(self._packets) > MAX_PACKETS:
            # A sender far ahead of playout (or a hostile one): keep the newest.
            del self._packets[min(self._packets)]
            self.stats.dropped += 1

    # -- playout -----------------------------------------------------------------------

    def target_delay_s(self) -> float:
        """How long the first packet of a spurt waits: the arrival spread plus margin,
        and one frame more while packets are being lost (so FEC can be used)."""
        return min(self.max_delay_s, self._spread_s() + self.margin_s + self._fec_extra_s())

    def start_time(self) -> float | None:
        """When a stopped buffer should play its first slot (``None``: nothing to play)."""
        if self.playing or not self._packets:
            return None
        first = self._packets[min(self._packets)]
        # How much later than the fastest recent packet this one came: it already used
        # up that much of the wait.
        lateness = (first.arrival - first.timestamp / CLOCK_RATE) - self._fastest()
        return first.arrival + max(0.0, self.target_delay_s() - lateness)

    def pop(self, now: float) -> Playout | None:
        """What to play for the slot starting at ``now``; ``None`` when the spurt is over."""
        if not self.playing:
            if not self._packets:
                return None
            self.playing = True
            self._expanded = 0
            self._surplus_run = 0
            first = min(self._packets)
            # Senders that stop during silence keep their sequence numbers consecutive,
            # so a few missing just before the new spurt are its first packets, lost:
            # rebuilt (the onset of a word matters), not skipped.
            if self._next is None or not 0 <= first - self._next <= MAX_ONSET_LOSS:
                self._next = first
            self._skip_stale(now)
        assert self._next is not None
        assert self._highest is not None
        seq = self._next
        packet = self._packets.get(seq)
        if packet is not None:
            return self._play(seq, packet, now)
        if self._highest > seq:
            return self._lost(seq, now)
        # Nothing at or after the slot: wait for it, playing concealment meanwhile.
        if self._expanded >= self.max_expand or self.last_level_dbfs <= QUIET_DBFS:
            self.playing = False
            return None
        self._expanded += 1
        self.stats.concealed += 1
        return Playout(Step.CONCEAL)

    def waiting_for_next(self) -> bool:
        """Playing, and the next packet is missing with nothing after it (the next
        :meth:`pop` would conceal while waiting for it)."""
        return (
            self.playing
            and self._next is not None
            and self._next not in self._packets
            and (self._highest is None or self._highest <= self._next)
        )

    @property
    def buffered(self) -> int:
        """Packets waiting to be played."""
        return len(self._packets)

    # -- internals ---------------------------------------------------------------------

    def _play(self, seq: int, packet: _Packet, now: float) -> Playout:
        target = self.target_delay_s()
        delay = self._delay_of(packet, now)
        soft = self.last_level_dbfs <= SOFT_DBFS
        if delay < target - self.frame_s / 2 and (soft or delay < target - 2 * self.frame_s):
            # The link got rougher than the delay allows: wait one frame more, with
            # concealment now and this packet in the next slot.
            self._surplus_run = 0
            self.stats.concealed += 1
            self.stats.stretched += 1
            return Playout(Step.CONCEAL)
        skipped: list[bytes] = []
        # (A millisecond of slack: timer ticks are never exact.)
        surplus = delay - target >= self.frame_s - 0.001
        self._surplus_run = self._surplus_run + 1 if surplus else 0
        far_behind = delay - target >= LARGE_SURPLUS_FRAMES * self.frame_s
        may_trim = self._may_trim(soft)
        if delay > self.max_delay_s or (far_behind and may_trim):
            # A stall flushed a backlog (or the burst a connection starts with was played
            # as it came): catch up at once, keeping the newest frames.
            while self._delay_of(packet, now) > target and (later := self._packets.get(seq + 1)):
                skipped.append(self._take(seq).payload)
                seq, packet = seq + 1, later
            self._surplus_run = 0
        elif may_trim and seq + 1 in self._packets:
            # Every packet of the last window was a frame or more early: drop one.
            skipped.append(self._take(seq).payload)
            seq += 1
            packet = self._packets[seq]
            self._surplus_run = 0
        self.stats.dropped += len(skipped)
        self._take(seq)
        self._next = seq + 1
        self._expanded = 0
        self._since_loss += 1
        self.stats.played += 1
        return Playout(Step.PACKET, packet.payload, tuple(skipped), packet.timestamp)

    def _lost(self, seq: int, now: float) -> Playout:
        # From now on one frame more is kept (see target_delay_s), so the next loss
        # finds the following packet, and its FEC copy, already here.
        self._since_loss = 0
        self._expanded = 0
        nearest = min(self._packets)
        if nearest - seq > MAX_CONCEALED_RUN:
            # A long gap (a burst of loss, a sender that jumped its sequence numbers):
            # concealing all of it would only play guesses; go on where audio is.
            self._next = nearest
            return self._play(nearest, self._packets[nearest], now)
        self._next = seq + 1
        following = self._packets.get(seq + 1)
        if following is not None:
            self.stats.recovered += 1
            return Playout(
                Step.RECOVER, following.payload, timestamp=following.timestamp - self._frame_ticks
            )
        self.stats.concealed += 1
        return Playout(Step.CONCEAL)

    def _skip_stale(self, now: float) -> None:
        """At a spurt's start, drop packets that a stall made too late to be worth playing.

        After the spurt stopped mid-speech (nothing came for a few frames) the held-up
        packets often come all at once; the listener has heard concealment and silence
        in their place, and playing them now would only add their lateness to the delay.
        """
        assert self._next is not None
        limit = self.target_delay_s() + self.frame_s
        while (packet := self._packets.get(self._next)) is not None and (
            self._next + 1 in self._packets and self._delay_of(packet, now) > limit
        ):
            self._take(self._next)
            self._next += 1
            self.stats.dropped += 1

    def _may_trim(self, soft: bool) -> bool:
        if self._surplus_run < self._trim_window:
            return False
        return soft or self._surplus_run >= PATIENCE * self._trim_window

    def _delay_of(self, packet: _Packet, now: float) -> float:
        """How much later than the fastest recent packets would have it ``packet`` plays."""
        return now - packet.timestamp / CLOCK_RATE - self._fastest()

    def _fastest(self) -> float:
        return min(delay for _, delay, _ in self._delays)

    def _take(self, seq: int) -> _Packet:
        return self._packets.pop(seq)

    def _spread_s(self) -> float:
        """The 95th percentile of how much later than the fastest packets arrive
        (recomputed every few packets: it is asked for every slot)."""
        if self._spread_cache is None or self.stats.received - self._spread_cache[0] >= 8:
            spread = 0.0
            measured = [delay for _, delay, warm in self._delays if warm]
            if len(measured) >= 2:
                ordered = sorted(measured)
                p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
                spread = p95 - ordered[0]
            self._spread_cache = (self.stats.received, spread)
        return self._spread_cache[1]

    def _fec_extra_s(self) -> float:
        return self.frame_s if self._since_loss < self._fec_memory else 0.0

    def _extend(self, sequence: int) -> int:
        """The 16-bit sequence number as an ever-growing integer."""
        reference = self._highest if self._highest is not None else sequence
        delta = (sequence - reference) % SEQ_MOD
        if delta >= SEQ_MOD // 2:
            delta -= SEQ_MOD
        return reference + delta

    def _unwrap_ts(self, timestamp: int) -> int:
        """The 32-bit RTP timestamp as an integer that keeps growing past the wrap."""
        if self._ts_last is None:
            self._ts_last = (timestamp, 0)
        raw, extended = self._ts_last
        delta = (timestamp - raw) % TS_MOD
        if delta >= TS_MOD // 2:
            delta -= TS_MOD
        self._ts_last = (timestamp, extended + delta)
        return extended + delta
