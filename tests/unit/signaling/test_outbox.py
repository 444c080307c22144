"""The bounded outgoing queue: it counts bytes, stops at its limit, and lets go at once."""

from __future__ import annotations

from engineio import packet

from signaling.server.outbox import BoundedQueue


def message(size: int) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, data="x" * size)


async def test_bytes_are_counted_in_and_out() -> None:
    queue = BoundedQueue(limit=10_000)
    await queue.put(message(1000))
    await queue.put(message(2000))
    assert queue.bytes == 1000 + 2000 + 2 * 16

    await queue.get()

    assert queue.bytes == 2000 + 16


async def test_past_the_limit_nothing_more_is_queued_and_the_owner_is_told_once() -> None:
    told = []
    queue = BoundedQueue(limit=5000)
    queue.on_overflow = lambda: told.append(1)
    for _ in range(10):
        await queue.put(message(1000))

    assert queue.qsize() == 4
    assert queue.bytes <= 5000
    assert told == [1]
    await queue.put(None)  # Engine.IO's "stop the writer" always gets through
    assert queue.qsize() == 5


async def test_discard_frees_everything_and_wakes_the_writer() -> None:
    queue = BoundedQueue(limit=100_000)
    for _ in range(5):
        await queue.put(message(1000))

    queue.discard()

    assert queue.bytes == 0
    assert await queue.get() is None
    await queue.put(message(10))
    assert queue.empty()  # a dropped connection's queue stays empty
