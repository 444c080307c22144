"""Every invitation outcome, seen from the caller and from the invitees, on a real server."""

from __future__ import annotations

import asyncio

import pytest

from signaling.enums import CallType, InvitationEndReason, InvitationUserState, PresenceState
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    InvitationAcceptedEvent,
    InvitationCancelledEvent,
    InvitationDeclinedEvent,
    InvitationEndedEvent,
    InvitationReceivedEvent,
    InvitationTimeoutEvent,
    InvitationUserStateEvent,
    RoomEndedEvent,
)
from tests.support.signaling import ClientFactory, both_stores

S = InvitationUserState

# Also on a server keeping its state in Redis (one of several sharing it).
pytestmark = both_stores


async def test_accept_seen_from_both_sides(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    received = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(["bob"], CallType.VIDEO, custom_data='{"topic": "x"}')
    assert [(u.user_id, u.state) for u in sent.users] == [("bob", S.RECEIVED)]
    invitation = await received
    assert invitation.caller.user_id == "alice"
    assert invitation.caller.name == "Alice"
    assert invitation.call_type is CallType.VIDEO
    assert invitation.call_id == sent.call_id
    assert invitation.custom_data == '{"topic": "x"}'
    assert invitation.timeout_s == 60

    accepted = asyncio.ensure_future(alice.wait_for(InvitationAcceptedEvent))
    ended = asyncio.ensure_future(alice.wait_for(InvitationEndedEvent))
    assert await bob.accept_invitation(invitation.invitation_id) == sent.call_id
    assert (await accepted).callee.user_id == "bob"
    assert (await ended).reason is InvitationEndReason.ACCEPTED
    states = alice.seen_of(InvitationUserStateEvent)
    assert [(u.user_id, u.state) for e in states for u in e.users] == [("bob", S.ACCEPTED)]
    # Answering twice is refused clearly: the invitation is over.
    with pytest.raises(SignalingError) as err:
        await bob.accept_invitation(invitation.invitation_id)
    assert err.value.code is ErrorCode.INVITATION_NOT_FOUND


async def test_decline_reaches_caller_with_custom_data(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    received = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(["bob"], CallType.VOICE)
    declined = asyncio.ensure_future(alice.wait_for(InvitationDeclinedEvent))
    ended_for_bob = asyncio.ensure_future(bob.wait_for(InvitationEndedEvent))
    await bob.decline_invitation((await received).invitation_id, custom_data="later")
    event = await declined
    assert (event.callee.user_id, event.busy, event.custom_data) == ("bob", False, "later")
    assert (await ended_for_bob).reason is InvitationEndReason.DECLINED
    assert event.call_id == sent.call_id


async def test_busy_invitee_refuses_automatically_and_sees_nothing(
    make_client: ClientFactory,
) -> None:
    alice, bob, carol = (
        await make_client("alice"),
        await make_client("bob"),
        await make_client("carol"),
    )
    await bob.join_room("other-call")  # bob is in a call
    declined = asyncio.ensure_future(carol.wait_for(InvitationDeclinedEvent))
    ended = asyncio.ensure_future(carol.wait_for(InvitationEndedEvent))
    sent = await carol.send_invitation(["bob"], CallType.VIDEO)
    assert sent.users[0].state is S.REJECTED
    assert sent.users[0].extended_data == '{"reason": "busy"}'
    assert (await declined).busy is True
    assert (await ended).reason is InvitationEndReason.DECLINED
    assert bob.seen_of(InvitationReceivedEvent) == []
    # Ringing and inviting users are busy too.
    ringing = asyncio.ensure_future(alice.wait_for(InvitationReceivedEvent))
    await carol.send_invitation(["alice"], CallType.VOICE)
    await ringing
    dave = await make_client("dave")
    busy_ringing = await dave.send_invitation(["alice", "carol"], CallType.VOICE)
    assert {u.user_id: u.state for u in busy_ringing.users} == {
        "alice": S.REJECTED,
        "carol": S.REJECTED,
    }


async def test_cancel_reaches_invitee(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    received = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(["bob"], CallType.VIDEO, custom_data="c")
    invitation = await received
    cancelled = asyncio.ensure_future(bob.wait_for(InvitationCancelledEvent))
    assert await alice.cancel_invitation(sent.invitation_id, custom_data="bye") == ["bob"]
    event = await cancelled
    assert (event.caller.user_id, event.custom_data, event.caller_left) == ("alice", "bye", False)
    with pytest.raises(SignalingError) as err:
        await bob.accept_invitation(invitation.invitation_id)
    assert err.value.code is ErrorCode.INVITATION_NOT_FOUND


async def test_only_the_caller_may_cancel_and_only_invitees_answer(
    make_client: ClientFactory,
) -> None:
    alice, bob, mallory = (
        await make_client("alice"),
        await make_client("bob"),
        await make_client("mallory"),
    )
    received = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(["bob"], CallType.VIDEO)
    await received
    for attempt in (
        mallory.cancel_invitation(sent.invitation_id),
        mallory.accept_invitation(sent.invitation_id),
        mallory.decline_invitation(sent.invitation_id),
        bob.cancel_invitation(sent.invitation_id),
    ):
        with pytest.raises(SignalingError) as err:
            await attempt
        assert err.value.code is ErrorCode.FORBIDDEN
    # Nothing changed: bob can still accept.
    assert await bob.accept_invitation(sent.invitation_id) == sent.call_id


async def test_timeout_seen_from_both_sides(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    timeout_for_bob = asyncio.ensure_future(bob.wait_for(InvitationTimeoutEvent, timeout=5))
    timeout_for_alice = asyncio.ensure_future(alice.wait_for(InvitationTimeoutEvent, timeout=5))
    sent = await alice.send_invitation(["bob"], CallType.VIDEO, timeout_s=1)
    event = await timeout_for_alice
    assert [c.user_id for c in event.callees] == ["bob"]
    assert event.call_type is CallType.VIDEO
    assert (await timeout_for_bob).caller.user_id == "alice"
    ended = await alice.expect(
        InvitationEndedEvent, lambda e: e.invitation_id == sent.invitation_id
    )
    assert ended.reason is InvitationEndReason.TIMEOUT


async def test_offline_and_unknown_invitees(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    ended = asyncio.ensure_future(alice.wait_for(InvitationEndedEvent))
    sent = await alice.send_invitation(["nobody-online"], CallType.VOICE)
    assert sent.users[0].state is S.OFFLINE
    assert (await ended).reason is InvitationEndReason.DECLINED


async def test_invitee_going_offline_while_ringing(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    received = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    await alice.send_invitation(["bob"], CallType.VOICE)
    await received
    state = asyncio.ensure_future(alice.wait_for(InvitationUserStateEvent))
    await bob.close()
    assert [(u.user_id, u.state) for u in (await state).users] == [("bob", S.OFFLINE)]


async def test_caller_disconnecting_while_ringing_cancels(make_client: ClientFactory) -> None:
    alice, bob, carol = (
        await make_client("alice"),
        await make_client("bob"),
        await make_client("carol"),
    )
    got_bob = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    got_carol = asyncio.ensure_future(carol.wait_for(InvitationReceivedEvent))
    await alice.send_invitation(["bob", "carol"], CallType.VIDEO)
    await got_bob, await got_carol
    cancelled_bob = asyncio.ensure_future(bob.wait_for(InvitationCancelledEvent))
    cancelled_carol = asyncio.ensure_future(carol.wait_for(InvitationCancelledEvent))
    await alice.close()
    assert (await cancelled_bob).caller_left is True
    assert (await cancelled_carol).caller_left is True
    presence = {p.user_id: p.state for p in await bob.list_online()}
    assert presence == {"bob": PresenceState.IDLE, "carol": PresenceState.IDLE}


async def test_group_invitation_ends_only_when_all_answered(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    bob, carol, dave = (
        await make_client("bob"),
        await make_client("carol"),
        await make_client("dave"),
    )
    waits = [asyncio.ensure_future(c.wait_for(InvitationReceivedEvent)) for c in (bob, carol, dave)]
    sent = await alice.send_invitation(["bob", "carol", "dave"], CallType.VIDEO, call_id="team")
    # In a group call the caller is in the call at once.
    await alice.join_room("team")
    invitations = [await w for w in waits]
    assert {u.user_id for u in invitations[0].invitees} == {"bob", "carol", "dave"}
    await bob.decline_invitation(sent.invitation_id)
    await carol.decline_invitation(sent.invitation_id)
    assert alice.seen_of(InvitationEndedEvent) == []  # dave has not answered
    # Carol's decline reached the invitee still ringing, too.
    dave_states = await dave.expect(
        InvitationUserStateEvent, lambda e: any(u.user_id == "carol" for u in e.users)
    )
    assert dave_states.users[0].state is S.REJECTED
    ended = asyncio.ensure_future(alice.wait_for(InvitationEndedEvent))
    await dave.decline_invitation(sent.invitation_id)
    assert (await ended).reason is InvitationEndReason.DECLINED


async def test_group_with_one_accept_and_one_decline(make_client: ClientFactory) -> None:
    alice, bob, carol = (
        await make_client("alice"),
        await make_client("bob"),
        await make_client("carol"),
    )
    waits = [asyncio.ensure_future(c.wait_for(InvitationReceivedEvent)) for c in (bob, carol)]
    sent = await alice.send_invitation(["bob", "carol"], CallType.VOICE, call_id="g1")
    await asyncio.gather(*waits)
    await bob.accept_invitation(sent.invitation_id)
    assert alice.seen_of(InvitationEndedEvent) == []
    ended = asyncio.ensure_future(alice.wait_for(InvitationEndedEvent))
    await carol.decline_invitation(sent.invitation_id)
    assert (await ended).reason is InvitationEndReason.ACCEPTED
    with pytest.raises(SignalingError) as err:
        await carol.accept_invitation(sent.invitation_id)
    assert err.value.code is ErrorCode.INVITATION_NOT_FOUND


async def test_racing_answers_exactly_one_wins(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    received = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(["bob"], CallType.VOICE)
    await received
    results = await asyncio.gather(
        bob.accept_invitation(sent.invitation_id),
        alice.cancel_invitation(sent.invitation_id),
        return_exceptions=True,
    )
    accept_result, cancel_result = results
    accepted = isinstance(accept_result, str)
    cancelled = cancel_result == ["bob"]
    assert accepted != cancelled, results


async def test_invite_more_people_during_a_call(make_client: ClientFactory) -> None:
    alice, bob, carol = (
        await make_client("alice"),
        await make_client("bob"),
        await make_client("carol"),
    )
    got_bob = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    first = await alice.send_invitation(["bob"], CallType.VIDEO)
    await got_bob
    await bob.accept_invitation(first.invitation_id)
    await alice.join_room(first.call_id)
    await bob.join_room(first.call_id)
    # Bob, a member, invites carol into the same call.
    got_carol = asyncio.ensure_future(carol.wait_for(InvitationReceivedEvent))
    second = await bob.send_invitation(["carol"], CallType.VIDEO, call_id=first.call_id)
    assert second.call_id == first.call_id
    invitation = await got_carol
    assert invitation.caller.user_id == "bob"
    assert {u.user_id for u in invitation.invitees} == {"carol"}
    # Someone already in the call cannot be invited again; outsiders cannot invite into it.
    with pytest.raises(SignalingError) as err:
        await bob.send_invitation(["alice"], CallType.VIDEO, call_id=first.call_id)
    assert err.value.code is ErrorCode.BAD_REQUEST
    dave = await make_client("dave")
    with pytest.raises(SignalingError) as err:
        await dave.send_invitation(["carol"], CallType.VIDEO, call_id=first.call_id)
    assert err.value.code is ErrorCode.NOT_IN_ROOM


async def test_only_initiator_can_invite(make_client: ClientFactory) -> None:
    alice, bob, _carol = (
        await make_client("alice"),
        await make_client("bob"),
        await make_client("carol"),
    )
    got = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(
        ["bob"], CallType.VOICE, call_id="strict", only_initiator_can_invite=True
    )
    await got
    await bob.accept_invitation(sent.invitation_id)
    await alice.join_room("strict")
    await bob.join_room("strict")
    with pytest.raises(SignalingError) as err:
        await bob.send_invitation(["carol"], CallType.VOICE, call_id="strict")
    assert err.value.code is ErrorCode.FORBIDDEN
    assert (await alice.send_invitation(["carol"], CallType.VOICE, call_id="strict")).users[
        0
    ].state is S.RECEIVED


async def test_end_call_for_all_when_initiator_leaves(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    got = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(
        ["bob"], CallType.VOICE, call_id="allend", end_call_when_initiator_leaves=True
    )
    await got
    await bob.accept_invitation(sent.invitation_id)
    await alice.join_room("allend")
    await bob.join_room("allend")
    ended = asyncio.ensure_future(bob.wait_for(RoomEndedEvent))
    await alice.leave_room("allend")
    assert (await ended).reason == "initiator_left"
    assert bob.rooms == []
    assert {p.user_id: p.state for p in await bob.list_online()}["bob"] is PresenceState.IDLE


async def test_group_caller_hanging_up_cancels_pending(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    got = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    await alice.send_invitation(["bob"], CallType.VOICE, call_id="hang")
    await alice.join_room("hang")
    await got
    cancelled = asyncio.ensure_future(bob.wait_for(InvitationCancelledEvent))
    await alice.leave_room("hang")
    assert (await cancelled).caller_left is True


async def test_invitation_rings_again_on_a_new_login(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    got = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(["bob"], CallType.VOICE)
    await got
    bob2 = await make_client("bob")
    again = await bob2.expect(InvitationReceivedEvent)
    assert again.invitation_id == sent.invitation_id
    assert await bob2.accept_invitation(sent.invitation_id) == sent.call_id


async def test_presence_follows_invitations(make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    watcher = await make_client("watcher")
    assert {p.user_id for p in await watcher.subscribe_presence()} == {"alice", "bob", "watcher"}
    got = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(["bob"], CallType.VOICE)
    await got
    states = {p.user_id: p.state for p in await watcher.list_online()}
    assert states["alice"] is PresenceState.INVITING
    assert states["bob"] is PresenceState.RINGING
    await bob.accept_invitation(sent.invitation_id)
    await bob.join_room(sent.call_id)
    states = {p.user_id: p.state for p in await watcher.list_online()}
    assert states["bob"] is PresenceState.IN_CALL
    assert states["alice"] is PresenceState.IDLE
