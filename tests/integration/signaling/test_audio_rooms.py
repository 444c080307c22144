"""Live audio rooms on a real server: roles, seats, requests to speak, invitations, host powers."""

from __future__ import annotations

import pytest

from signaling.client_events import RoomStateChanged
from signaling.enums import RoomStateChangedReason as R
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    MAX_ATTRIBUTE_VALUE_LENGTH,
    DeviceControlEvent,
    DeviceStateChangedEvent,
    KickedEvent,
    RoomSnapshot,
    SeatConfig,
    UserLeftEvent,
)
from signaling.protocol_audio import (
    SeatApplicationEndedEvent,
    SeatApplicationEvent,
    SeatChangedEvent,
    SeatInvitationEndedEvent,
    SeatInvitedEvent,
    SeatRemovedEvent,
    UserAttributesChangedEvent,
)
from signaling.server.app import RunningServer
from tests.support.signaling import ClientFactory, RecordingClient, both_stores

ROOM = "stage"

# Also on a server keeping its state in Redis (one of several sharing it).
pytestmark = both_stores


async def stage(
    make_client: ClientFactory, *audience: str, lock: bool = False, count: int = 4
) -> tuple[RecordingClient, list[RecordingClient]]:
    """``alice`` hosts a room with ``count`` seats (seat 0 reserved); the others listen."""
    alice = await make_client("alice")
    seats = SeatConfig(count=count, host_seat_indexes=[0], lock=lock)
    await alice.join_room(ROOM, "audio_room", role="host", seats=seats)
    others = []
    for user_id in audience:
        client = await make_client(user_id)
        await client.join_room(ROOM, "audio_room")
        others.append(client)
    return alice, others


def seat_at(client: RecordingClient, index: int) -> str | None:
    latest = max(client.seen_of(SeatChangedEvent), key=lambda e: e.version)
    return latest.seats[index].user_id


async def fails(code: ErrorCode, call: object) -> None:
    with pytest.raises(SignalingError) as err:
        await call  # type: ignore[misc]
    assert err.value.code is code


async def test_join_roles_snapshot_and_a_second_host(make_client: ClientFactory) -> None:
    alice, (bob,) = await stage(make_client, "bob", lock=True, count=6)
    carol = await make_client("carol")
    await fails(ErrorCode.FORBIDDEN, carol.join_room(ROOM, "audio_room", role="host"))
    assert carol.seen_of(RoomStateChanged)[-1].reason is R.LOGIN_FAILED
    snapshot = await carol.join_room(ROOM, "audio_room")
    assert snapshot.seat_map is not None
    assert snapshot.seat_map.host_id == "alice"
    assert snapshot.seat_map.cohost_id is None
    assert snapshot.seat_map.locked is True
    assert snapshot.seat_map.host_seat_indexes == [0]
    assert [s.index for s in snapshot.seat_map.seats] == list(range(6))
    assert {m.user_id for m in snapshot.members} == {"alice", "bob", "carol"}
    # Call rooms have no seats, and refuse audio-room options.
    assert (await alice.join_room("a-call")).seat_map is None
    call_as_host = {"room_id": "b-call", "kind": "call", "role": "host"}
    await fails(ErrorCode.BAD_REQUEST, bob.request("room.join", call_as_host))


