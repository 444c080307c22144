"""How calls end when things go wrong — each case a bug the twin stacks once hid.

Real server, real bots, real media: a group call nobody answers, a server restart in the
middle of a call, a hang-up while the caller is still joining, and an idle user who signs
in elsewhere.
"""

from __future__ import annotations

import asyncio

from aiortc.mediastreams import MediaStreamTrack

from app.kit.bots import Answer, Bot
from app.kit.call.invitations import Phase, PhaseChanged
from app.kit.call.session import CallSession
from app.kit.types import CallEndEvent, CallEndReason, KitError, RoomState, User
from app.testing import BotFactory, TokenFactory, wait_until
from media.peer_types import PeerState
from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.client_events import RoomStateChanged
from signaling.enums import RoomStateChangedReason
from signaling.protocol import MemberInfo, RoomSnapshot, UserEnteredEvent, UserLeftEvent
from signaling.server.app import RunningServer
from signaling.wire import UserInfo
from tests.support.server_process import ServerProcess
from tests.support.signaling import TEST_SECRET


def end_of(bot: Bot) -> CallEndEvent:
    event = bot.saw("call.on_call_end")[-1].args[0]
    assert isinstance(event, CallEndEvent)
    return event


def room_states(bot: Bot) -> list[RoomStateChangedReason]:
    states = [seen.args[0] for seen in bot.saw("call.room.on_state_changed")]
    return [state.reason for state in states if isinstance(state, RoomState)]


async def test_a_group_call_everyone_declines_ends_at_the_last_decline(
    parley_bot: BotFactory,
) -> None:
    alice = await parley_bot("alice")  # the abandon timer would take 60 s
    await parley_bot("bob", on_invited=Answer.DECLINE)
    await parley_bot("carol", on_invited=Answer.DECLINE)

    await alice.call(["bob", "carol"], video=False)

    await alice.expect("invitation.on_outgoing_call_declined", count=2)
    await alice.expect("call.on_call_end", timeout=5)
    assert end_of(alice).reason is CallEndReason.ABANDONED
    assert alice.session is None


