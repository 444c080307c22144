"""Rooms, kicks, second logins, relay rules, device state, messages, properties, commands."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from signaling.client_events import ConnectionState, ConnectionStateChanged, RoomStateChanged
from signaling.enums import RoomStateChangedReason as R
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    MAX_HISTORY,
    DeviceControlEvent,
    DeviceExceptionEvent,
    DeviceStateChangedEvent,
    KickedEvent,
    MessageEvent,
    PropertiesChangedEvent,
    RoomCommandEvent,
    RtcSignalEvent,
    SessionKickedEvent,
    UserEnteredEvent,
    UserLeftEvent,
)
from tests.support.signaling import ClientFactory, both_stores

OFFER = {"type": "offer", "sdp": "v=0\r\n"}

# Also on a server keeping its state in Redis (one of several sharing it).
pytestmark = both_stores


def reasons(client: object, room_id: str) -> list[R]:
    seen = client.seen_of(RoomStateChanged)  # type: ignore[attr-defined]
    return [e.reason for e in seen if e.room_id == room_id]


async def test_join_leave_members_and_broadcasts(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice", "Alice A."), await make_client("bob")
    first = await alice.join_room("r1", microphone=True)
    assert [m.user_id for m in first.members] == ["alice"]
    assert first.members[0].microphone is True
    entered = asyncio.ensure_future(alice.wait_for(UserEnteredEvent))
    snap = await bob.join_room("r1", camera=True)
    assert {m.user_id for m in snap.members} == {"alice", "bob"}
    assert snap.start_time_ms == first.start_time_ms  # one clock for everyone
    event = await entered
    assert (event.member.user_id, event.member.camera) == ("bob", True)
    left = asyncio.ensure_future(alice.wait_for(UserLeftEvent))
    await bob.leave_room("r1")
    assert ((await left).user.user_id, (await left).reason) == ("bob", "left")
    assert reasons(bob, "r1") == [R.LOGINING, R.LOGINED, R.LOGOUT]
    with pytest.raises(SignalingError) as err:
        await bob.leave_room("r1")
    assert err.value.code is ErrorCode.NOT_IN_ROOM


async def test_kick_reports_kick_out_with_kicker(make_client: ClientFactory) -> None:
    alice, bob, carol = (
        await make_client("alice"),
        await make_client("bob"),
        await make_client("carol"),
    )
    for c in (alice, bob, carol):
        await c.join_room("r")
    kicked = asyncio.ensure_future(bob.wait_for(KickedEvent))
    left = asyncio.ensure_future(carol.wait_for(UserLeftEvent))
    await alice.remove_user("r", "bob")
    assert (await kicked).kicker_id == "alice"
    assert (await left).reason == "removed"
    kick_state = bob.seen_of(RoomStateChanged)[-1]
    assert kick_state.reason is R.KICK_OUT
    assert kick_state.extended_data["kicker_user_id"] == "alice"
    assert bob.rooms == []
    # bob is really out: he can no longer act in the room.
    with pytest.raises(SignalingError) as err:
        await bob.send_message("r", "hello?")
    assert err.value.code is ErrorCode.NOT_IN_ROOM
    # Removing someone not there, or from a room you are not in, is refused.
    with pytest.raises(SignalingError) as err:
        await alice.remove_user("r", "bob")
    assert err.value.code is ErrorCode.USER_NOT_FOUND
    with pytest.raises(SignalingError) as err:
        await bob.remove_user("r", "alice")
    assert err.value.code is ErrorCode.NOT_IN_ROOM


async def test_second_login_kicks_the_older_session(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.join_room("r")
    await bob.join_room("r")
    kicked = asyncio.ensure_future(alice.wait_for(SessionKickedEvent))
    left = asyncio.ensure_future(bob.wait_for(UserLeftEvent))
    alice2 = await make_client("alice")
    assert (await kicked).reason == "logged_in_elsewhere"
    assert (await left).user.user_id == "alice"
    assert reasons(alice, "r")[-1] is R.KICK_OUT
    await alice.expect(ConnectionStateChanged, lambda e: e.state is ConnectionState.KICKED)
    assert alice.state is ConnectionState.KICKED
    # The new session works and is not kicked by the old one going away.
    await alice2.join_room("r")
    await asyncio.sleep(0.2)
    assert alice2.state is ConnectionState.CONNECTED
    assert {p.user_id for p in await alice2.list_online()} == {"alice", "bob"}


async def test_relay_only_between_members(make_client: ClientFactory) -> None:
    alice, bob, eve = await make_client("alice"), await make_client("bob"), await make_client("eve")
    await alice.join_room("r")
    await bob.join_room("r")
    got = asyncio.ensure_future(bob.wait_for(RtcSignalEvent))
    await alice.send_rtc_signal("r", "bob", "offer", OFFER)
    signal = await got
    assert (signal.sender, signal.kind, signal.room_id) == ("alice", "offer", "r")
    candidate = {
        "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    got = asyncio.ensure_future(alice.wait_for(RtcSignalEvent))
    await bob.send_rtc_signal("r", "alice", "candidate", candidate)
    assert (await got).kind == "candidate"
    # eve is not in the room: she can neither send into it nor be reached through it.
    with pytest.raises(SignalingError) as err:
        await eve.send_rtc_signal("r", "bob", "offer", OFFER)
    assert err.value.code is ErrorCode.NOT_IN_ROOM
    with pytest.raises(SignalingError) as err:
        await alice.send_rtc_signal("r", "eve", "offer", OFFER)
    assert err.value.code is ErrorCode.USER_NOT_FOUND
    assert eve.seen_of(RtcSignalEvent) == []
    # A payload that does not fit the kind is a bad request.
    with pytest.raises(SignalingError) as err:
        await alice.send_rtc_signal("r", "bob", "answer", OFFER)
    assert err.value.code is ErrorCode.BAD_REQUEST


async def test_device_state_exceptions_and_control(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.join_room("r")
    await bob.join_room("r", microphone=True, camera=True)
    changed = asyncio.ensure_future(alice.wait_for(DeviceStateChangedEvent))
    await bob.set_device_state("r", camera=False)
    event = await changed
    assert (event.user_id, event.microphone, event.camera) == ("bob", True, False)
    snapshot = await make_client("carol")
    members = {m.user_id: m for m in (await snapshot.join_room("r")).members}
    assert (members["bob"].microphone, members["bob"].camera) == (True, False)

    exception = asyncio.ensure_future(alice.wait_for(DeviceExceptionEvent))
    await bob.report_device_exception("r", "camera", "device_unplugged")
    assert ((await exception).device, (await exception).exception) == ("camera", "device_unplugged")

    control = asyncio.ensure_future(bob.wait_for(DeviceControlEvent))
    await alice.request_device("r", "bob", "microphone", on=False)
    request = await control
    assert (request.requester.user_id, request.device, request.on) == ("alice", "microphone", False)
    with pytest.raises(SignalingError) as err:
        await alice.request_device("r", "nobody", "camera", on=True)
    assert err.value.code is ErrorCode.USER_NOT_FOUND


@pytest.mark.parley_server(rate_burst=1000)
async def test_messages_are_ordered_and_history_is_bounded(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.join_room("chat")
    await bob.join_room("chat")
    sent = [await alice.send_message("chat", f"m{i}") for i in range(5)]
    assert [m.message_id for m in sent] == sorted(m.message_id for m in sent)
    await bob.expect(MessageEvent, lambda e: e.message.text == "m4")
    received = [e.message.text for e in bob.seen_of(MessageEvent)]
    assert received == ["m0", "m1", "m2", "m3", "m4"]
    assert alice.seen_of(MessageEvent) == []  # the sender has the answer, not an echo
    for i in range(MAX_HISTORY + 10):
        await bob.send_message("chat", f"h{i}")
    late = await make_client("late")
    history = (await late.join_room("chat")).messages
    assert len(history) == MAX_HISTORY
    assert history[-1].text == f"h{MAX_HISTORY + 9}"
    assert history[-1].sender.user_id == "bob"
    assert all(a.message_id < b.message_id for a, b in itertools.pairwise(history))


async def test_room_properties_compare_and_set(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.join_room("p")
    await bob.join_room("p")
    changed = asyncio.ensure_future(bob.wait_for(PropertiesChangedEvent))
    await alice.set_room_property("p", "topic", "hello", if_absent=True)
    assert (await changed).updated == {"topic": "hello"}
    with pytest.raises(SignalingError) as err:
        await bob.set_room_property("p", "topic", "mine", if_absent=True)
    assert err.value.code is ErrorCode.CONFLICT
    with pytest.raises(SignalingError) as err:
        await bob.set_room_property("p", "topic", "x", expected="wrong")
    assert err.value.code is ErrorCode.CONFLICT
    await bob.set_room_property("p", "topic", "x", expected="hello")
    assert await alice.get_room_properties("p") == {"topic": "x"}
    assert await alice.delete_room_properties("p", ["topic", "missing"]) == ["topic"]
    # Properties owned with delete_on_leave go when their owner leaves.
    await bob.set_room_property("p", "bob-seat", "3", delete_on_leave=True)
    deleted = asyncio.ensure_future(
        alice.wait_for(PropertiesChangedEvent, lambda e: bool(e.deleted))
    )
    await bob.leave_room("p")
    assert (await deleted).deleted == ["bob-seat"]
    assert await alice.get_room_properties("p") == {}


async def test_room_commands(make_client: ClientFactory) -> None:
    alice, bob, carol = (
        await make_client("alice"),
        await make_client("bob"),
        await make_client("carol"),
    )
    for c in (alice, bob, carol):
        await c.join_room("cmd")
    got_bob = asyncio.ensure_future(bob.wait_for(RoomCommandEvent))
    await alice.send_room_command("cmd", '{"raise_hand": true}', to=["bob"])
    assert (await got_bob).command == '{"raise_hand": true}'
    got_all = asyncio.ensure_future(carol.wait_for(RoomCommandEvent))
    await alice.send_room_command("cmd", "all")
    assert (await got_all).sender == "alice"
    assert [e.command for e in carol.seen_of(RoomCommandEvent)] == ["all"]


async def test_room_kind_conflict_and_limits(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    await alice.join_room("audio", "audio_room")
    with pytest.raises(SignalingError) as err:
        await alice.join_room("audio", "call")
    assert err.value.code is ErrorCode.CONFLICT
    for i in range(7):
        await alice.join_room(f"extra{i}")
    with pytest.raises(SignalingError) as err:
        await alice.join_room("one-too-many")
    assert err.value.code is ErrorCode.LIMIT_EXCEEDED
    assert reasons(alice, "one-too-many") == [R.LOGINING, R.LOGIN_FAILED]