async def test_take_leave_switch_and_locks(make_client: ClientFactory) -> None:
    alice, (bob, carol) = await stage(make_client, "bob", "carol")
    assert await bob.take_seat(ROOM, 2) == 2
    await alice.expect(SeatChangedEvent, lambda e: e.seats[2].user_id == "bob")
    await fails(ErrorCode.FORBIDDEN, carol.take_seat(ROOM, 0))  # the host seat
    await fails(ErrorCode.CONFLICT, carol.take_seat(ROOM, 2))  # taken
    await fails(ErrorCode.CONFLICT, bob.take_seat(ROOM, 3))  # already seated: switch
    await fails(ErrorCode.BAD_REQUEST, bob.switch_seat(ROOM, 9))  # no such seat
    assert await bob.switch_seat(ROOM, 3) == 3
    await carol.expect(SeatChangedEvent, lambda e: e.seats[3].user_id == "bob")
    assert seat_at(carol, 2) is None
    await fails(ErrorCode.FORBIDDEN, carol.lock_seats(ROOM, True, index=1))  # no powers
    await alice.lock_seats(ROOM, True, index=1)
    await fails(ErrorCode.FORBIDDEN, carol.take_seat(ROOM, 1))
    await alice.lock_seats(ROOM, True)
    await fails(ErrorCode.FORBIDDEN, carol.take_seat(ROOM, 2))
    assert await alice.take_seat(ROOM, 1) == 1  # the host ignores locks
    await bob.leave_seat(ROOM)
    event = await carol.expect(
        SeatChangedEvent, lambda e: e.seats[3].user_id is None and e.seats[1].user_id is not None
    )
    assert (event.locked, event.seats[1].locked, event.seats[1].user_id) == (True, True, "alice")
    await fails(ErrorCode.CONFLICT, bob.leave_seat(ROOM))


async def test_apply_accept_reject_cancel_seen_from_both_sides(
    make_client: ClientFactory,
) -> None:
    alice, (bob, carol) = await stage(make_client, "bob", "carol", lock=True, count=2)
    assert await bob.apply_for_seat(ROOM) == 60
    assert (await alice.expect(SeatApplicationEvent)).user.user_id == "bob"
    await fails(ErrorCode.CONFLICT, bob.apply_for_seat(ROOM))  # once is enough
    await carol.apply_for_seat(ROOM)
    await alice.expect(SeatApplicationEvent, lambda e: e.user.user_id == "carol")
    await fails(ErrorCode.FORBIDDEN, carol.accept_seat_application(ROOM, "bob"))
    assert await alice.accept_seat_application(ROOM, "bob") == 1
    for side in (alice, bob):
        ended = await side.expect(SeatApplicationEndedEvent, lambda e: e.user.user_id == "bob")
        assert (ended.reason, ended.by, ended.index) == ("accepted", "alice", 1)
    await bob.expect(SeatChangedEvent, lambda e: e.seats[1].user_id == "bob")
    # Seat 1 was the only one for the audience: carol's request stays until answered.
    await fails(ErrorCode.LIMIT_EXCEEDED, alice.accept_seat_application(ROOM, "carol"))
    await alice.reject_seat_application(ROOM, "carol")
    for side in (alice, carol):
        ended = await side.expect(SeatApplicationEndedEvent, lambda e: e.user.user_id == "carol")
        assert (ended.reason, ended.by) == ("rejected", "alice")
    await fails(ErrorCode.INVITATION_NOT_FOUND, alice.reject_seat_application(ROOM, "carol"))
    await carol.apply_for_seat(ROOM)
    await carol.cancel_seat_application(ROOM)
    cancelled = await alice.expect(SeatApplicationEndedEvent, lambda e: e.reason == "cancelled")
    assert cancelled.user.user_id == "carol"
    await fails(ErrorCode.INVITATION_NOT_FOUND, carol.cancel_seat_application(ROOM))
    await fails(ErrorCode.BAD_REQUEST, alice.apply_for_seat(ROOM))  # the host just sits


@pytest.mark.parley_server(seat_application_timeout_s=0.3)
async def test_application_times_out_for_both_sides(make_client: ClientFactory) -> None:
    alice, (bob,) = await stage(make_client, "bob", lock=True)
    assert await bob.apply_for_seat(ROOM) == 0.3
    for side in (alice, bob):
        ended = await side.expect(SeatApplicationEndedEvent)
        assert (ended.user.user_id, ended.reason, ended.by) == ("bob", "timeout", None)
    await fails(ErrorCode.INVITATION_NOT_FOUND, alice.accept_seat_application(ROOM, "bob"))