async def test_a_group_call_goes_on_while_someone_still_rings(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    await parley_bot("bob", on_invited=Answer.DECLINE)
    carol = await parley_bot("carol")  # lets it ring

    await alice.call(["bob", "carol"], video=False)
    await alice.expect("invitation.on_outgoing_call_declined")
    await carol.expect("invitation.on_incoming_call_received")
    session = alice.session
    assert session is not None
    await wait_until(lambda: session.pending_invitees == {"carol"})
    assert not alice.saw("call.on_call_end")

    await carol.answer()
    await alice.expect("call.user.on_enter")
    assert await alice.hang_up()


async def _media_flows(track: MediaStreamTrack, frames: int = 3) -> None:
    """``frames`` more frames arrive on ``track``."""
    for _ in range(frames):
        await asyncio.wait_for(track.recv(), 5)


async def test_a_call_survives_a_server_restart_and_its_media_never_stops() -> None:
    server = ServerProcess()
    port = server.port

    def bot(user_id: str, answer: Answer = Answer.IGNORE) -> Bot:
        token = mint_token(TEST_SECRET, user_id, user_id.title())
        return Bot(server.url, token, User(user_id, user_id.title()), on_invited=answer)

    alice, bob = bot("alice"), bot("bob", Answer.ANSWER)
    try:
        await alice.sign_in()
        await bob.sign_in()
        await alice.call(["bob"], video=True)
        await alice.expect("call.user.on_enter")
        await bob.expect("call.user.on_enter")
        a, b = alice.session, bob.session
        assert a is not None
        assert b is not None
        await wait_until(lambda: a.members["bob"].connection is PeerState.CONNECTED)
        link = a.mesh.peers["bob"]
        started = a.start_time_ms
        await wait_until(lambda: b.members["alice"].video is not None)
        video = b.members["alice"].video
        assert video is not None
        await _media_flows(video)

        server.kill()
        await wait_until(lambda: RoomStateChangedReason.RECONNECTING in room_states(alice))
        await _media_flows(video)  # peer to peer: the server is not in the way

        server = ServerProcess(port)
        back = RoomStateChangedReason.RECONNECTED
        await wait_until(lambda: back in room_states(alice) and back in room_states(bob), 20)
        # Both are back in the same call, each seeing the other (nobody "hung up").
        await wait_until(lambda: not a.members["bob"].away and not b.members["alice"].away, 20)
        assert not alice.saw("call.on_call_end")
        assert not bob.saw("call.on_call_end")
        assert a.mesh.peers["bob"] is link  # the same link: never rebuilt
        assert a.start_time_ms == started  # the call's clock did not restart
        await _media_flows(video)
        assert alice.saw("call.user.on_leave") == []

        assert await bob.hang_up()
        await alice.expect("call.on_call_end")
        assert end_of(alice).reason is CallEndReason.REMOTE_HANG_UP
    finally:
        await alice.close()
        await bob.close()
        server.kill()


async def test_hanging_up_while_still_joining_leaves_at_once(
    parley_bot: BotFactory, parley_server: RunningServer
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)

    def hang_up_once_joining(change: PhaseChanged) -> None:
        session = change.session
        if change.phase is Phase.IN_CALL and session is not None:
            # Runs once start() has sent the join request and waits for the answer.
            asyncio.get_running_loop().call_soon(lambda: alice.bus.spawn(_hang_up(session)))

    alice.kit.subscribe(hang_up_once_joining)
    call_id = await alice.call(["bob"], video=True)
    assert call_id is not None

    await alice.expect("call.on_call_end")
    assert end_of(alice).reason is CallEndReason.LOCAL_HANG_UP
    # Bob is not left alone in the call for the 60 s abandon timer.
    await bob.expect("call.on_call_end", timeout=10)
    assert end_of(bob).reason is CallEndReason.REMOTE_HANG_UP
    assert alice.kit.client is not None
    assert alice.kit.client.rooms == []
    assert await parley_server.hub.store.room(call_id) is None


async def _hang_up(session: CallSession) -> None:
    assert await session.hang_up(confirm=False)


async def test_joining_a_call_everyone_left_ends_it_as_a_hang_up(
    parley_bot: BotFactory,
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    call_id = await alice.call(["bob"], video=False)
    assert call_id is not None
    await bob.expect("call.user.on_enter")
    assert await alice.hang_up()
    await bob.expect("call.on_call_end")

    # A latecomer (an accept that took its time) finds the call over, not an empty room.
    assert bob.kit.client is not None
    late = CallSession(bob.kit.client, bob.bus, bob.user, call_id)
    assert not await late.start()
    assert late.end_event is not None
    assert late.end_event.reason is CallEndReason.REMOTE_HANG_UP
    assert not [seen for seen in bob.saw("call.on_error")]
    await late.close()


async def test_an_idle_user_who_signs_in_elsewhere_is_told(
    parley_bot: BotFactory, parley_server: RunningServer, parley_token: TokenFactory
) -> None:
    alice = await parley_bot("alice")
    elsewhere = SignalingClient(parley_server.url, parley_token("alice", "Alice"))
    try:
        await elsewhere.connect()
        error = (await alice.expect("invitation.on_error")).args[0]
        assert isinstance(error, KitError)
        assert error.code == "logged_in_elsewhere"
        assert alice.kit.invitations is not None
        assert alice.kit.invitations.phase is Phase.IDLE
    finally:
        await elsewhere.close()


async def test_a_call_survives_one_side_losing_its_network(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await alice.call(["bob"], video=True)
    await alice.expect("call.user.on_enter")
    a, b = alice.session, bob.session
    assert a is not None
    assert b is not None
    await wait_until(lambda: a.members["bob"].connection is PeerState.CONNECTED)
    link = a.mesh.peers["bob"]
    await wait_until(lambda: a.members["bob"].video is not None)
    video = a.members["bob"].video
    assert video is not None

    await bob.drop_connection(reconnect=True)  # a Wi-Fi blip: no goodbye

    await wait_until(lambda: RoomStateChangedReason.RECONNECTED in room_states(bob))
    await _media_flows(video)
    # The server kept bob's place: alice never saw him go, the link was never rebuilt.
    assert alice.saw("call.user.on_leave") == []
    assert not alice.saw("call.on_call_end")
    assert not bob.saw("call.on_call_end")
    assert a.mesh.peers["bob"] is link
    assert await bob.hang_up()
    await alice.expect("call.on_call_end")
    assert end_of(alice).reason is CallEndReason.REMOTE_HANG_UP


async def test_who_left_while_you_were_offline_is_gone_when_you_are_back(
    parley_bot: BotFactory,
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    carol = await parley_bot("carol", on_invited=Answer.ANSWER)
    await alice.call(["bob", "carol"], video=False)
    await bob.expect("call.user.on_enter", count=2)

    await bob.drop_connection(reconnect=True)
    # Carol hangs up while bob is away (his first retry comes after about a second).
    assert await carol.hang_up()
    await alice.expect("call.user.on_leave")

    await wait_until(lambda: RoomStateChangedReason.RECONNECTED in room_states(bob))
    # The room lived on, so carol left: she is not kept for the 30 s rejoin grace.
    gone = await bob.expect("call.user.on_leave", timeout=5)
    assert gone.args[0] == User("carol", "Carol")
    session = bob.session
    assert session is not None
    assert set(session.members) == {"alice"}
    assert not bob.saw("call.on_call_end")


async def test_a_member_who_comes_back_while_we_rejoin_is_not_put_away(
    parley_bot: BotFactory,
) -> None:
    """After a server restart, Bob's "entered" can overtake the snapshot of our own
    re-join (taken before he was back): he must stay, not be put away by it."""
    alice = await parley_bot("alice")
    await parley_bot("bob", on_invited=Answer.ANSWER)
    call_id = await alice.call(["bob"], video=False)
    assert call_id is not None
    await alice.expect("call.user.on_enter")
    a = alice.session
    assert a is not None
    bob_info = MemberInfo(user_id="bob", name="Bob", microphone=True, camera=False, joined_at_ms=2)
    alice_info = MemberInfo(
        user_id="alice", name="Alice", microphone=True, camera=False, joined_at_ms=1
    )
    restarted = RoomSnapshot(
        room_id=call_id,
        kind="call",
        start_time_ms=a.start_time_ms + 60_000,  # a new room: the server restarted
        members=[alice_info],
        properties={},
        messages=[],
    )
    for event in (
        RoomStateChanged(call_id, RoomStateChangedReason.RECONNECTING),
        UserEnteredEvent(room_id=call_id, member=bob_info),
        RoomStateChanged(call_id, RoomStateChangedReason.RECONNECTED, 0, {"room": restarted}),
    ):
        a._on_client_event(event)
    await wait_until(lambda: not a.reconnecting)
    assert not a.members["bob"].away
    # And the reverse: one who left while we re-joined is not brought back by it.
    left = UserLeftEvent(room_id=call_id, user=UserInfo(user_id="bob", name="Bob"), reason="left")
    with_bob = RoomSnapshot(
        room_id=call_id,
        kind="call",
        start_time_ms=restarted.start_time_ms,
        members=[alice_info, bob_info],
        properties={},
        messages=[],
    )
    for later in (
        RoomStateChanged(call_id, RoomStateChangedReason.RECONNECTING),
        left,
        RoomStateChanged(call_id, RoomStateChangedReason.RECONNECTED, 0, {"room": with_bob}),
    ):
        a._on_client_event(later)
    await wait_until(lambda: "bob" not in a.members)
