"""A tour of real calls between headless bots that fires every event of the call seed.

Each event fires where ``../shared/seeds/call-events.txt`` says it does — a bot presses
a ringing page's button, a callee answers, a device fails at the hardware edge — never
by publishing on the bus from the test. The last assertion checks the union of what the
bots' buses fired against the seed, so a hook the seed documents but no scenario reaches
(or a field missing from ``app.kit.events``) fails here.
"""

from __future__ import annotations

from app.kit.bots import Answer, Bot, SeenEvent
from app.kit.call.invitations import Phase
from app.kit.call.session import CallSession
from app.kit.config import CallInvitationConfig
from app.kit.media import MediaOptions
from app.kit.types import (
    CallEndEvent,
    CallEndReason,
    HangUpConfirmationEvent,
    InvitationUserInfo,
    KitError,
    RoomState,
)
from app.testing import BotFactory, wait_until
from media.errors import AudioRoute, DeviceExceptionType
from signaling.enums import CallType, InvitationUserState, RoomStateChangedReason
from tests.unit._seeds import parse_events, read_seed

#: The seed's root events classes, as the bus names their kits.
KITS = {"CallEvents": "call", "CallInvitationEvents": "invitation"}


def seed_paths() -> set[str]:
    """Every event of the call seed as a bus path, e.g. ``call.user.on_enter``."""
    events = parse_events(read_seed("call-events.txt"))
    return {f"{KITS[event.python_classes[0]]}.{event.python_path}" for event in events}


def args_of(bot: Bot, path: str) -> list[tuple[object, ...]]:
    return [event.args for event in bot.saw(path)]


def end_of(event: SeenEvent) -> CallEndEvent:
    end = event.args[0]
    assert isinstance(end, CallEndEvent)
    return end


def idle(bot: Bot) -> bool:
    invitations = bot.kit.invitations
    return invitations is not None and invitations.phase is Phase.IDLE


def session_of(bot: Bot) -> CallSession:
    session = bot.session
    assert session is not None
    return session