async def test_locking_or_unlocking_voids_pending_applications(
    make_client: ClientFactory,
) -> None:
    alice, (bob,) = await stage(make_client, "bob", lock=True)
    await fails(ErrorCode.NOT_IN_ROOM, (await make_client("x")).apply_for_seat(ROOM))
    await bob.apply_for_seat(ROOM)
    await alice.lock_seats(ROOM, False)
    for side in (alice, bob):
        ended = await side.expect(SeatApplicationEndedEvent)
        assert (ended.reason, ended.by) == ("lock_changed", "alice")
    # The room is open now: take a seat instead of applying.
    await fails(ErrorCode.CONFLICT, bob.apply_for_seat(ROOM))


async def test_no_host_means_no_one_to_apply_to(make_client: ClientFactory) -> None:
    bob = await make_client("bob")
    await bob.join_room(ROOM, "audio_room", seats=SeatConfig(count=2, lock=True))
    await fails(ErrorCode.USER_NOT_FOUND, bob.apply_for_seat(ROOM))


async def test_invite_accept_decline_and_delivery_failure(make_client: ClientFactory) -> None:
    alice, (bob, carol) = await stage(make_client, "bob", "carol", lock=True)
    assert await alice.invite_to_seat(ROOM, "bob") == 60
    invited = await bob.expect(SeatInvitedEvent)
    assert (invited.inviter.user_id, invited.room_id) == ("alice", ROOM)
    await fails(ErrorCode.CONFLICT, alice.invite_to_seat(ROOM, "bob"))  # already invited
    index = await bob.accept_seat_invitation(ROOM)
    assert index == 1
    for side in (alice, bob):
        ended = await side.expect(SeatInvitationEndedEvent, lambda e: e.user.user_id == "bob")
        assert (ended.reason, ended.inviter, ended.index) == ("accepted", "alice", 1)
    await fails(ErrorCode.CONFLICT, alice.invite_to_seat(ROOM, "bob"))  # already seated
    await alice.invite_to_seat(ROOM, "carol")
    await carol.expect(SeatInvitedEvent)
    await carol.decline_seat_invitation(ROOM)
    declined = await alice.expect(SeatInvitationEndedEvent, lambda e: e.reason == "declined")
    assert declined.user.user_id == "carol"
    await fails(ErrorCode.INVITATION_NOT_FOUND, carol.accept_seat_invitation(ROOM))
    # Delivery failure: offline, or not in the room (the kit's on_taking_invitation_failed).
    await make_client("dave")
    await fails(ErrorCode.USER_NOT_FOUND, alice.invite_to_seat(ROOM, "dave"))
    await fails(ErrorCode.USER_NOT_FOUND, alice.invite_to_seat(ROOM, "nobody"))
    await fails(ErrorCode.FORBIDDEN, bob.invite_to_seat(ROOM, "carol"))


@pytest.mark.parley_server(seat_invitation_timeout_s=0.3)
async def test_invitation_times_out_for_both_sides(make_client: ClientFactory) -> None:
    alice, (bob,) = await stage(make_client, "bob")
    await alice.invite_to_seat(ROOM, "bob")
    for side in (alice, bob):
        ended = await side.expect(SeatInvitationEndedEvent)
        assert (ended.user.user_id, ended.reason) == ("bob", "timeout")


