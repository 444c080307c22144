"""The public kit API: events objects, value types, and their conformance to the seeds."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from enum import StrEnum
from pathlib import Path

import pytest

import app
from app.kit.events import hook_paths
from tests.unit._seeds import (
    SeedEvent,
    all_event_like_names,
    group_headings,
    parse_events,
    read_seed,
    snake,
)

REPO = Path(__file__).resolve().parents[2]
ROOTS: tuple[type, ...] = (app.CallEvents, app.CallInvitationEvents, app.AudioRoomEvents)
GROUPS: tuple[type, ...] = (
    app.CallUserEvents,
    app.CallRoomEvents,
    app.CallAudioVideoEvents,
    app.AudioRoomSeatEvents,
    app.AudioRoomSeatHostEvents,
    app.AudioRoomSeatAudienceEvents,
    app.AudioRoomUserEvents,
    app.AudioRoomRoomEvents,
    app.AudioRoomAudioVideoEvents,
    app.AudioRoomMemberListEvents,
    app.AudioRoomInRoomMessageEvents,
    app.AudioRoomDurationEvents,
)
SEEDS = ("call-events.txt", "live-audio-room-events.txt")

#: ``onXxx`` tokens in the seeds that are not events: prose in the hang-up text that
#: names the audio room's hook, and Flutter's button callback in a dialog example.
NOT_EVENTS = {
    "call-events.txt": {"onLeaveConfirmation"},
    "live-audio-room-events.txt": {"onPressed"},
}
#: Where the scraped seed contradicts itself: the example of room.onStateChanged builds
#: ``ZegoLiveAudioRoomRoomEvents`` under the key ``user``. The class name wins.
GARBLED_KEYS = {("user", "ZegoLiveAudioRoomRoomEvents")}
#: Hooks whose seed text lost its name: the audio room seed keeps "Local message sending
#: callback" but glued it to memberList.onClicked; the kit names it inRoomMessage.onLocalSend.
UNNAMED_IN_SEED = {
    (app.AudioRoomEvents, "in_room_message.on_local_send"): "Local message sending callback"
}


def _seed_events(name: str) -> list[SeedEvent]:
    return parse_events(read_seed(name))


def _resolve(root: object, dotted: str) -> object:
    target = root
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


# -- construction -------------------------------------------------------------------------


@pytest.mark.parametrize("events_type", ROOTS + GROUPS, ids=lambda t: t.__name__)
def test_every_events_class_is_constructible_with_no_arguments(events_type: type) -> None:
    events = events_type()
    for path in hook_paths(events_type):
        assert _resolve(events, path) is None, path


def test_groups_are_attributes() -> None:
    assert app.CallEvents().audio_video.on_camera_state_changed is None
    assert isinstance(app.CallEvents().user, app.CallUserEvents)
    assert isinstance(app.AudioRoomEvents().seat.host, app.AudioRoomSeatHostEvents)
    assert app.AudioRoomEvents().seat.audience.on_taking_invitation_received is None


def test_each_instance_gets_its_own_groups() -> None:
    first, second = app.CallEvents(), app.CallEvents()
    first.user.on_enter = print
    assert second.user.on_enter is None


def test_hooks_can_be_assigned_after_construction_or_passed_in() -> None:
    def on_enter(user: app.User) -> None:
        del user

    events = app.CallEvents(user=app.CallUserEvents(on_enter=on_enter))
    events.audio_video.on_microphone_state_changed = lambda is_on: None
    assert events.user.on_enter is on_enter
    assert events.audio_video.on_microphone_state_changed is not None


def test_a_misspelt_hook_fails_instead_of_being_ignored() -> None:
    events = app.CallEvents()
    with pytest.raises(AttributeError):
        events.on_eror = print  # type: ignore[attr-defined]  # the point of the test


def test_events_take_keywords_only() -> None:
    with pytest.raises(TypeError):
        app.CallEvents(print)  # type: ignore[call-arg]  # the point of the test


def test_importing_app_does_not_import_qt() -> None:
    code = (
        "import sys, app\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'PySide6', 'shiboken6'})\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


# -- conformance to the seeds -------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_event_has_its_snake_case_field_on_the_right_class(seed: str) -> None:
    events = _seed_events(seed)
    assert events, f"no events parsed from {seed}"
    for event in events:
        root_type = getattr(app, event.python_classes[0])
        assert event.python_path in hook_paths(root_type), f"{event.name} → {event.python_path}"
        root = root_type()
        group = _resolve(root, ".".join(event.group_attributes)) if event.group_attributes else root
        assert type(group).__name__ == event.python_classes[-1], event
        assert hasattr(app, event.python_classes[-1]), f"app does not export {event.chain[-1]}"


@pytest.mark.parametrize("seed", SEEDS)
def test_group_keys_in_the_seed_match_the_attribute_names(seed: str) -> None:
    for event in _seed_events(seed):
        keys = [(key, cls) for key, cls in event.chain[1:] if (key, cls) not in GARBLED_KEYS]
        for key, cls in keys:
            assert snake(key) in event.group_attributes, f"{key}({cls}) for {event.name}"
    for key, cls in group_headings(read_seed(seed)):
        attribute = snake(key)
        owner = "CallEvents" if cls.startswith("ZegoCall") else "AudioRoomEvents"
        assert type(getattr(getattr(app, owner)(), attribute)).__name__ == cls.removeprefix("Zego")


@pytest.mark.parametrize("seed", SEEDS)
def test_the_parser_missed_no_event_name(seed: str) -> None:
    text = read_seed(seed)
    parsed = {event.name for event in parse_events(text)}
    assert all_event_like_names(text) - parsed == NOT_EVENTS[seed]


@pytest.mark.parametrize("root_type", ROOTS, ids=lambda t: t.__name__)
def test_every_hook_comes_from_a_seed(root_type: type) -> None:
    seeded = {
        event.python_path
        for seed in SEEDS
        for event in _seed_events(seed)
        if event.python_classes[0] == root_type.__name__
    }
    for (owner, path), phrase in UNNAMED_IN_SEED.items():
        if owner is root_type:
            assert any(phrase in read_seed(seed) for seed in SEEDS), phrase
            seeded.add(path)
    assert set(hook_paths(root_type)) == seeded


def test_the_seeds_hold_as_many_events_as_the_api() -> None:
    counts = {root.__name__: len(hook_paths(root)) for root in ROOTS}
    assert counts == {"CallEvents": 14, "CallInvitationEvents": 12, "AudioRoomEvents": 27}


# -- docs/api.md --------------------------------------------------------------------------


def test_api_doc_maps_every_event() -> None:
    doc = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    for seed in SEEDS:
        for event in _seed_events(seed):
            assert re.search(rf"`(\w+\.)*{event.name}`", doc), event.name
            assert f"`{event.python_classes[0]}.{event.python_path}`" in doc, event.python_path
    assert "`AudioRoomEvents.in_room_message.on_local_send`" in doc


def test_api_doc_names_every_public_class_and_enum_member() -> None:
    doc = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    for name in app.__all__:
        value = getattr(app, name)
        if isinstance(value, type) and not name.startswith("_"):
            assert f"`{name}`" in doc, name
        if isinstance(value, type) and issubclass(value, StrEnum):
            for member in value:
                assert f"`{member.name}`" in doc, f"{name}.{member.name}"


# -- value types --------------------------------------------------------------------------


def test_user_validates_its_fields() -> None:
    assert app.User("alice", "Alice").id == "alice"
    with pytest.raises(ValueError, match="must not be empty"):
        app.User("", "Nobody")
    with pytest.raises(ValueError, match="longer than 64"):
        app.User("a" * 65, "A")
    with pytest.raises(ValueError, match=r"User\.name"):
        app.User("a", "n" * 65)
    with pytest.raises(TypeError):
        app.User(3, "x")  # type: ignore[arg-type]  # the point of the test
    assert app.CallUser("bob", "Bob") == app.User("bob", "Bob")


def test_values_are_frozen() -> None:
    user = app.User("alice", "Alice")
    with pytest.raises(dataclasses.FrozenInstanceError):
        user.name = "Eve"  # type: ignore[misc]  # the point of the test


def test_room_state_keeps_a_private_read_only_copy_of_extended_data() -> None:
    data: dict[str, object] = {"room_session_id": "s1"}
    state = app.RoomState(app.RoomStateChangedReason.LOGINED, extended_data=data)
    data["room_session_id"] = "changed"
    assert state.extended_data["room_session_id"] == "s1"
    with pytest.raises(TypeError):
        state.extended_data["x"] = 1  # type: ignore[index]  # the point of the test
    assert hash(state) == hash(app.RoomState(app.RoomStateChangedReason.LOGINED))
    with pytest.raises(TypeError):
        app.RoomState("logined")  # type: ignore[arg-type]  # the point of the test


def test_end_events_carry_a_kicker_only_when_kicked() -> None:
    kicked = app.CallEndEvent(app.CallEndReason.KICK_OUT, kicker_user_id="host")
    assert kicked.kicker_user_id == "host"
    with pytest.raises(ValueError, match="KICK_OUT"):
        app.CallEndEvent(app.CallEndReason.LOCAL_HANG_UP, kicker_user_id="host")
    with pytest.raises(ValueError, match="KICK_OUT"):
        app.AudioRoomEndEvent(app.AudioRoomEndReason.LOCAL_LEAVE, kicker_user_id="host")
    ended = app.AudioRoomEndEvent(app.AudioRoomEndReason.LOCAL_LEAVE, is_from_minimizing=True)
    assert ended.is_from_minimizing


def test_kit_exception_carries_the_error() -> None:
    error = app.KitError("busy", "the callee is busy")
    with pytest.raises(app.KitException) as raised:
        raise app.KitException(error)
    assert raised.value.error is error
    assert str(raised.value) == "busy: the callee is busy"
    with pytest.raises(ValueError, match="code"):
        app.KitError("")


def test_in_room_message_validates() -> None:
    sender = app.User("alice", "Alice")
    message = app.InRoomMessage("m1", sender, "hi", 1_700_000_000_000, app.MessageState.SENDING)
    assert message.state is app.MessageState.SENDING
    with pytest.raises(ValueError, match="negative"):
        app.InRoomMessage("m1", sender, "hi", -1)
    with pytest.raises(ValueError, match="message_id"):
        app.InRoomMessage("", sender, "hi", 0)


def test_invitation_user_info_and_dialog_validate() -> None:
    info = app.InvitationUserInfo("bob", app.InvitationUserState.REJECTED, '{"reason":"busy"}')
    assert info.state is app.InvitationUserState.REJECTED
    with pytest.raises(TypeError):
        app.InvitationUserInfo("bob", "rejected")  # type: ignore[arg-type]  # the point
    with pytest.raises(ValueError, match="button"):
        app.ConfirmationDialog("t", "m", cancel_text="")
