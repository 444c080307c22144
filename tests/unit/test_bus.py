"""The central event bus: hooks first, defaults otherwise, failures to on_error."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest

from app import (
    AudioRoomEndEvent,
    AudioRoomEndReason,
    AudioRoomEvents,
    CallEndEvent,
    CallEndReason,
    CallEvents,
    CallInvitationEvents,
    DefaultAction,
    DefaultConfirmation,
    EventBus,
    HangUpConfirmationEvent,
    KitError,
    LeaveConfirmationEvent,
    MicrophoneTurnOnByOthersEvent,
    User,
)

ALICE = User("alice", "Alice")
HANG_UP = HangUpConfirmationEvent("call-1")
ENDED = CallEndEvent(CallEndReason.REMOTE_HANG_UP)


def _bus_with_errors() -> tuple[EventBus, list[KitError]]:
    errors: list[KitError] = []
    return EventBus(CallEvents(on_error=errors.append)), errors


# -- notifications -----------------------------------------------------------------------


async def test_hook_is_called_instead_of_the_default() -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.call.events.user.on_enter = lambda user: seen.append(("hook", user))
    bus.call.set_default(lambda e: e.user.on_enter, lambda user: seen.append(("default", user)))
    await bus.call.publish(lambda e: e.user.on_enter, ALICE)
    assert seen == [("hook", ALICE)]


async def test_default_runs_when_there_is_no_hook() -> None:
    bus = EventBus()
    seen: list[int] = []
    bus.audio_room.set_default(lambda e: e.seat.on_clicked, lambda index, user: seen.append(index))
    await bus.audio_room.publish(lambda e: e.seat.on_clicked, 3, None)
    bus.audio_room.set_default(lambda e: e.seat.on_clicked, None)
    await bus.audio_room.publish(lambda e: e.seat.on_clicked, 4, None)
    assert seen == [3]


async def test_nothing_happens_without_hook_or_default_but_the_event_is_recorded() -> None:
    bus = EventBus()
    await bus.call.publish(lambda e: e.audio_video.on_camera_state_changed, True)
    assert bus.fired == {"call.audio_video.on_camera_state_changed"}


async def test_async_hook_is_awaited() -> None:
    bus = EventBus()
    seen: list[bool] = []

    async def on_microphone_state_changed(is_on: bool) -> None:
        await asyncio.sleep(0)
        seen.append(is_on)

    bus.call.events.audio_video.on_microphone_state_changed = on_microphone_state_changed
    await bus.call.publish(lambda e: e.audio_video.on_microphone_state_changed, False)
    assert seen == [False]


async def test_raising_hook_goes_to_on_error_and_the_default_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus, errors = _bus_with_errors()
    defaults: list[User] = []

    def broken(user: User) -> None:
        raise RuntimeError("boom")

    bus.call.events.user.on_leave = broken
    bus.call.set_default(lambda e: e.user.on_leave, defaults.append)
    with caplog.at_level(logging.ERROR, logger="app.kit.bus"):
        await bus.call.publish(lambda e: e.user.on_leave, ALICE)
    assert [e.code for e in errors] == [KitError.HOOK_FAILED]
    assert "call.user.on_leave raised RuntimeError: boom" in errors[0].message
    assert defaults == [ALICE]
    assert "call.user.on_leave failed" in caplog.text
    assert "call.on_error" in bus.fired


async def test_failures_go_to_the_on_error_of_their_own_kit() -> None:
    call_errors: list[KitError] = []
    invitation_errors: list[KitError] = []

    def broken() -> None:
        raise ValueError("nope")

    bus = EventBus(
        CallEvents(on_error=call_errors.append),
        CallInvitationEvents(
            on_error=invitation_errors.append, on_incoming_call_accept_button_pressed=broken
        ),
    )
    await bus.invitation.publish(lambda e: e.on_incoming_call_accept_button_pressed)
    assert call_errors == []
    assert [e.code for e in invitation_errors] == [KitError.HOOK_FAILED]


async def test_a_raising_on_error_hook_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    defaults: list[KitError] = []

    def broken_error_hook(error: KitError) -> None:
        raise RuntimeError("error hook broke")

    def broken(is_on: bool) -> None:
        raise RuntimeError("hook broke")

    bus = EventBus(CallEvents(on_error=broken_error_hook), on_default_error=defaults.append)
    bus.call.events.audio_video.on_camera_state_changed = broken
    with caplog.at_level(logging.ERROR, logger="app.kit.bus"):
        await bus.call.publish(lambda e: e.audio_video.on_camera_state_changed, True)
    assert "call.on_error failed" in caplog.text
    # As for any failed hook, the default (the toast) still shows the error.
    assert [e.code for e in defaults] == [KitError.HOOK_FAILED]


async def test_the_default_error_handler_serves_kits_without_on_error() -> None:
    shown: list[KitError] = []
    bus = EventBus(on_default_error=shown.append)
    error = KitError("server_error", "oops")
    await bus.call.publish(lambda e: e.on_error, error)
    await bus.invitation.publish(lambda e: e.on_error, error)
    await bus.audio_room.publish(lambda e: e.on_error, error)
    assert shown == [error, error, error]


async def test_a_raising_default_is_reported() -> None:
    bus, errors = _bus_with_errors()

    def broken(user: User) -> None:
        raise RuntimeError("dialog broke")

    bus.call.set_default(lambda e: e.user.on_enter, broken)
    await bus.call.publish(lambda e: e.user.on_enter, ALICE)
    assert [e.code for e in errors] == [KitError.DEFAULT_ACTION_FAILED]


async def test_publish_soon_runs_later_and_drain_waits_for_it() -> None:
    bus = EventBus()
    seen: list[bool] = []
    bus.call.events.audio_video.on_camera_state_changed = seen.append
    bus.call.publish_soon(lambda e: e.audio_video.on_camera_state_changed, True)
    assert seen == []
    await bus.drain()
    assert seen == [True]


# -- confirmations -----------------------------------------------------------------------


@pytest.mark.parametrize("answer", [True, False])
async def test_confirmation_hook_approves_or_vetoes(answer: bool) -> None:
    bus = EventBus()
    bus.call.events.on_hang_up_confirmation = lambda event, default_action: answer
    assert await bus.call.confirm(lambda e: e.on_hang_up_confirmation, HANG_UP) is answer


async def test_async_confirmation_hook() -> None:
    async def never(event: LeaveConfirmationEvent, default_action: DefaultConfirmation) -> bool:
        await asyncio.sleep(0)
        return False

    bus = EventBus(audio_room_events=AudioRoomEvents(on_leave_confirmation=never))
    event = LeaveConfirmationEvent("room-1")
    assert await bus.audio_room.confirm(lambda e: e.on_leave_confirmation, event) is False


async def test_confirmation_hook_can_call_the_default_action_once() -> None:
    bus = EventBus()
    dialogs: list[HangUpConfirmationEvent] = []

    async def dialog(event: HangUpConfirmationEvent) -> bool:
        dialogs.append(event)
        return False

    async def hook(event: HangUpConfirmationEvent, default_action: DefaultConfirmation) -> bool:
        first = await default_action()
        second = await default_action()
        return first or second

    bus.call.set_confirm_default(lambda e: e.on_hang_up_confirmation, dialog)
    bus.call.events.on_hang_up_confirmation = hook
    assert await bus.call.confirm(lambda e: e.on_hang_up_confirmation, HANG_UP) is False
    assert dialogs == [HANG_UP]


async def test_confirmation_without_hook_uses_the_default_then_otherwise() -> None:
    bus = EventBus()
    assert await bus.call.confirm(lambda e: e.on_hang_up_confirmation, HANG_UP) is True
    assert (
        await bus.call.confirm(lambda e: e.on_hang_up_confirmation, HANG_UP, otherwise=False)
        is False
    )
    bus.call.set_confirm_default(lambda e: e.on_hang_up_confirmation, lambda event: False)
    assert await bus.call.confirm(lambda e: e.on_hang_up_confirmation, HANG_UP) is False


async def test_a_broken_confirmation_hook_falls_back_to_the_default() -> None:
    bus, errors = _bus_with_errors()

    def broken(event: HangUpConfirmationEvent, default_action: DefaultConfirmation) -> bool:
        raise RuntimeError("boom")

    bus.call.events.on_hang_up_confirmation = broken
    bus.call.set_confirm_default(lambda e: e.on_hang_up_confirmation, lambda event: True)
    assert await bus.call.confirm(lambda e: e.on_hang_up_confirmation, HANG_UP) is True
    assert [e.code for e in errors] == [KitError.HOOK_FAILED]


async def test_a_confirmation_hook_returning_no_bool_is_reported() -> None:
    bus, errors = _bus_with_errors()
    hook = cast(Any, lambda event, default_action: None)  # returns None, as a careless hook might
    bus.call.events.on_hang_up_confirmation = hook
    assert (
        await bus.call.confirm(lambda e: e.on_hang_up_confirmation, HANG_UP, otherwise=False)
        is False
    )
    assert "not a bool" in errors[0].message


async def test_microphone_request_is_refused_unless_a_hook_allows_it() -> None:
    bus = EventBus()
    event = MicrophoneTurnOnByOthersEvent(requester=ALICE)
    select = lambda e: e.audio_video.on_microphone_turn_on_by_others_confirmation  # noqa: E731
    assert await bus.audio_room.ask(select, event) is False
    received: list[MicrophoneTurnOnByOthersEvent] = []

    def allow(request: MicrophoneTurnOnByOthersEvent) -> bool:
        received.append(request)
        return True

    bus.audio_room.events.audio_video.on_microphone_turn_on_by_others_confirmation = allow
    assert await bus.audio_room.ask(select, event) is True
    assert received == [event]


# -- end events --------------------------------------------------------------------------


async def test_end_without_hook_runs_the_default_with_the_event() -> None:
    bus = EventBus()
    navigated: list[CallEndEvent] = []
    bus.call.set_end_default(lambda e: e.on_call_end, navigated.append)
    await bus.call.end(lambda e: e.on_call_end, ENDED)
    assert navigated == [ENDED]


async def test_end_hook_decides_whether_the_default_runs() -> None:
    bus = EventBus()
    navigated: list[CallEndEvent] = []
    bus.call.set_end_default(lambda e: e.on_call_end, navigated.append)
    bus.call.events.on_call_end = lambda event, default_action: None
    await bus.call.end(lambda e: e.on_call_end, ENDED)
    assert navigated == []

    def twice(event: CallEndEvent, default_action: DefaultAction) -> None:
        default_action()
        default_action()

    bus.call.events.on_call_end = twice
    await bus.call.end(lambda e: e.on_call_end, ENDED)
    assert navigated == [ENDED]


async def test_a_broken_end_hook_still_leaves_the_page() -> None:
    events: list[KitError] = []
    bus = EventBus(audio_room_events=AudioRoomEvents(on_error=events.append))
    left: list[AudioRoomEndEvent] = []

    def broken(event: AudioRoomEndEvent, default_action: DefaultAction) -> None:
        raise RuntimeError("boom")

    bus.audio_room.events.on_ended = broken
    bus.audio_room.set_end_default(lambda e: e.on_ended, left.append)
    ended = AudioRoomEndEvent(AudioRoomEndReason.KICK_OUT, kicker_user_id="host")
    await bus.audio_room.end(lambda e: e.on_ended, ended)
    assert left == [ended]
    assert [e.code for e in events] == [KitError.HOOK_FAILED]


async def test_a_raising_end_default_is_reported_not_raised() -> None:
    bus, errors = _bus_with_errors()

    def broken(event: CallEndEvent) -> None:
        raise RuntimeError("navigation broke")

    bus.call.set_end_default(lambda e: e.on_call_end, broken)
    bus.call.events.on_call_end = lambda event, default_action: default_action()
    await bus.call.end(lambda e: e.on_call_end, ENDED)
    await bus.drain()
    assert [e.code for e in errors] == [KitError.DEFAULT_ACTION_FAILED]


# -- selectors, records, listeners --------------------------------------------------------


async def test_selectors_must_be_plain_hook_paths() -> None:
    bus = EventBus()
    with pytest.raises(ValueError, match=r"no hook 'user\.on_typo'"):
        await bus.call.publish(cast(Any, lambda e: e.user.on_typo))
    with pytest.raises(ValueError, match="no hook 'user'"):
        await bus.call.publish(cast(Any, lambda e: e.user))
    with pytest.raises(TypeError, match="attribute path"):
        await bus.call.publish(cast(Any, lambda e: None))


async def test_fired_and_listeners_see_every_event() -> None:
    bus = EventBus()
    heard: list[tuple[str, tuple[object, ...]]] = []
    remove = bus.add_listener(lambda path, args: heard.append((path, args)))
    await bus.audio_room.publish(lambda e: e.seat.host.on_taking_requested, ALICE)
    remove()
    remove()
    await bus.audio_room.publish(lambda e: e.seat.on_opened)
    assert heard == [("audio_room.seat.host.on_taking_requested", (ALICE,))]
    assert bus.fired == {"audio_room.seat.host.on_taking_requested", "audio_room.seat.on_opened"}
    assert bus.fired <= bus.known_paths
    assert len(bus.known_paths) == 14 + 12 + 27


async def test_a_raising_listener_does_not_disturb_dispatch() -> None:
    bus = EventBus()
    seen: list[User] = []

    def broken(path: str, args: tuple[object, ...]) -> None:
        raise RuntimeError("listener broke")

    bus.add_listener(broken)
    bus.call.events.user.on_enter = seen.append
    await bus.call.publish(lambda e: e.user.on_enter, ALICE)
    assert seen == [ALICE]


async def test_events_objects_can_be_replaced_but_not_by_another_kind() -> None:
    bus = EventBus()
    seen: list[User] = []
    bus.call.events = CallEvents()
    bus.call.events.user.on_enter = seen.append
    await bus.call.publish(lambda e: e.user.on_enter, ALICE)
    assert seen == [ALICE]
    with pytest.raises(TypeError, match="CallEvents"):
        bus.call.events = cast(Any, AudioRoomEvents())