async def test_remove_mute_and_ask_to_unmute(
    server: RunningServer, make_client: ClientFactory
) -> None:
    alice, (bob, carol) = await stage(make_client, "bob", "carol")
    await bob.set_device_state(ROOM, microphone=True)
    await bob.take_seat(ROOM, 2)
    await fails(ErrorCode.FORBIDDEN, carol.mute_speaker(ROOM, "bob"))
    await fails(ErrorCode.CONFLICT, alice.mute_speaker(ROOM, "carol"))  # not a speaker
    await alice.mute_speaker(ROOM, "bob")
    control = await bob.expect(DeviceControlEvent)
    assert (control.requester.user_id, control.device, control.on) == ("alice", "microphone", False)
    await carol.expect(DeviceStateChangedEvent, lambda e: e.user_id == "bob" and not e.microphone)
    room = await server.hub.store.room(ROOM)
    assert room is not None
    assert room.members["bob"].microphone is False  # forced: the server's record says off
    await alice.ask_to_unmute(ROOM, "bob")
    ask = await bob.expect(DeviceControlEvent, lambda e: e.on)
    assert ask.requester.user_id == "alice"  # consent is the speaker's client's business
    # Plain device.control is a host power in audio rooms too.
    await fails(ErrorCode.FORBIDDEN, carol.request_device(ROOM, "bob", "microphone", on=False))
    await fails(ErrorCode.FORBIDDEN, carol.remove_from_seat(ROOM, "bob"))
    await alice.remove_from_seat(ROOM, "bob")
    removed = await bob.expect(SeatRemovedEvent)
    assert (removed.index, removed.by) == (2, "alice")
    await carol.expect(SeatChangedEvent, lambda e: e.seats[2].user_id is None)
    await fails(ErrorCode.CONFLICT, alice.remove_from_seat(ROOM, "bob"))


async def test_cohost_has_host_powers_only_while_no_host_is_present(
    make_client: ClientFactory,
) -> None:
    alice, (bob, carol) = await stage(make_client, "bob", "carol")
    await fails(ErrorCode.FORBIDDEN, bob.set_cohost(ROOM, "carol"))
    await alice.set_cohost(ROOM, "carol")
    await bob.expect(SeatChangedEvent, lambda e: e.cohost_id == "carol")
    await fails(ErrorCode.FORBIDDEN, carol.lock_seats(ROOM, True))
    await fails(ErrorCode.FORBIDDEN, carol.remove_user(ROOM, "bob"))
    assert await carol.take_seat(ROOM, 0) == 0  # but a co-host may use a host seat
    await alice.leave_room(ROOM)
    await bob.expect(SeatChangedEvent, lambda e: e.host_id is None)
    await carol.lock_seats(ROOM, True)
    await bob.expect(SeatChangedEvent, lambda e: e.locked)
    await fails(ErrorCode.FORBIDDEN, carol.set_cohost(ROOM, "bob"))  # host only
    await carol.remove_user(ROOM, "bob")
    assert (await bob.expect(KickedEvent)).kicker_id == "carol"


async def test_host_leaves_the_seat_is_freed_and_the_room_goes_on(
    make_client: ClientFactory,
) -> None:
    alice, (bob, carol) = await stage(make_client, "bob", "carol")
    await alice.take_seat(ROOM, 0)
    await bob.take_seat(ROOM, 1)
    await carol.expect(SeatChangedEvent, lambda e: e.seats[1].user_id == "bob")
    await alice.leave_room(ROOM)
    after = await carol.expect(SeatChangedEvent, lambda e: e.host_id is None)
    assert (after.seats[0].user_id, after.seats[1].user_id) == (None, "bob")
    await carol.take_seat(ROOM, 2)  # the room goes on
    await bob.leave_room(ROOM)  # a speaker leaving frees their seat too
    await carol.expect(SeatChangedEvent, lambda e: e.seats[1].user_id is None)
    dave = await make_client("dave")
    snapshot = await dave.join_room(ROOM, "audio_room", role="host")
    assert snapshot.seat_map is not None
    assert snapshot.seat_map.host_id == "dave"


async def test_a_room_left_by_its_host_and_co_host_opens_its_seats(
    make_client: ClientFactory,
) -> None:
    """Nobody is left who could let anyone speak: the locks open, requests end."""
    alice, (bob, carol) = await stage(make_client, "bob", "carol", lock=True)
    await alice.lock_seats(ROOM, True, index=2)
    await fails(ErrorCode.FORBIDDEN, carol.take_seat(ROOM, 1))  # locked: ask first
    await bob.apply_for_seat(ROOM)
    await alice.leave_room(ROOM)
    opened = await carol.expect(SeatChangedEvent, lambda e: e.host_id is None)
    assert not opened.locked
    assert not any(seat.locked for seat in opened.seats)
    ended = await bob.expect(SeatApplicationEndedEvent)
    assert (ended.user.user_id, ended.reason) == ("bob", "lock_changed")
    assert await carol.take_seat(ROOM, 1) == 1  # the room goes on, open
    assert await bob.take_seat(ROOM, 2) == 2


