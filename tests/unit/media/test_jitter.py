"""The voice jitter buffer, driven by simulated packet arrivals on an exact clock."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import pytest

from media.jitter import FRAME_S, MAX_CONCEALED_RUN, MAX_PACKETS, Playout, Step, VoiceJitterBuffer

F = FRAME_S
TICKS = 960


@dataclass
class Slot:
    time: float
    playout: Playout

    @property
    def name(self) -> str:
        """What was played: 'p7' (packet 7), 'r7' (packet 7 from FEC), 'c' (concealed)."""
        step = self.playout.step
        if step is Step.CONCEAL:
            return "c"
        n = int(self.playout.payload.split()[-1])
        return f"p{n}" if step is Step.PACKET else f"r{n - 1}"


def payload(n: int) -> bytes:
    return f"packet {n}".encode()


def simulate(
    buffer: VoiceJitterBuffer,
    arrivals: dict[int, float],
    *,
    first_seq: int = 0,
    quiet_after: int | None = None,
    pause_every: int | None = None,
    silence: tuple[int, float] | None = None,
) -> list[Slot]:
    """Push packet n (sent at n*F) at ``arrivals[n]``; pop like the receive path's clock.

    Packet n carries sequence number ``first_seq + n`` (mod 2**16) and timestamp n*960.
    ``quiet_after``: frames played from packet n >= this are reported as silence;
    ``pause_every``: every so many packets one is a soft pause between words;
    ``silence=(n, s)``: the sender stopped for ``s`` seconds before packet n (its clock,
    so the timestamps, ran on; sequence numbers did not).
    """
    events: list[tuple[float, int, int]] = [(t, 0, n) for n, t in arrivals.items()]
    heapq.heapify(events)
    slots: list[Slot] = []
    clock_running = False
    while events:
        time, kind, n = heapq.heappop(events)
        if kind == 0:
            ts = n * TICKS
            if silence is not None and n >= silence[0]:
                ts += round(silence[1] * 48_000)
            buffer.push((first_seq + n) % 65536, ts, payload(n), time)
            if not clock_running:
                start = buffer.start_time()
                if start is not None:
                    clock_running = True
                    heapq.heappush(events, (max(start, time), 1, 0))
            continue
        playout = buffer.pop(time)
        if playout is None:
            clock_running = False
            start = buffer.start_time()
            if start is not None:
                clock_running = True
                heapq.heappush(events, (max(start, time), 1, 0))
            continue
        slot = Slot(time, playout)
        slots.append(slot)
        if playout.step is not Step.CONCEAL:
            n = int(playout.payload.split()[-1])
            level = -20.0
            if pause_every is not None and n % pause_every == 0:
                level = -50.0
            if quiet_after is not None and n >= quiet_after:
                level = -90.0
            buffer.last_level_dbfs = level
        heapq.heappush(events, (time + F, 1, 0))
    return slots


def steady(
    count: int, delay: float = 0.03, jitter: dict[int, float] | None = None
) -> dict[int, float]:
    extra = jitter or {}
    return {n: n * F + delay + extra.get(n, 0.0) for n in range(count)}


def played(slots: list[Slot]) -> list[str]:
    return [slot.name for slot in slots]


def test_a_clean_stream_plays_every_packet_in_order_right_after_it_arrives() -> None:
    buffer = VoiceJitterBuffer()
    slots = simulate(buffer, steady(50), quiet_after=49)
    assert played(slots) == [f"p{n}" for n in range(50)]
    # No spread: each packet waits only the margin.
    for n, slot in enumerate(slots):
        assert slot.time - (n * F + 0.03) == pytest.approx(buffer.margin_s, abs=1e-9)
    assert buffer.stats.concealed == buffer.stats.recovered == buffer.stats.dropped == 0


def test_a_loss_while_the_next_packet_is_here_is_rebuilt_from_its_fec_copy() -> None:
    buffer = VoiceJitterBuffer()
    arrivals = steady(30)
    # A burst: packet 10 first lost, the delay then is one frame more (the FEC frame).
    del arrivals[10]
    del arrivals[20]
    slots = simulate(buffer, arrivals, quiet_after=29)
    names = played(slots)
    # The first loss is found with nothing after it buffered: concealment while waiting,
    # then packet 10 rebuilt from packet 11's FEC copy; the delay is now one frame more.
    assert names[:13] == [*(f"p{n}" for n in range(10)), "c", "r10", "p11"]
    # So packet 20's loss is found with packet 21 here: rebuilt in its own slot.
    assert "r20" in names
    assert names.index("r20") + 1 == names.index("p21")
    assert names[-1] == "p29"
    assert names.index("r20") - names.index("r10") == 10
    assert buffer.stats.recovered == 2
    assert buffer.stats.late == 0


def test_a_late_packet_is_waited_for_with_concealment_and_then_played() -> None:
    buffer = VoiceJitterBuffer()
    slots = simulate(buffer, steady(20, jitter={8: 0.015}), quiet_after=19)
    names = played(slots)
    assert names[:10] == [*(f"p{n}" for n in range(8)), "c", "p8"]
    assert [n for n in names if n.startswith("p")] == [f"p{n}" for n in range(20)]
    assert buffer.stats.late == 0


def test_a_packet_arriving_after_its_slot_was_played_is_counted_late() -> None:
    buffer = VoiceJitterBuffer()
    # Packet 5 overtaken by packets 6 and 7 and arriving after its slot.
    slots = simulate(buffer, steady(12, jitter={5: 0.1}), quiet_after=11)
    names = played(slots)
    assert "p5" not in names
    assert buffer.stats.late == 1
    assert names[-1] == "p11"


def test_the_delay_grows_for_a_rough_link_and_comes_back_down_once_it_calms() -> None:
    buffer = VoiceJitterBuffer(trim_window_s=0.4, window_s=1.0, fec_memory_s=1.0, warm_up_s=0.0)
    # A rough first second (every third packet 60 ms late), then a clean link for 3 s.
    rough = {n: 0.06 * (n % 3 == 1) for n in range(50)}
    slots = simulate(buffer, steady(200, jitter=rough), quiet_after=199, pause_every=10)
    waits = {
        slot.playout.timestamp // TICKS: slot.time - (slot.playout.timestamp // TICKS * F + 0.03)
        for slot in slots
        if slot.playout.step is Step.PACKET and slot.playout.timestamp is not None
    }
    # A few packets came too late while the delay grew; after that none was lost.
    assert buffer.stats.stretched >= 2
    assert buffer.stats.late <= 4
    assert all(n in waits for n in range(20, 50))
    assert min(waits[n] for n in range(20, 50)) >= 0.06
    # Calm again: back to the margin, by dropping the surplus frames, each right after
    # a pause between words (the packet before the dropped one was soft).
    assert buffer.stats.dropped >= 2
    assert waits[199] <= buffer.margin_s + 1e-9
    drops = [slot for slot in slots if slot.playout.skipped]
    assert drops
    for slot in drops:
        previous = slots[slots.index(slot) - 1].playout.timestamp
        assert previous is not None
        assert (previous // TICKS) % 10 == 0


def test_without_a_pause_the_delay_still_comes_down_after_a_few_seconds() -> None:
    buffer = VoiceJitterBuffer(trim_window_s=0.4, window_s=1.0, fec_memory_s=1.0, warm_up_s=0.0)
    rough = {n: 0.06 * (n % 3 == 1) for n in range(50)}
    slots = simulate(buffer, steady(400, jitter=rough), quiet_after=399)
    assert buffer.stats.dropped >= 2
    last = slots[-1]
    assert last.time - (399 * F + 0.03) <= buffer.margin_s + 1e-9


def test_a_quiet_spurt_ends_at_once_and_a_loud_one_after_a_few_concealed_frames() -> None:
    quiet = VoiceJitterBuffer()
    slots = simulate(quiet, steady(10), quiet_after=0)
    assert played(slots) == [f"p{n}" for n in range(10)]
    assert not quiet.playing

    loud = VoiceJitterBuffer(max_expand=3)
    slots = simulate(loud, steady(10))
    assert played(slots) == [*(f"p{n}" for n in range(10)), "c", "c", "c"]


def test_a_new_spurt_after_silence_starts_fresh_where_its_packets_are() -> None:
    buffer = VoiceJitterBuffer()
    arrivals = {n: n * F + 0.03 for n in range(10)}
    # The sender suppressed silence: sequence numbers go on, time jumps by 2 s.
    arrivals.update({n: n * F + 2.0 + 0.03 for n in range(10, 20)})
    slots = simulate(buffer, arrivals, quiet_after=9, silence=(10, 2.0))
    names = played(slots)
    assert names == [f"p{n}" for n in range(20)]
    assert slots[10].time >= 2.0 + 10 * F + 0.03


def test_sequence_numbers_wrap_without_a_hiccup() -> None:
    buffer = VoiceJitterBuffer()
    slots = simulate(buffer, steady(20), first_seq=65530, quiet_after=19)
    assert played(slots) == [f"p{n}" for n in range(20)]


def test_duplicates_are_ignored() -> None:
    buffer = VoiceJitterBuffer()
    buffer.push(1, 0, b"a", 0.0)
    buffer.push(1, 0, b"a", 0.001)
    assert buffer.buffered == 1
    assert buffer.stats.duplicates == 1


def test_after_a_stall_the_backlog_is_skipped_down_to_the_longest_delay() -> None:
    buffer = VoiceJitterBuffer()
    # 0.9 s of packets held up by the network arrive at once.
    arrivals = {n: n * F + 0.03 for n in range(5)}
    arrivals.update({n: 1.0 for n in range(5, 49)})
    arrivals.update({n: n * F + 0.03 for n in range(49, 80)})
    slots = simulate(buffer, arrivals, quiet_after=79)
    after = [slot for slot in slots if slot.time >= 1.0]
    first = after[0].playout.timestamp // TICKS  # type: ignore[operator]
    assert after[0].time - (first * F + 0.03) <= buffer.max_delay_s
    assert buffer.stats.dropped == first - 5 >= 15
    assert played(after) == [f"p{n}" for n in range(first, 80)]


def test_the_burst_a_connection_starts_with_does_not_raise_the_delay() -> None:
    buffer = VoiceJitterBuffer()
    # The first eight packets were queued during set-up and arrive together.
    arrivals = steady(100)
    arrivals.update({n: 0.03 + 7 * F for n in range(8)})
    slots = simulate(buffer, arrivals, quiet_after=99, pause_every=10)
    assert buffer.target_delay_s() == pytest.approx(buffer.margin_s)
    assert buffer.stats.stretched == 0
    assert slots[-1].time - (99 * F + 0.03) <= buffer.margin_s + 1e-9


def test_packets_lost_at_the_start_of_a_spurt_are_rebuilt_not_skipped() -> None:
    buffer = VoiceJitterBuffer()
    arrivals = {n: n * F + 0.03 for n in range(10)}
    # After a silence (sequence numbers go on, time jumps) the new spurt's first packet
    # is lost; the second carries its FEC copy.
    arrivals.update({n: n * F + 2.03 for n in range(11, 20)})
    slots = simulate(buffer, arrivals, quiet_after=9, silence=(10, 2.0))
    names = played(slots)
    assert names[10] == "r10"
    assert names[11:] == [f"p{n}" for n in range(11, 20)]


def test_waiting_for_next_says_when_the_next_slot_would_be_concealed_for_a_late_packet() -> None:
    buffer = VoiceJitterBuffer()
    assert not buffer.waiting_for_next()  # not playing
    buffer.push(0, 0, payload(0), 0.0)
    buffer.push(1, TICKS, payload(1), 0.02)
    assert buffer.pop(0.02) is not None
    assert not buffer.waiting_for_next()  # packet 1 is here
    assert buffer.pop(0.04) is not None
    assert buffer.waiting_for_next()  # packet 2 is due and nothing came after it
    buffer.push(3, 3 * TICKS, payload(3), 0.061)
    assert not buffer.waiting_for_next()  # packet 2 is lost: the next pop rebuilds it


def test_a_long_gap_is_skipped_not_concealed_frame_by_frame() -> None:
    buffer = VoiceJitterBuffer()
    arrivals = {n: n * F + 0.03 for n in range(10)}
    # 20 packets lost in a row (or a sender that jumped its sequence numbers).
    arrivals.update({n: n * F + 0.03 for n in range(30, 40)})
    slots = simulate(buffer, arrivals, quiet_after=39)
    names = played(slots)
    assert names[-10:] == [f"p{n}" for n in range(30, 40)]
    assert names.count("c") <= MAX_CONCEALED_RUN


def test_a_sender_far_ahead_cannot_fill_the_buffer_without_bound() -> None:
    buffer = VoiceJitterBuffer()
    for n in range(3 * MAX_PACKETS):
        buffer.push(n, n * TICKS, payload(n), 0.0)
    assert buffer.buffered == MAX_PACKETS
    assert buffer.stats.dropped == 2 * MAX_PACKETS
