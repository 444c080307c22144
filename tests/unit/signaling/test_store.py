"""The stores' compare-and-set transitions: in memory, and in a real Redis (where two
store objects stand for two server processes racing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from signaling.enums import CallType, InvitationUserState, PresenceState
from signaling.store import (
    CallOptions,
    Invitation,
    Invitee,
    Member,
    MemoryStore,
    Session,
    Store,
)
from signaling.store_redis import RedisStore
from tests.support.redis_server import RedisServer, fresh_prefix

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


@pytest_asyncio.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    redis_server: RedisServer = request.getfixturevalue("redis_server")
    client = Redis.from_url(redis_server.url)
    yield RedisStore(client, fresh_prefix())
    await client.aclose()


async def online(store: Store, *user_ids: str) -> None:
    for user_id in user_ids:
        await store.bind_session(Session(user_id, user_id.title(), f"sid-{user_id}"))


async def test_answers_race_and_exactly_one_wins(store: Store) -> None:
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


async def test_first_states_offline_busy_received(store: Store) -> None:
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


async def test_kick_of_an_earlier_stay_leaves_a_rejoin_alone(store: Store) -> None:
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


async def test_session_replacement_and_stale_unbind(store: Store) -> None:
    assert await store.bind_session(Session("alice", "A", "sid1")) is None
    previous = await store.bind_session(Session("alice", "A", "sid2"))
    assert previous is not None
    assert previous.sid == "sid1"
    assert await store.unbind_session("alice", "sid1") is False  # the old socket going away
    session = await store.session_of("alice")
    assert session is not None
    assert session.sid == "sid2"


async def test_property_compare_and_set_and_owner_cleanup(store: Store) -> None:
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


async def test_unjoined_call_records_are_dropped_and_not_counted(store: Store) -> None:
    await store.ensure_call("c", CallOptions("alice"), 0)
    assert (await store.stats())["rooms"] == 0
    assert await store.drop_room_if_empty("c") is True
    assert await store.room("c") is None
    await store.join_room("r", "call", member("alice"), 0)
    assert await store.drop_room_if_empty("r") is False


# --- two processes sharing one Redis --------------------------------------------------


@pytest_asyncio.fixture
async def two_redis_stores(redis_server: RedisServer) -> AsyncIterator[tuple[RedisStore, ...]]:
    """Two stores on their own connections over one prefix: two servers sharing state."""
    prefix = fresh_prefix()
    clients = [Redis.from_url(redis_server.url) for _ in range(2)]
    yield tuple(RedisStore(client, prefix) for client in clients)
    for client in clients:
        await client.aclose()


async def test_answers_racing_on_two_servers_have_exactly_one_winner(
    two_redis_stores: tuple[RedisStore, RedisStore],
) -> None:
    one, two = two_redis_stores
    await online(one, "alice", "bob")
    for round_ in range(100):
        inv = invitation("bob")
        inv.invitation_id = f"inv{round_}"
        await one.create_invitation(inv)
        results = await asyncio.gather(
            one.transition_invitee(inv.invitation_id, "bob", S.ACCEPTED),
            two.transition_invitee(inv.invitation_id, "bob", S.CANCELLED),
        )
        assert len([r for r in results if r is not None]) == 1
        finished = await asyncio.gather(
            one.finish_invitation(inv.invitation_id), two.finish_invitation(inv.invitation_id)
        )
        assert sorted(finished) == [False, True]
    assert await one.invitations_of("bob") == []
    assert await two.presence_of("alice") is PresenceState.IDLE


async def test_reads_racing_writes_on_another_server_never_see_half_a_change(
    two_redis_stores: tuple[RedisStore, RedisStore],
) -> None:
    """An optimistic read can see one key before and another after a change; the store
    must notice and read again rather than fail or answer from a torn state."""
    one, two = two_redis_stores
    await online(one, "alice", "bob")

    async def invite_and_finish() -> None:
        for round_ in range(60):
            inv = invitation("bob")
            inv.invitation_id = f"torn{round_}"
            await one.create_invitation(inv)
            await one.finish_invitation(inv.invitation_id)

    async def keep_reading() -> list[object]:
        seen: list[object] = []
        while not writer.done():
            seen.append(await two.presence_of("bob"))
            seen.extend(await two.invitations_of("bob"))
        return seen

    writer = asyncio.ensure_future(invite_and_finish())
    seen = await keep_reading()
    await writer
    assert seen  # it did read while the other wrote
    assert await two.invitations_of("bob") == []


async def test_due_timers_are_claimed_by_exactly_one_server(
    two_redis_stores: tuple[RedisStore, RedisStore],
) -> None:
    one, two = two_redis_stores
    names = [f"timer{i}" for i in range(300)]
    for name in names:
        await one.schedule_timer(name, 0.0, f'{{"n": "{name}"}}')
    await one.schedule_timer("later", 10**12, "{}")
    await one.cancel_timer("timer0")
    claimed: list[list[tuple[str, str]]] = [[], []]

    async def claim(store: RedisStore, into: list[tuple[str, str]]) -> None:
        while batch := await store.claim_due_timers(1.0, 7):
            into.extend(batch)

    await asyncio.gather(claim(one, claimed[0]), claim(two, claimed[1]))
    got = [name for name, _ in claimed[0] + claimed[1]]
    assert sorted(got) == sorted(names[1:])  # each once; the cancelled and later ones not
    assert claimed[0]
    assert claimed[1]
    assert dict(claimed[0] + claimed[1])["timer5"] == '{"n": "timer5"}'


async def test_signing_out_on_one_server_holds_on_the_other(
    two_redis_stores: tuple[RedisStore, RedisStore],
) -> None:
    one, two = two_redis_stores
    await one.revoke_token("jti-1", expires_at=4e9)
    assert await two.is_revoked("alice", "jti-1", issued_at=1.0)
    assert not await two.is_revoked("alice", "jti-2", issued_at=1.0)
    await two.revoke_user("alice", issued_up_to=100.0)
    await one.revoke_user("alice", issued_up_to=50.0)  # never moves back
    assert await one.is_revoked("alice", "jti-3", issued_at=99.0)
    assert not await one.is_revoked("alice", "jti-3", issued_at=101.0)