async def test_every_call_event_fires_in_a_tour(parley_bot: BotFactory) -> None:
    """One tour of scenarios that fires every hook of the call and invitation kits."""
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    carol = await parley_bot("carol", on_invited=Answer.DECLINE)
    dave = await parley_bot("dave")  # lets it ring
    quick = CallInvitationConfig(timeout_s=1)
    frank = await parley_bot("frank", invitation_config=quick)
    # Device indexes no machine has: the real capture paths fail and fall back.
    broken = MediaOptions(synthetic=False, camera_index=97, microphone=97)
    erin = await parley_bot("erin", media=broken)
    bots = (alice, bob, carol, dave, frank, erin)

    # 1. bob answers a video call (his accept button); alice drives her devices.
    call_id = await alice.call(["bob"], video=True)
    received = await bob.expect("invitation.on_incoming_call_received")
    assert received.args[:3] == (call_id, alice.user, CallType.VIDEO)
    await bob.expect("invitation.on_incoming_call_accept_button_pressed")
    accepted = await alice.expect("invitation.on_outgoing_call_accepted")
    assert accepted.args == (call_id, bob.user)
    states = (await alice.expect("invitation.on_invitation_user_state_changed")).args[0]
    assert isinstance(states, tuple)
    assert InvitationUserInfo("bob", InvitationUserState.ACCEPTED) in states
    assert (await alice.expect("call.user.on_enter")).args == (bob.user,)
    assert (await bob.expect("call.user.on_enter")).args == (alice.user,)
    logins = [state for (state,) in args_of(alice, "call.room.on_state_changed")]
    assert [s.reason for s in logins if isinstance(s, RoomState)] == [
        RoomStateChangedReason.LOGINING,
        RoomStateChangedReason.LOGINED,
    ]
    assert args_of(alice, "call.audio_video.on_camera_state_changed") == [(True,)]
    assert args_of(alice, "call.audio_video.on_microphone_state_changed") == [(True,)]

    devices = alice.kit.controller.audio_video
    await devices.switch_camera(1)  # off the front (first) camera
    await devices.switch_camera(2)  # another back camera: nothing "front" changes
    await devices.switch_camera(0)  # front again
    front = args_of(alice, "call.audio_video.on_front_facing_camera_state_changed")
    assert front == [(False,), (True,)]
    await devices.switch_audio_output(None)
    assert args_of(alice, "call.audio_video.on_audio_output_changed") == [(AudioRoute.SPEAKER,)]
    await devices.turn_microphone_on(False)
    assert args_of(alice, "call.audio_video.on_microphone_state_changed")[-1] == (False,)
    failed = await session_of(bob).chat.send("x" * 5000)  # the server refuses it
    assert failed.state.value == "failed"
    assert isinstance((await bob.expect("call.on_error")).args[0], KitError)

    assert await bob.hang_up() is True
    confirmation = (await bob.expect("call.on_hang_up_confirmation")).args[0]
    assert isinstance(confirmation, HangUpConfirmationEvent)
    assert confirmation.call_id == call_id
    assert end_of(await bob.expect("call.on_call_end")).reason is CallEndReason.LOCAL_HANG_UP
    assert (await alice.expect("call.user.on_leave")).args == (bob.user,)
    assert end_of(await alice.expect("call.on_call_end")).reason is CallEndReason.REMOTE_HANG_UP
    await wait_until(lambda: alice.session is None and bob.session is None)

    # 2. carol declines a voice call (her decline button).
    call_id = await alice.call(["carol"], video=False)
    await carol.expect("invitation.on_incoming_call_decline_button_pressed")
    declined = await alice.expect("invitation.on_outgoing_call_declined")
    assert declined.args == (call_id, carol.user, "")
    await wait_until(lambda: idle(alice))  # once the server ends the invitation

    # 3. dave lets alice's call ring: alice calls again (refused), bob finds dave busy,
    #    then alice gives up with her cancel button.
    call_id = await alice.call(["dave"], video=False)
    await dave.expect("invitation.on_incoming_call_received")
    assert await alice.call(["bob"], video=False) is None  # one ringing call at a time
    assert isinstance((await alice.expect("invitation.on_error")).args[0], KitError)
    await bob.call(["dave"], video=True)
    busy = await bob.expect("invitation.on_outgoing_call_rejected_cause_busy")
    assert busy.args[1] == dave.user
    await alice.cancel()
    await alice.expect("invitation.on_outgoing_call_cancel_button_pressed")
    canceled = await dave.expect("invitation.on_incoming_call_canceled")
    assert canceled.args == (call_id, alice.user, "")

    # 4. frank's one-second invitation to dave times out on both sides.
    call_id = await frank.call(["dave"], video=True)
    timed_out = await frank.expect("invitation.on_outgoing_call_timeout", timeout=5)
    assert timed_out.args == (call_id, (dave.user,), True)
    incoming_timeout = await dave.expect("invitation.on_incoming_call_timeout", timeout=5)
    assert incoming_timeout.args == (call_id, frank.user)

    # 5. erin's camera and microphone fail when her call starts; bob is told.
    await erin.call(["bob"], video=True)
    camera = (await erin.expect("call.audio_video.on_local_camera_exception_occurred")).args
    microphone = await erin.expect("call.audio_video.on_local_microphone_exception_occurred")
    assert isinstance(camera[0], DeviceExceptionType)
    assert isinstance(microphone.args[0], DeviceExceptionType)
    remote_camera = await bob.expect("call.audio_video.on_remote_camera_exception_occurred")
    assert remote_camera.args == (erin.user, camera[0])
    remote_microphone = await bob.expect("call.audio_video.on_remote_microphone_exception_occurred")
    assert remote_microphone.args == (erin.user, microphone.args[0])

    for bot in bots:
        await bot.bus.drain()
    fired = set().union(*(bot.bus.fired for bot in bots))
    seed = seed_paths()
    assert len(seed) == 26
    assert seed == {p for p in alice.bus.known_paths if not p.startswith("audio_room.")}
    assert seed - fired == set()