async def test_a_room_left_by_its_host_keeps_its_locks_for_the_co_host(
    make_client: ClientFactory,
) -> None:
    alice, (bob, carol) = await stage(make_client, "bob", "carol", lock=True)
    await alice.set_cohost(ROOM, "carol")
    await alice.leave_room(ROOM)
    after = await bob.expect(SeatChangedEvent, lambda e: e.host_id is None)
    assert (after.locked, after.cohost_id) == (True, "carol")
    await fails(ErrorCode.FORBIDDEN, bob.take_seat(ROOM, 1))
    await carol.leave_room(ROOM)  # now nobody could let bob speak
    opened = await bob.expect(SeatChangedEvent, lambda e: e.cohost_id is None)
    assert not opened.locked
    assert await bob.take_seat(ROOM, 1) == 1


async def test_kick_in_an_audio_room_needs_host_powers(make_client: ClientFactory) -> None:
    alice, (bob, carol) = await stage(make_client, "bob", "carol")
    await bob.take_seat(ROOM, 1)
    await fails(ErrorCode.FORBIDDEN, carol.remove_user(ROOM, "bob"))
    await alice.remove_user(ROOM, "bob")
    assert (await bob.expect(KickedEvent)).kicker_id == "alice"
    state = await bob.expect(RoomStateChanged, lambda e: e.reason is R.KICK_OUT)
    assert state.extended_data["kicker_user_id"] == "alice"
    await carol.expect(SeatChangedEvent, lambda e: e.seats[1].user_id is None)


async def test_leaving_ends_your_application(make_client: ClientFactory) -> None:
    alice, (bob,) = await stage(make_client, "bob", lock=True)
    await bob.apply_for_seat(ROOM)
    await bob.leave_room(ROOM)
    ended = await alice.expect(SeatApplicationEndedEvent)
    assert (ended.user.user_id, ended.reason) == ("bob", "left")


async def test_user_attributes_limits_and_broadcast(make_client: ClientFactory) -> None:
    alice, (bob,) = await stage(make_client, "bob")
    assert await bob.set_user_attributes(ROOM, {"avatar": "a.png", "mood": "ok"}) == {
        "avatar": "a.png",
        "mood": "ok",
    }
    changed = await alice.expect(UserAttributesChangedEvent)
    assert (changed.user_id, changed.attributes) == ("bob", {"avatar": "a.png", "mood": "ok"})
    assert await bob.set_user_attributes(ROOM, {"mood": ""}) == {"avatar": "a.png"}
    carol = await make_client("carol")
    members = {m.user_id: m for m in (await carol.join_room(ROOM, "audio_room")).members}
    assert members["bob"].attributes == {"avatar": "a.png"}
    too_long = "x" * (MAX_ATTRIBUTE_VALUE_LENGTH + 1)
    await fails(ErrorCode.BAD_REQUEST, bob.set_user_attributes(ROOM, {"k": too_long}))
    await fails(ErrorCode.BAD_REQUEST, bob.set_user_attributes(ROOM, {"k" * 33: "v"}))
    nine = {f"k{i}": "v" for i in range(9)}
    await fails(ErrorCode.BAD_REQUEST, bob.set_user_attributes(ROOM, nine))
    await fails(
        ErrorCode.LIMIT_EXCEEDED, bob.set_user_attributes(ROOM, {f"k{i}": "v" for i in range(8)})
    )
    assert await bob.set_user_attributes(ROOM, {f"k{i}": "v" for i in range(7)}) != {}


