"""Audio rooms between headless room bots: real server, real sessions, real aiortc audio.

Every scenario runs through the public kit (``AudioRoomKit`` and its controller) and
checks the kit events on both sides, as the audio room seed describes them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.kit.bots.audio_room import RoomBot
from app.kit.bots.call import Answer
from app.kit.events import AudioRoomAudioVideoEvents, AudioRoomEvents, DefaultAction
from app.kit.types import (
    AudioRoomEndEvent,
    AudioRoomEndReason,
    AudioRoomRole,
    LeaveConfirmationEvent,
    MessageState,
    MicrophoneTurnOnByOthersEvent,
    User,
)
from app.kit.views.audio_room import MemberRole
from app.testing import RoomBotFactory, TokenFactory, wait_until
from signaling.client import SignalingClient
from signaling.server.app import RunningServer
from tests.support.tasks import running_tasks

ROOM = "room-1"
REPO = Path(__file__).resolve().parents[3]


async def host_and(
    parley_room_bot: RoomBotFactory, *names: str, **options: object
) -> tuple[RoomBot, list[RoomBot]]:
    """A host on seat 0 of a locked room, and audience members who see them there."""
    host = await parley_room_bot("host")
    await host.join(ROOM, host=True)
    audience = []
    for name in names:
        bot = await parley_room_bot(name, **options)
        await bot.join(ROOM)
        audience.append(bot)
    for bot in (host, *audience):
        await wait_until(lambda bot=bot: bot.seats().get(0) == "host")  # type: ignore[misc]
        await wait_until(
            lambda bot=bot: len(bot.session.state.members) == 1 + len(names)  # type: ignore[misc]
        )
    return host, audience


def end_event(bot: RoomBot) -> AudioRoomEndEvent:
    event = bot.saw("audio_room.on_ended")[-1].args[0]
    assert isinstance(event, AudioRoomEndEvent)
    return event


async def test_host_joins_takes_the_host_seat_and_locks(parley_room_bot: RoomBotFactory) -> None:
    host, (bob,) = await host_and(parley_room_bot, "bob")
    view = host.session.view()
    assert view.local_role is AudioRoomRole.HOST
    assert view.locked
    assert view.can_manage
    assert view.seats[0].is_host
    assert view.seats[0].is_local
    assert view.seats[0].microphone_on
    assert len(view.seats) == 8
    assert len(view.rows) == 2
    bob_view = bob.session.view()
    assert bob_view.local_role is AudioRoomRole.AUDIENCE
    assert not bob_view.can_manage
    assert [(m.user.id, m.role) for m in bob_view.members] == [
        ("host", MemberRole.HOST),
        ("bob", MemberRole.YOU),
    ]
    changed = (await bob.expect("audio_room.seat.on_changed")).args
    assert changed[0] == {0: User("host", "Host")}
    untaken = changed[1]
    assert isinstance(untaken, list)
    assert untaken == [1, 2, 3, 4, 5, 6, 7]
    # A locked room: the audience cannot just sit down.
    assert await bob.take_seat(3) is False
    await bob.expect("audio_room.on_error")


async def test_apply_cancel_reject_accept_with_events_on_both_sides(
    parley_room_bot: RoomBotFactory,
) -> None:
    host, (bob,) = await host_and(parley_room_bot, "bob")
    # Cancel.
    assert await bob.apply()
    requested = await host.expect("audio_room.seat.host.on_taking_requested")
    assert requested.args == (User("bob", "Bob"),)
    await wait_until(lambda: host.session.view().pending_requests == 1)
    assert [m.requesting for m in host.session.view().members] == [False, True]
    assert bob.session.view().requesting
    assert await bob.cancel_apply()
    canceled = await host.expect("audio_room.seat.host.on_taking_request_canceled")
    assert canceled.args == (User("bob", "Bob"),)
    await wait_until(lambda: host.session.view().pending_requests == 0)
    # Reject.
    assert await bob.apply()
    await host.expect("audio_room.seat.host.on_taking_requested", count=2)
    assert await host.controller.seat.host.reject_taking_request("bob")
    await bob.expect("audio_room.seat.audience.on_taking_request_rejected")
    assert not bob.session.view().requesting
    # Accept: bob sits on the first free seat, his microphone opens.
    assert await bob.apply()
    await host.expect("audio_room.seat.host.on_taking_requested", count=3)
    assert await host.controller.seat.host.accept_taking_request("bob")
    await wait_until(lambda: bob.seats().get(1) == "bob" and host.seats().get(1) == "bob")
    assert bob.session.role is AudioRoomRole.SPEAKER
    await wait_until(lambda: bob.session.microphone_on)
    on_mic = await bob.expect("audio_room.audio_video.on_microphone_state_changed")
    assert on_mic.args == (True,)
    await wait_until(lambda: host.session.view().seats[1].microphone_on)
    # Leaving the seat closes the microphone again.
    assert await bob.leave_seat()
    await wait_until(lambda: not bob.session.microphone_on and 1 not in host.seats())
    assert bob.session.view().local_role is AudioRoomRole.AUDIENCE


async def test_request_and_invitation_time_out(
    parley_server: RunningServer, parley_room_bot: RoomBotFactory
) -> None:
    hub = parley_server.hub
    hub.config = dataclasses.replace(
        hub.config, seat_application_timeout_s=0.3, seat_invitation_timeout_s=0.3
    )
    host, (bob, carol) = await host_and(parley_room_bot, "bob", "carol")
    assert await bob.apply()
    await host.expect("audio_room.seat.host.on_taking_requested")
    await wait_until(lambda: host.session.view().pending_requests == 1)
    await wait_until(lambda: host.session.view().pending_requests == 0)
    await wait_until(lambda: not bob.session.view().requesting)
    assert host.saw("audio_room.seat.host.on_taking_request_canceled") == []
    assert await host.controller.seat.host.invite_to_take("carol")
    await carol.expect("audio_room.seat.audience.on_taking_invitation_received")
    assert carol.session.view().invited_by == User("host", "Host")
    await wait_until(lambda: carol.session.view().invited_by is None)
    # The invitation ended unanswered: nothing to accept any more.
    assert await carol.accept_invitation() is False
    assert host.saw("audio_room.seat.host.on_taking_invitation_rejected") == []


async def test_request_fails_without_a_host(parley_room_bot: RoomBotFactory) -> None:
    bob = await parley_room_bot("bob")
    await bob.join("empty-room")
    await wait_until(lambda: len(bob.session.view().seats) == 8)
    # Without a host and with open seats the server says "take one"; lock the room by
    # joining a host that leaves again.
    host = await parley_room_bot("host")
    await host.join("empty-room", host=True)
    await wait_until(lambda: bob.session.view().locked)
    await bob.expect("audio_room.seat.on_closed")
    assert await host.leave()
    await bob.expect("audio_room.user.on_leave")
    assert await bob.apply() is False
    await bob.expect("audio_room.seat.audience.on_taking_request_failed")


async def test_invite_accept_decline_and_failure(parley_room_bot: RoomBotFactory) -> None:
    host, (bob, carol) = await host_and(parley_room_bot, "bob", "carol")
    carol.on_seat_invitation = Answer.DECLINE
    assert await host.controller.seat.host.invite_to_take("carol")
    await carol.expect("audio_room.seat.audience.on_taking_invitation_received")
    await host.expect("audio_room.seat.host.on_taking_invitation_rejected")
    await wait_until(lambda: carol.session.view().invited_by is None)
    assert 1 not in host.seats()

    assert await host.controller.seat.host.invite_to_take("bob")
    await bob.expect("audio_room.seat.audience.on_taking_invitation_received")
    assert bob.session.view().invited_by == User("host", "Host")
    assert await bob.accept_invitation()
    await wait_until(lambda: host.seats().get(1) == "bob" and carol.seats().get(1) == "bob")
    assert bob.session.view().invited_by is None
    # Inviting someone who is not in the room cannot be delivered.
    assert await host.controller.seat.host.invite_to_take("nobody") is False
    await host.expect("audio_room.seat.host.on_taking_invitation_failed")


async def test_mute_is_forced_and_unmute_needs_consent(parley_room_bot: RoomBotFactory) -> None:
    asked: list[MicrophoneTurnOnByOthersEvent] = []

    def allow(event: MicrophoneTurnOnByOthersEvent) -> bool:
        asked.append(event)
        return True

    host = await parley_room_bot("host")
    await host.join(ROOM, host=True)
    bob = await parley_room_bot("bob", on_seat_invitation=Answer.ANSWER)
    await bob.join(ROOM)
    carol = await parley_room_bot("carol", on_seat_invitation=Answer.ANSWER)
    await carol.join(
        ROOM,
        events=AudioRoomEvents(
            audio_video=AudioRoomAudioVideoEvents(
                on_microphone_turn_on_by_others_confirmation=allow
            )
        ),
    )
    for name in ("bob", "carol"):
        await wait_until(lambda name=name: name in host.session.state.members)  # type: ignore[misc]
        assert await host.controller.seat.host.invite_to_take(name)
    await wait_until(lambda: set(host.seats().values()) == {"host", "bob", "carol"})
    await wait_until(lambda: bob.session.microphone_on and carol.session.microphone_on)

    for bot in (bob, carol):
        assert await host.controller.seat.host.mute(bot.user.id)
        off = await bot.expect("audio_room.audio_video.on_microphone_state_changed", count=2)
        assert off.args == (False,)
        assert not bot.session.microphone_on
    await wait_until(lambda: not any(s.microphone_on for s in host.session.view().seats[1:]))

    # Refused by default: bob has no hook.
    assert await host.controller.seat.host.ask_unmute("bob")
    await bob.expect("audio_room.audio_video.on_microphone_turn_on_by_others_confirmation")
    # Accepted by carol's hook.
    assert await host.controller.seat.host.ask_unmute("carol")
    await wait_until(lambda: carol.session.microphone_on)
    assert asked == [MicrophoneTurnOnByOthersEvent(User("host", "Host"))]
    assert not bob.session.microphone_on
    # Only a speaker can be muted.
    assert await bob.leave_seat()
    await wait_until(lambda: "bob" not in host.seats().values())
    assert await host.controller.seat.host.mute("bob") is False


async def test_cohost_has_powers_only_while_no_host_is_present(
    parley_room_bot: RoomBotFactory,
) -> None:
    host, (bob, carol) = await host_and(parley_room_bot, "bob", "carol")
    assert await host.controller.seat.host.set_cohost("bob")
    await wait_until(lambda: bob.session.view().local_is_cohost)
    roles = {m.user.id: m.role for m in carol.session.view().members}
    assert roles["bob"] is MemberRole.COHOST
    # While the host is here the co-host cannot lock.
    assert not bob.session.view().can_manage
    assert await bob.controller.seat.host.open() is False
    # The host leaves: the room goes on, the host seat is free, the co-host takes over.
    assert await host.leave()
    end = end_event(host)
    assert end.reason is AudioRoomEndReason.LOCAL_LEAVE
    assert end.kicker_user_id is None
    await wait_until(lambda: bob.session.state.host_id is None and 0 not in carol.seats())
    await carol.expect("audio_room.user.on_leave")
    assert bob.session.view().can_manage
    assert await bob.controller.seat.host.open()
    await carol.expect("audio_room.seat.on_opened")
    assert await carol.take_seat(2)
    await wait_until(lambda: bob.seats().get(2) == "carol")
    assert await bob.controller.seat.host.remove_speaker("carol")
    await wait_until(lambda: 2 not in carol.seats() and not carol.session.microphone_on)
    # A new host arrives: the co-host's powers end.
    await host.join(ROOM, host=True)
    await wait_until(lambda: bob.session.state.host_id == "host")
    assert not bob.session.view().can_manage
    assert await bob.controller.seat.host.close() is False


async def test_kick_ends_with_kick_out_and_the_kicker(parley_room_bot: RoomBotFactory) -> None:
    host, (bob, carol) = await host_and(parley_room_bot, "bob", "carol")
    # The audience has no host powers.
    assert await carol.controller.user.kick("bob") is False
    assert await host.controller.user.kick("bob")
    await bob.expect("audio_room.on_ended")
    event = end_event(bob)
    assert (event.reason, event.kicker_user_id) == (AudioRoomEndReason.KICK_OUT, "host")
    left = await carol.expect("audio_room.user.on_leave")
    assert left.args == (User("bob", "Bob"),)
    await wait_until(lambda: bob.kit.session is None)
    assert len(bob.saw("audio_room.on_ended")) == 1


async def test_signed_in_elsewhere_ends_with_kick_out(
    parley_server: RunningServer, parley_room_bot: RoomBotFactory, parley_token: TokenFactory
) -> None:
    _, (bob,) = await host_and(parley_room_bot, "bob")
    elsewhere = SignalingClient(parley_server.url, parley_token("bob", "Bob"))
    await elsewhere.connect()
    try:
        await bob.expect("audio_room.on_ended")
        event = end_event(bob)
        assert (event.reason, event.kicker_user_id) == (AudioRoomEndReason.KICK_OUT, None)
    finally:
        await elsewhere.close()


async def test_leave_confirmation_can_veto(parley_room_bot: RoomBotFactory) -> None:
    answers = [False, True]
    asked: list[LeaveConfirmationEvent] = []

    async def confirm(event: LeaveConfirmationEvent, default_action: object) -> bool:
        asked.append(event)
        return answers.pop(0)

    host = await parley_room_bot("host")
    await host.join(ROOM, host=True, events=AudioRoomEvents(on_leave_confirmation=confirm))
    assert await host.leave(confirm=True) is False
    assert host.saw("audio_room.on_ended") == []
    assert host.kit.session is not None
    assert await host.leave(confirm=True) is True
    assert asked[0].room_id == ROOM
    assert asked[0].dialog is not None
    assert end_event(host).reason is AudioRoomEndReason.LOCAL_LEAVE
    # Without a hook and without a default dialog, leaving is approved.
    bob = await parley_room_bot("bob")
    await bob.join(ROOM)
    assert await bob.leave(confirm=True) is True


async def test_messages_history_send_and_failed_resend(parley_room_bot: RoomBotFactory) -> None:
    host, (bob,) = await host_and(parley_room_bot, "bob")
    sent = await host.send("hello room")
    assert sent.state is MessageState.SUCCESS
    assert not sent.message_id.startswith("local-")
    local = await host.expect("audio_room.in_room_message.on_local_send")
    assert local.args[0] == sent
    await wait_until(lambda: [m.text for m in bob.session.chat.messages] == ["hello room"])
    # Too long for the server: FAILED, and a resend fails the same way, same id.
    failed = await bob.send("x" * 5000)
    assert failed.state is MessageState.FAILED
    assert failed.message_id.startswith("local-")
    again = await bob.controller.message.resend(failed.message_id)
    assert again is not None
    assert again.state is MessageState.FAILED
    assert again.message_id == failed.message_id
    assert [m.state for m in bob.session.view().messages] == [
        MessageState.SUCCESS,
        MessageState.FAILED,
    ]
    # A late joiner gets the history.
    carol = await parley_room_bot("carol")
    await carol.join(ROOM)
    assert [m.text for m in carol.session.chat.messages] == ["hello room"]


async def test_audio_flows_to_the_audience_and_from_a_new_speaker(
    parley_room_bot: RoomBotFactory,
) -> None:
    from app.kit.media import MediaOptions

    tone = MediaOptions(synthetic=True, tone_hz=440)
    host = await parley_room_bot("host", media=tone)
    await host.join(ROOM, host=True)
    bob = await parley_room_bot("bob", media=tone, on_seat_invitation=Answer.ANSWER)
    await bob.join(ROOM)
    carol = await parley_room_bot("carol", media=tone)
    await carol.join(ROOM)
    # The seated host is heard by both listeners: playback and levels.
    for bot in (bob, carol):
        await wait_until(lambda bot=bot: "host" in bot.session.media.playback.keys)  # type: ignore[misc]
        await wait_until(lambda bot=bot: bot.session.view().seats[0].is_speaking)  # type: ignore[misc]
        assert bot.session.view().seats[0].speaking_level > 0.3
    # The host sees her own ring too: the meter hears what leaves her microphone.
    await wait_until(lambda: host.session.view().seats[0].is_speaking)
    assert host.session.view().seats[0].speaking_level > 0.3
    # The audience sends nothing.
    assert "bob" not in host.session.media.playback.keys
    assert "carol" not in bob.session.media.playback.keys
    # Bob takes a seat and is heard by the host and by carol.
    await wait_until(lambda: "bob" in host.session.state.members)
    assert await host.controller.seat.host.invite_to_take("bob")
    await wait_until(lambda: bob.seats().get(1) == "bob")
    for bot in (host, carol):
        await wait_until(lambda bot=bot: "bob" in bot.session.media.playback.keys)  # type: ignore[misc]
        await wait_until(lambda bot=bot: bot.session.view().seats[1].is_speaking)  # type: ignore[misc]
    # A microphone turned off drops its own ring at once (nothing is metered then).
    assert await bob.controller.seat.speaker.turn_microphone_on(False)
    assert not bob.session.view().seats[1].is_speaking


async def test_every_audio_room_event_fires_in_a_tour(parley_room_bot: RoomBotFactory) -> None:
    """One scenario tour that fires every hook of ``AudioRoomEvents`` at least once."""
    host = await parley_room_bot("host")
    await host.join(ROOM, host=True)
    bob = await parley_room_bot("bob")
    await bob.join(ROOM)
    carol = await parley_room_bot("carol", on_seat_invitation=Answer.DECLINE)
    await carol.join(ROOM)
    bots = (host, bob, carol)
    await wait_until(lambda: len(host.session.state.members) == 3)
    hosting = host.controller.seat.host

    # Locks, requests and invitations, with their failures.
    assert await hosting.open()
    assert await hosting.close()
    await bob.expect("audio_room.seat.on_opened")
    await bob.expect("audio_room.seat.on_closed")
    assert await bob.take_seat(4) is False  # locked: on_error
    assert await bob.apply()
    assert await bob.cancel_apply()
    await host.expect("audio_room.seat.host.on_taking_request_canceled")
    assert await bob.apply()
    await host.expect("audio_room.seat.host.on_taking_requested", count=2)
    assert await hosting.reject_taking_request("bob")
    await bob.expect("audio_room.seat.audience.on_taking_request_rejected")
    assert await hosting.invite_to_take("carol")
    await host.expect("audio_room.seat.host.on_taking_invitation_rejected")
    assert await hosting.invite_to_take("nobody") is False

    # A speaker, muted and asked to unmute; devices and attributes.
    assert await hosting.invite_to_take("bob")
    await bob.expect("audio_room.seat.audience.on_taking_invitation_received")
    assert await bob.accept_invitation()
    await wait_until(lambda: host.seats().get(1) == "bob")
    assert await hosting.mute("bob")
    assert await hosting.ask_unmute("bob")
    await bob.expect("audio_room.audio_video.on_microphone_turn_on_by_others_confirmation")
    await bob.controller.room.switch_audio_output(None)
    await carol.controller.room.set_user_attributes({"badge": "gold"})
    await wait_until(lambda: host.session.state.members["carol"].attributes == {"badge": "gold"})

    # What the page reports: seat, member and message clicks.
    session = host.session
    assert await session.seat_clicked(1) is False
    carol_user = User("carol", "Carol")
    await session.member_clicked("carol")  # the page knows ids
    assert await session.member_more_pressed(carol_user) is False
    message = await host.send("welcome")
    await session.message_clicked(message.message_id)
    await session.message_long_pressed(message)
    clicked = await host.expect("audio_room.member_list.on_clicked")
    assert clicked.args == (carol_user,)
    assert (await host.expect("audio_room.in_room_message.on_clicked")).args == (message,)

    # Leaving: the host confirms (no dialog installed: approved); bob finds no host to ask.
    assert await bob.leave_seat()
    await wait_until(lambda: 1 not in host.seats())
    assert await host.leave(confirm=True)
    await bob.expect("audio_room.user.on_leave")
    assert await bob.apply() is False
    await bob.expect("audio_room.seat.audience.on_taking_request_failed")
    await bob.expect("audio_room.duration.on_update", count=2)

    for bot in bots:
        await bot.bus.drain()
    fired = set().union(*(bot.bus.fired for bot in bots))
    seed = {path for path in host.bus.known_paths if path.startswith("audio_room.")}
    assert len(seed) == 27
    assert seed - fired == set()


async def test_closing_during_a_kick_still_delivers_on_ended(
    parley_room_bot: RoomBotFactory,
) -> None:
    """An end under way (kicked) is not cut short by a close (the app quitting)."""
    import asyncio

    host, (bob,) = await host_and(parley_room_bot, "bob")
    entered, release = asyncio.Event(), asyncio.Event()
    finished: list[AudioRoomEndReason] = []

    async def on_ended(event: AudioRoomEndEvent, default_action: DefaultAction) -> None:
        entered.set()
        await release.wait()  # the app still navigating away when it is told to quit
        finished.append(event.reason)

    bob.bus.audio_room.events = AudioRoomEvents(on_ended=on_ended)
    assert await host.controller.user.kick("bob")
    await asyncio.wait_for(entered.wait(), 10)
    closing = asyncio.get_running_loop().create_task(bob.kit.close())
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.wait_for(closing, 10)
    assert finished == [AudioRoomEndReason.KICK_OUT]


async def test_closing_leaves_no_tasks_behind(parley_room_bot: RoomBotFactory) -> None:
    import asyncio

    ours = [str(REPO / part) for part in ("app", "media")]

    def our_tasks() -> list[asyncio.Task[object]]:
        # The in-process server's own tasks (engineio pings) are not the kit's.
        return running_tasks(lambda path: path.startswith(tuple(ours)))

    host, (bob,) = await host_and(parley_room_bot, "bob")
    await wait_until(lambda: "host" in bob.session.media.playback.keys)
    assert our_tasks() != []
    assert await bob.leave()
    await host.close()
    await bob.close()
    await host.close()  # idempotent
    await wait_until(lambda: our_tasks() == [])


@pytest.mark.parley_server(
    stun_uris=("stun:192.0.2.10:3478",),
    turn_uris=("turn:192.0.2.10:3478",),
    turn_secret="turn-secret",
)
async def test_a_room_uses_the_servers_ice_servers_with_fresh_turn_credentials(
    parley_room_bot: RoomBotFactory,
) -> None:
    host = await parley_room_bot("host")  # alone: no link, so nothing talks to 192.0.2.10
    await host.join(ROOM, host=True)

    stun, turn = host.session.mesh.ice_servers

    assert (stun.urls, stun.username, stun.credential) == (["stun:192.0.2.10:3478"], None, None)
    assert turn.urls == ["turn:192.0.2.10:3478"]
    assert turn.username is not None
    assert turn.username.endswith(":host")
    assert turn.credential
