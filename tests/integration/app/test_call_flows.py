"""Whole calls between headless bots: real server, real services, real aiortc media."""

from __future__ import annotations

import asyncio
from typing import Any

from app.kit.bots.call import Answer, Bot
from app.kit.call.invitations import Phase
from app.kit.media import MediaOptions
from app.kit.types import CallEndEvent, CallEndReason, KitError
from app.testing import BotFactory, wait_until
from media.errors import DeviceExceptionType
from media.peer_types import MediaKind, PeerState
from signaling.protocol import RoomSnapshot
from tests.support.calls import answered_call


def end_reason(bot: Bot) -> CallEndReason:
    event = bot.saw("call.on_call_end")[-1].args[0]
    assert isinstance(event, CallEndEvent)
    return event.reason


async def test_one_to_one_video_call_media_flows_and_remote_hang_up(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    call_id = await alice.call(["bob"], video=True)
    assert call_id is not None
    await alice.expect("invitation.on_outgoing_call_accepted")
    await bob.expect("invitation.on_incoming_call_received")
    await alice.expect("call.user.on_enter")
    await bob.expect("call.user.on_enter")
    a, b = alice.session, bob.session
    assert a is not None
    assert b is not None
    # Video and audio really arrive on both sides.
    await wait_until(
        lambda: a.members["bob"].video is not None and b.members["alice"].video is not None
    )
    await wait_until(lambda: "bob" in a.media.playback.keys and "alice" in b.media.playback.keys)
    await wait_until(lambda: a.media.playback.blocks_played > 10)
    assert await bob.hang_up() is True
    await alice.expect("call.on_call_end")
    assert end_reason(alice) is CallEndReason.REMOTE_HANG_UP
    assert end_reason(bob) is CallEndReason.LOCAL_HANG_UP
    assert alice.session is None


async def test_declined_call_never_starts(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    await parley_bot("bob", on_invited=Answer.DECLINE)
    await alice.call(["bob"], video=False)
    await alice.expect("invitation.on_outgoing_call_declined")
    assert alice.session is None
    assert alice.saw("call.on_call_end") == []


async def test_calling_someone_offline_or_a_mistyped_id_says_so(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")

    await alice.call(["bobb"], video=False)  # nobody of that ID is signed in

    error = (await alice.expect("invitation.on_error")).args[0]
    assert isinstance(error, KitError)
    assert (error.code, error.message) == (
        "user_offline",
        "bobb is not online — check the user ID.",
    )
    assert alice.session is None
    assert alice.kit.invitations is not None
    assert alice.kit.invitations.phase is Phase.IDLE


async def test_group_call_caller_is_in_the_call_at_once(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    await parley_bot("bob", on_invited=Answer.ANSWER)
    await parley_bot("carol", on_invited=Answer.DECLINE)
    await alice.call(["bob", "carol"], video=False)
    assert alice.session is not None  # in the call while invitations ring
    await alice.expect("invitation.on_outgoing_call_declined")
    await alice.expect("call.user.on_enter")
    session = alice.session
    assert session is not None
    assert list(session.members) == ["bob"]


async def test_kick_ends_call_with_kicker(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await alice.call(["bob"], video=False)
    await alice.expect("call.user.on_enter")
    session = alice.session
    assert session is not None
    await session.remove_user("bob")
    await bob.expect("call.on_call_end")
    event = bob.saw("call.on_call_end")[-1].args[0]
    assert isinstance(event, CallEndEvent)
    assert (event.reason, event.kicker_user_id) == (CallEndReason.KICK_OUT, "alice")
    await alice.expect("call.on_call_end")
    assert end_reason(alice) is CallEndReason.REMOTE_HANG_UP


async def test_nobody_joins_the_call_is_abandoned(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice", abandon_after_s=0.5)
    await parley_bot("bob")  # ignores the call
    await parley_bot("carol")
    await alice.call(["bob", "carol"], video=False)
    session = alice.session
    assert session is not None
    await alice.expect("call.on_call_end", timeout=5)
    assert end_reason(alice) is CallEndReason.ABANDONED


async def test_outgoing_busy_timeout_and_cancel(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    carol = await parley_bot("carol")
    await carol.call(["alice"], video=False)  # alice is now ringing: busy
    await bob.call(["alice"], video=True)
    busy = await bob.expect("invitation.on_outgoing_call_rejected_cause_busy")
    assert busy.args[1] == alice.user
    await alice.decline()
    # Cancel: carol rings dave and gives up; dave sees the cancellation.
    dave = await parley_bot("dave")
    await carol.call(["dave"], video=False)
    await dave.expect("invitation.on_incoming_call_received")
    await carol.cancel()
    cancelled = await dave.expect("invitation.on_incoming_call_canceled")
    assert cancelled.args[1] == carol.user
    assert dave.kit.invitations is not None
    assert dave.kit.invitations.phase.value == "idle"


async def test_timeouts_on_both_sides(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob")
    assert alice.kit.invitations is not None
    alice.kit.invitations.config = type(alice.kit.invitations.config)(timeout_s=1)
    await alice.call(["bob"], video=True)
    outgoing = await alice.expect("invitation.on_outgoing_call_timeout", timeout=5)
    call_id, callees, is_video = outgoing.args
    assert [u.id for u in callees] == ["bob"]  # type: ignore[attr-defined]
    assert is_video is True
    incoming = await bob.expect("invitation.on_incoming_call_timeout", timeout=5)
    assert incoming.args == (call_id, alice.user)


async def test_hang_up_confirmation_can_veto(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    await parley_bot("bob", on_invited=Answer.ANSWER)
    asked: list[object] = []

    async def refuse(event: object, default_action: object) -> bool:
        asked.append(event)
        return False

    alice.bus.call.events.on_hang_up_confirmation = refuse
    await alice.call(["bob"], video=False)
    await alice.expect("call.user.on_enter")
    assert await alice.hang_up() is False
    assert len(asked) == 1
    assert alice.session is not None  # still in the call
    alice.bus.call.events.on_hang_up_confirmation = None
    assert await alice.hang_up() is True
    assert end_reason(alice) is CallEndReason.LOCAL_HANG_UP


async def test_minimized_call_ended_remotely_says_so(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await alice.call(["bob"], video=False)
    await alice.expect("call.user.on_enter")
    assert alice.kit.controller.minimize.minimize() is True
    await bob.hang_up()
    event = (await alice.expect("call.on_call_end")).args[0]
    assert isinstance(event, CallEndEvent)
    assert event.reason is CallEndReason.REMOTE_HANG_UP
    assert event.is_from_minimizing is True


async def test_camera_toggle_and_remote_device_state(parley_bot: BotFactory) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await alice.call(["bob"], video=True)
    await alice.expect("call.user.on_enter")
    await bob.expect("call.user.on_enter")
    await alice.kit.controller.audio_video.turn_camera_on(False)
    assert [e.args for e in alice.saw("call.audio_video.on_camera_state_changed")] == [
        (True,),
        (False,),
    ]
    session = bob.session
    assert session is not None
    await wait_until(lambda: session.members["alice"].camera is False)
    await alice.kit.controller.audio_video.turn_camera_on(True)
    await wait_until(lambda: session.members["alice"].camera is True)
    alice_session = alice.session
    assert alice_session is not None
    assert alice_session.media.camera_on is True


async def test_a_voice_call_sends_no_video_until_a_camera_is_turned_on(
    parley_bot: BotFactory,
) -> None:
    alice, _, a, b = await answered_call(parley_bot)
    link = a.mesh.peers["bob"]
    assert a.media.camera_on is False
    assert link.track(MediaKind.VIDEO) is None
    assert b.members["alice"].video is None
    # Turning the camera on renegotiates, and Bob gets Alice's video.
    await alice.kit.controller.audio_video.turn_camera_on(True)
    await wait_until(lambda: b.members["alice"].video is not None)
    assert link.track(MediaKind.VIDEO) is not None
    # Off again: the link stops sending video.
    await alice.kit.controller.audio_video.turn_camera_on(False)
    await wait_until(lambda: link.track(MediaKind.VIDEO) is None)


async def test_a_link_the_other_side_closed_is_made_again_while_both_stay(
    parley_bot: BotFactory,
) -> None:
    _, _, a, b = await answered_call(parley_bot)
    old = b.mesh.peers["alice"]
    await wait_until(
        lambda: (
            old.state is PeerState.CONNECTED and a.mesh.peers["bob"].state is PeerState.CONNECTED
        )
    )
    # Bob's connection closes under him, as a browser client's would (pc.close()).
    pc = old._pc
    assert pc is not None
    await pc.close()
    await wait_until(lambda: old.closed)
    # Both sides link again, and Alice's audio plays at Bob's once more.
    await wait_until(
        lambda: (
            b.mesh.peers.get("alice") not in (None, old)
            and b.mesh.peers["alice"].state is PeerState.CONNECTED
            and a.mesh.peers.get("bob") is not None
            and a.mesh.peers["bob"].state is PeerState.CONNECTED
        ),
        timeout=20,
    )
    await wait_until(lambda: "alice" in b.media.playback.keys, timeout=10)
    assert a.members["bob"].connection is PeerState.CONNECTED


async def test_local_device_failure_reaches_the_other_side(parley_bot: BotFactory) -> None:
    # A camera index no machine has: the real capture path fails and falls back.
    broken = MediaOptions(synthetic=False, camera_index=97)
    alice = await parley_bot("alice", media=broken)
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await alice.call(["bob"], video=True)
    await alice.expect("call.user.on_enter")
    local = await alice.expect("call.audio_video.on_local_camera_exception_occurred")
    assert isinstance(local.args[0], DeviceExceptionType)
    remote = await bob.expect("call.audio_video.on_remote_camera_exception_occurred")
    assert remote.args == (alice.user, local.args[0])
    # The call goes on with the synthetic picture: bob still gets video from alice.
    session = bob.session
    assert session is not None
    await wait_until(lambda: session.members["alice"].video is not None)


async def test_call_chat_delivers_and_reports_failures(parley_bot: BotFactory) -> None:
    alice, bob, a, b = await answered_call(parley_bot)
    sent = await a.chat.send("hello")
    assert sent.state.value == "success"
    await wait_until(lambda: [m.text for m in b.chat.messages] == ["hello"])
    assert b.chat.messages[0].sender == alice.user
    # A message the server refuses (too long) is FAILED and reported, not lost.
    failed = await b.chat.send("x" * 5000)
    assert failed.state.value == "failed"
    assert b.chat.messages[-1] == failed
    assert bob.saw("call.on_error")


async def test_the_call_timer_counts_from_the_answer_not_from_the_ringing(
    parley_bot: BotFactory,
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob")
    await alice.call(["bob"], video=False)
    await bob.expect("invitation.on_incoming_call_received")
    await asyncio.sleep(2.5)  # ringing
    await bob.answer()
    await alice.expect("call.user.on_enter")
    a = alice.session
    assert a is not None
    assert a.duration_s < 2  # it was counting the ringing: 2-3 s
    b = bob.session
    assert b is not None
    assert b.duration_s < 2


async def test_a_microphone_turned_off_while_joining_is_seen_off_by_the_others(
    parley_bot: BotFactory,
) -> None:
    """Nothing is reported before the join is answered: a change made meanwhile (push to
    talk muting a call as it starts) left the others showing the microphone on."""
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    client = alice.kit.client
    assert client is not None
    gate = asyncio.Event()
    joining = asyncio.Event()
    join_room = client.join_room

    async def held_join(*args: Any, **kwargs: Any) -> RoomSnapshot:
        joining.set()
        await gate.wait()
        return await join_room(*args, **kwargs)

    client.join_room = held_join  # type: ignore[method-assign]
    await alice.call(["bob"], video=False)
    await asyncio.wait_for(joining.wait(), 10)
    session = alice.session
    assert session is not None
    await session.set_microphone(False)  # while the join is on its way
    gate.set()
    await bob.expect("call.user.on_enter")
    b = bob.session
    assert b is not None
    await wait_until(lambda: "alice" in b.members and b.members["alice"].microphone is False)
    assert await bob.hang_up() is True
