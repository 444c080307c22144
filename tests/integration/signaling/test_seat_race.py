"""Seat races on a real server: many real clients at once, exactly one winner, one seat map."""

from __future__ import annotations

import asyncio

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import SeatConfig
from signaling.protocol_audio import SeatChangedEvent
from signaling.server.app import RunningServer
from tests.support.signaling import ClientFactory, RecordingClient, both_stores

ROOM = "stage"

# Also on a server keeping its state in Redis (one of several sharing it).
pytestmark = both_stores


async def server_map(server: RunningServer) -> SeatChangedEvent:
    room = await server.hub.store.room(ROOM)
    assert room is not None
    assert room.audio is not None
    return SeatChangedEvent(room_id=ROOM, **room.audio.view().model_dump())


async def assert_everyone_agrees(server: RunningServer, clients: list[RecordingClient]) -> None:
    """Each client's newest seat.changed is the server's map, version and all."""
    truth = await server_map(server)
    for client in clients:
        await client.expect(SeatChangedEvent, lambda e: e.version == truth.version)
        latest = max(client.seen_of(SeatChangedEvent), key=lambda e: e.version)
        assert latest == truth


def split(results: list[object]) -> tuple[list[object], list[SignalingError]]:
    errors = [r for r in results if isinstance(r, SignalingError)]
    unexpected = [r for r in results if isinstance(r, BaseException) and r not in errors]
    assert unexpected == []
    return [r for r in results if not isinstance(r, BaseException)], errors


async def test_fifty_clients_take_one_seat_and_exactly_one_wins(
    server: RunningServer, make_client: ClientFactory
) -> None:
    clients = [await make_client(f"user{i:02d}") for i in range(50)]
    for client in clients:
        await client.join_room(ROOM, "audio_room", seats=SeatConfig(count=8))
    results = await asyncio.gather(*(c.take_seat(ROOM, 3) for c in clients), return_exceptions=True)
    won, lost = split(list(results))
    assert won == [3]
    assert len(lost) == 49
    assert {e.code for e in lost} == {ErrorCode.CONFLICT}
    truth = await server_map(server)
    winner = clients[[r == 3 for r in results].index(True)]
    assert truth.seats[3].user_id == winner.user.user_id  # type: ignore[union-attr]
    assert [s.user_id for s in truth.seats if s.user_id is not None] == [truth.seats[3].user_id]
    await assert_everyone_agrees(server, clients)


async def test_switches_racing_a_seat_lock_leave_one_consistent_map(
    server: RunningServer, make_client: ClientFactory
) -> None:
    host = await make_client("host")
    await host.join_room(ROOM, "audio_room", role="host", seats=SeatConfig(count=24))
    speakers = [await make_client(f"speaker{i:02d}") for i in range(1, 21)]
    for index, speaker in enumerate(speakers, start=1):
        await speaker.join_room(ROOM, "audio_room")
        assert await speaker.take_seat(ROOM, index) == index
    target = 22
    results = await asyncio.gather(
        *(s.switch_seat(ROOM, target) for s in speakers),
        host.lock_seats(ROOM, True, index=target),
        return_exceptions=True,
    )
    assert results[-1] is None  # the lock always succeeds
    won, lost = split(list(results[:-1]))
    assert len(won) <= 1
    assert len(won) + len(lost) == 20
    # Losers found the seat taken (a switch won first) or locked (the lock came first).
    assert {e.code for e in lost} <= {ErrorCode.CONFLICT, ErrorCode.FORBIDDEN}
    truth = await server_map(server)
    assert truth.seats[target].locked is True
    occupants = [s.user_id for s in truth.seats if s.user_id is not None]
    assert len(occupants) == len(set(occupants)) == 20  # nobody lost or doubled
    if won:
        winner = speakers[[r == target for r in results[:-1]].index(True)]
        assert truth.seats[target].user_id == winner.user.user_id  # type: ignore[union-attr]
    else:
        assert truth.seats[target].user_id is None
    await assert_everyone_agrees(server, [host, *speakers])


async def test_takes_racing_the_room_lock_leave_one_consistent_map(
    server: RunningServer, make_client: ClientFactory
) -> None:
    host = await make_client("host")
    await host.join_room(ROOM, "audio_room", role="host", seats=SeatConfig(count=8))
    audience = [await make_client(f"listener{i:02d}") for i in range(20)]
    for listener in audience:
        await listener.join_room(ROOM, "audio_room")
    results = await asyncio.gather(
        *(a.take_seat(ROOM, 5) for a in audience),
        host.lock_seats(ROOM, True),
        return_exceptions=True,
    )
    assert results[-1] is None
    won, lost = split(list(results[:-1]))
    assert len(won) <= 1
    assert {e.code for e in lost} <= {ErrorCode.CONFLICT, ErrorCode.FORBIDDEN}
    truth = await server_map(server)
    assert truth.locked is True
    assert (truth.seats[5].user_id is not None) == bool(won)
    await assert_everyone_agrees(server, [host, *audience])
