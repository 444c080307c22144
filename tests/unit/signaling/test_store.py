"""The in-memory store's compare-and-set transitions."""

from __future__ import annotations

import asyncio

from signaling.enums import CallType, InvitationUserState, PresenceState
from signaling.store import CallOptions, Invitation, Invitee, Member, MemoryStore, Session

S = InvitationUserState


def member(user_id: str) -> Member:
    return Member(user_id, user_id.title(), False, False, 0, 0)


def invitation(*invitees: str) -> Invitation:
    return Invitation(
        invitation_id="inv",
        call_id="call",
        caller_id="alice",
        caller_name="Alice",
        call_type=CallType.VOICE,
        custom_data="",
        timeout_s=60,
        invitees={u: Invitee(u, u, S.INVITING) for u in invitees},
    )


async def online(store: MemoryStore, *user_ids: str) -> None:
    for user_id in user_ids:
        await store.bind_session(Session(user_id, user_id.title(), f"sid-{user_id}"))


async def test_answers_race_and_exactly_one_wins() -> None:
    store = MemoryStore()
    await online(store, "alice", "bob")
    await store.create_invitation(invitation("bob"))
    results = await asyncio.gather(
        store.transition_invitee("inv", "bob", S.ACCEPTED),
        store.transition_invitee("inv", "bob", S.CANCELLED),
        store.transition_invitee("inv", "bob", S.TIMEOUT),
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].state is S.ACCEPTED
    assert await store.finish_invitation("inv") is True
    assert await store.finish_invitation("inv") is False
    assert await store.transition_invitee("inv", "bob", S.REJECTED) is None


async def test_first_states_offline_busy_received() -> None:
    store = MemoryStore()
    await online(store, "alice", "bob", "carol")
    await store.join_room("c", "call", member("carol"), 0)
    inv = await store.create_invitation(invitation("bob", "carol", "dave"))
    assert inv.invitees["bob"].name == "Bob"  # the name comes from the session
    assert {u: i.state for u, i in inv.invitees.items()} == {
        "bob": S.RECEIVED,
        "carol": S.REJECTED,
        "dave": S.OFFLINE,
    }
    assert await store.presence_of("alice") is PresenceState.INVITING
    assert await store.presence_of("bob") is PresenceState.RINGING
    assert await store.presence_of("carol") is PresenceState.IN_CALL


async def test_kick_of_an_earlier_stay_leaves_a_rejoin_alone() -> None:
    store = MemoryStore()
    await store.join_room("r", "call", member("alice"), 0)
    room = await store.join_room("r", "call", member("bob"), 0)
    stale_epoch = room.members["bob"].epoch
    await store.leave_room("r", "bob")
    await store.join_room("r", "call", member("bob"), 0)
    removed, _ = await store.leave_room("r", "bob", expected_epoch=stale_epoch)
    assert removed is None
    room_now = await store.room("r")
    assert room_now is not None
    assert "bob" in room_now.members


async def test_session_replacement_and_stale_unbind() -> None:
    store = MemoryStore()
    assert await store.bind_session(Session("alice", "A", "sid1")) is None
    previous = await store.bind_session(Session("alice", "A", "sid2"))
    assert previous is not None
    assert previous.sid == "sid1"
    assert await store.unbind_session("alice", "sid1") is False  # the old socket going away
    session = await store.session_of("alice")
    assert session is not None
    assert session.sid == "sid2"


async def test_property_compare_and_set_and_owner_cleanup() -> None:
    store = MemoryStore()
    await store.join_room("r", "call", member("alice"), 0)
    await store.join_room("r", "call", member("bob"), 0)
    assert (await store.set_property("r", "k", "1", "alice", None, True, True)).applied
    lost = await store.set_property("r", "k", "2", "bob", None, True, False)
    assert (lost.applied, lost.current, lost.reason) == (False, "1", "exists")
    assert (await store.set_property("r", "k", "2", "bob", "1", False, False)).applied
    await store.set_property("r", "mine", "x", "bob", None, False, True)
    _, dropped = await store.leave_room("r", "bob")
    assert dropped == ["mine"]
    await store.leave_room("r", "alice")
    assert await store.room("r") is None  # empty rooms go, with their data


async def test_unjoined_call_records_are_dropped_and_not_counted() -> None:
    store = MemoryStore()
    await store.ensure_call("c", CallOptions("alice"), 0)
    assert (await store.stats())["rooms"] == 0
    assert await store.drop_room_if_empty("c") is True
    assert await store.room("c") is None
    await store.join_room("r", "call", member("alice"), 0)
    assert await store.drop_room_if_empty("r") is False