@pytest.mark.parley_server(rejoin_grace_s=0.2)
async def test_a_dropped_connection_frees_the_seat_after_the_grace(
    server: RunningServer, make_client: ClientFactory
) -> None:
    alice, _ = await stage(make_client)
    bob = await make_client("bob", reconnect=False)
    await bob.join_room(ROOM, "audio_room")
    await bob.take_seat(ROOM, 1)
    await alice.expect(SeatChangedEvent, lambda e: e.seats[1].user_id == "bob")
    session = await server.hub.store.session_of("bob")
    assert session is not None
    await server.hub.sio.disconnect(session.sid)
    left = await alice.expect(UserLeftEvent)
    assert (left.user.user_id, left.reason) == ("bob", "disconnected")
    await alice.expect(SeatChangedEvent, lambda e: e.seats[1].user_id is None)


async def test_a_speaker_whose_connection_drops_and_comes_back_keeps_the_seat(
    server: RunningServer, make_client: ClientFactory
) -> None:
    alice, _ = await stage(make_client)
    bob = await make_client("bob", backoff_initial_s=0.1, backoff_max_s=0.2)
    await bob.join_room(ROOM, "audio_room")
    await bob.take_seat(ROOM, 1)
    await alice.expect(SeatChangedEvent, lambda e: e.seats[1].user_id == "bob")
    session = await server.hub.store.session_of("bob")
    assert session is not None

    await server.hub.sio.disconnect(session.sid)

    back = await bob.expect(RoomStateChanged, lambda e: e.reason is R.RECONNECTED)
    assert isinstance(back.extended_data["room"], RoomSnapshot)
    assert back.extended_data["room"].seat_map is not None
    assert back.extended_data["room"].seat_map.seats[1].user_id == "bob"
    room = await server.hub.store.room(ROOM)
    assert room is not None
    assert "bob" in room.members
    assert room.audio is not None
    assert room.audio.seats[1] == "bob"
    assert alice.seen_of(UserLeftEvent) == []


async def test_a_host_who_reconnects_is_host_again(
    server: RunningServer, make_client: ClientFactory
) -> None:
    alice = await make_client("alice", backoff_initial_s=0.1, backoff_max_s=0.2)
    await alice.join_room(ROOM, "audio_room", role="host", seats=SeatConfig(count=2))
    bob = await make_client("bob")
    await bob.join_room(ROOM, "audio_room")
    session = await server.hub.store.session_of("alice")
    assert session is not None
    await server.hub.sio.disconnect(session.sid)
    back = await alice.expect(RoomStateChanged, lambda e: e.reason is R.RECONNECTED, timeout=10)
    snapshot = back.extended_data["room"]
    assert snapshot.seat_map.host_id == "alice"
    # The server kept her place meanwhile: nobody saw the room without its host.
    assert [e.host_id for e in bob.seen_of(SeatChangedEvent)] == ["alice"] * len(
        bob.seen_of(SeatChangedEvent)
    )


@pytest.mark.parley_server(rejoin_grace_s=0)
async def test_a_host_who_reconnects_to_a_new_host_stays_as_audience(
    server: RunningServer, make_client: ClientFactory
) -> None:
    # A back-off of about a second leaves carol ample time to take the host role.
    alice = await make_client("alice", backoff_initial_s=1.0, backoff_max_s=1.0)
    await alice.join_room(ROOM, "audio_room", role="host")
    carol = await make_client("carol")
    await carol.join_room(ROOM, "audio_room")
    session = await server.hub.store.session_of("alice")
    assert session is not None
    await server.hub.sio.disconnect(session.sid)
    await carol.expect(SeatChangedEvent, lambda e: e.host_id is None)
    await carol.join_room(ROOM, "audio_room", role="host")
    back = await alice.expect(RoomStateChanged, lambda e: e.reason is R.RECONNECTED, timeout=10)
    assert back.extended_data["room"].seat_map.host_id == "carol"
    assert alice.rooms == [ROOM]
