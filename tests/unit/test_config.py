"""Config objects: the kits' presets and validation of what integrators write."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import (
    HANG_UP_DIALOG,
    LEAVE_DIALOG,
    AudioRoomBottomBarConfig,
    AudioRoomConfig,
    AudioRoomMenuButton,
    AudioRoomRole,
    CallConfig,
    CallInvitationConfig,
    CallLayoutMode,
    CallMenuBarConfig,
    CallMenuButton,
    RingtoneConfig,
    SeatAlignment,
    SeatRowConfig,
)

# -- calls ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "camera", "layout"),
    [
        (CallConfig.one_on_one_video, True, CallLayoutMode.PICTURE_IN_PICTURE),
        (CallConfig.one_on_one_voice, False, CallLayoutMode.PICTURE_IN_PICTURE),
        (CallConfig.group_video, True, CallLayoutMode.GALLERY),
        (CallConfig.group_voice, False, CallLayoutMode.GALLERY),
    ],
)
def test_call_presets(preset: Any, camera: bool, layout: CallLayoutMode) -> None:
    config: CallConfig = preset()
    assert config.turn_on_camera_when_joining is camera
    assert config.turn_on_microphone_when_joining
    assert config.use_speaker_when_joining
    assert config.layout is layout
    assert config.hang_up_confirmation is None
    assert config.show_duration
    bottom = config.bottom_menu_bar.buttons
    assert CallMenuButton.HANG_UP in bottom
    assert CallMenuButton.TOGGLE_MICROPHONE in bottom
    assert (CallMenuButton.TOGGLE_CAMERA in bottom) is camera
    assert (CallMenuButton.SWITCH_CAMERA in bottom) is camera
    for bar in (config.top_menu_bar, config.bottom_menu_bar):
        assert bar.hide_automatically
        assert bar.hide_after_s == 5.0
    is_group = layout is CallLayoutMode.GALLERY
    assert (CallMenuButton.SHOW_MEMBER_LIST in config.top_menu_bar.buttons) is is_group


def test_presets_are_frozen_and_replace_revalidates() -> None:
    config = CallConfig.group_video()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.layout = CallLayoutMode.PICTURE_IN_PICTURE  # type: ignore[misc]  # the point
    confirmed = dataclasses.replace(config, hang_up_confirmation=HANG_UP_DIALOG)
    assert confirmed.hang_up_confirmation == HANG_UP_DIALOG
    assert config.hang_up_confirmation is None
    with pytest.raises(TypeError, match="layout"):
        dataclasses.replace(config, layout=cast(Any, "gallery"))


def test_menu_bar_validation() -> None:
    bar = CallMenuBarConfig(buttons=cast(Any, [CallMenuButton.HANG_UP]))
    assert bar.buttons == (CallMenuButton.HANG_UP,)
    with pytest.raises(ValueError, match="duplicate"):
        CallMenuBarConfig(buttons=(CallMenuButton.CHAT, CallMenuButton.CHAT))
    with pytest.raises(ValueError, match="max_count"):
        CallMenuBarConfig(buttons=(), max_count=0)
    with pytest.raises(ValueError, match="hide_after_s"):
        CallMenuBarConfig(buttons=(), hide_after_s=0)
    with pytest.raises(TypeError, match="CallMenuButton"):
        CallMenuBarConfig(buttons=cast(Any, ("hang_up",)))


def test_invitation_config() -> None:
    config = CallInvitationConfig()
    assert config.timeout_s == 60
    assert not config.only_initiator_can_invite
    assert not config.end_call_when_initiator_leave
    assert config.ringtone == RingtoneConfig()
    for bad in (0, -1, 601):
        with pytest.raises(ValueError, match="timeout_s"):
            CallInvitationConfig(timeout_s=bad)
    with pytest.raises(ValueError, match="number"):
        CallInvitationConfig(timeout_s=cast(Any, True))


def test_ringtones_become_paths() -> None:
    ringtone = RingtoneConfig(incoming=cast(Any, "ring.wav"))
    assert ringtone.incoming == Path("ring.wav")
    assert ringtone.outgoing is None
    with pytest.raises(TypeError):
        RingtoneConfig(outgoing=cast(Any, 3))


# -- audio rooms -------------------------------------------------------------------------


def test_host_preset() -> None:
    config = AudioRoomConfig.host()
    assert config.role is AudioRoomRole.HOST
    assert config.take_seat_index_when_join == 0
    assert config.close_seat_when_join
    assert config.turn_on_microphone_when_joining
    assert config.host_seat_indexes == (0,)
    assert config.leave_confirmation == LEAVE_DIALOG
    assert config.show_duration


def test_audience_preset() -> None:
    config = AudioRoomConfig.audience()
    assert config.role is AudioRoomRole.AUDIENCE
    assert config.take_seat_index_when_join == -1
    assert not config.close_seat_when_join
    assert not config.turn_on_microphone_when_joining
    assert config.leave_confirmation is None
    assert config.seat_count == 8


def test_bottom_bar_follows_the_role() -> None:
    bar = AudioRoomBottomBarConfig()
    b = AudioRoomMenuButton
    assert bar.buttons_for(AudioRoomRole.HOST) == (
        b.TOGGLE_MICROPHONE,
        b.SHOW_MEMBER_LIST,
        b.CLOSE_SEAT,
    )
    assert bar.buttons_for(AudioRoomRole.SPEAKER) == (b.TOGGLE_MICROPHONE, b.SHOW_MEMBER_LIST)
    assert bar.buttons_for(AudioRoomRole.AUDIENCE) == (b.SHOW_MEMBER_LIST, b.APPLY_TO_TAKE_SEAT)
    with pytest.raises(ValueError, match="host button"):
        AudioRoomBottomBarConfig(audience_buttons=(b.CLOSE_SEAT,))
    with pytest.raises(ValueError, match="audience button"):
        AudioRoomBottomBarConfig(speaker_buttons=(b.APPLY_TO_TAKE_SEAT,))
    with pytest.raises(ValueError, match="duplicate"):
        AudioRoomBottomBarConfig(speaker_buttons=(b.LEAVE, b.LEAVE))


def test_seat_row_validation() -> None:
    row = SeatRowConfig(3, SeatAlignment.SPACE_EVENLY, spacing=8)
    assert row.count == 3
    with pytest.raises(ValueError, match="count must be at least 1, not -1"):
        SeatRowConfig(-1)
    with pytest.raises(ValueError, match="count"):
        SeatRowConfig(0)
    with pytest.raises(ValueError, match="spacing"):
        SeatRowConfig(4, spacing=-2)
    with pytest.raises(TypeError, match="SeatAlignment"):
        SeatRowConfig(4, cast(Any, "center"))


def test_seat_layout_validation() -> None:
    rows = (SeatRowConfig(1), SeatRowConfig(4))
    config = AudioRoomConfig(seat_rows=cast(Any, list(rows)), host_seat_indexes=cast(Any, [0]))
    assert config.seat_rows == rows
    assert config.host_seat_indexes == (0,)
    assert config.seat_count == 5
    with pytest.raises(ValueError, match="at least one row"):
        AudioRoomConfig(seat_rows=())
    with pytest.raises(ValueError, match=r"duplicates \[1\]"):
        AudioRoomConfig(host_seat_indexes=(1, 1))
    with pytest.raises(ValueError, match=r"8 is out of range 0\.\.7"):
        AudioRoomConfig(host_seat_indexes=(8,))
    with pytest.raises(ValueError, match="out of range"):
        AudioRoomConfig(host_seat_indexes=(-1,))
    with pytest.raises(ValueError, match="row_spacing"):
        AudioRoomConfig(row_spacing=-1)


def test_seat_taken_on_joining_must_fit_the_role() -> None:
    with pytest.raises(ValueError, match="out of range"):
        AudioRoomConfig(take_seat_index_when_join=8)
    with pytest.raises(ValueError, match="out of range"):
        AudioRoomConfig(take_seat_index_when_join=-2)
    with pytest.raises(ValueError, match="for hosts only"):
        AudioRoomConfig(take_seat_index_when_join=0)
    with pytest.raises(ValueError, match="host takes a host seat"):
        dataclasses.replace(AudioRoomConfig.host(), take_seat_index_when_join=3)
    speaker = AudioRoomConfig(role=AudioRoomRole.SPEAKER, take_seat_index_when_join=3)
    assert speaker.take_seat_index_when_join == 3


def test_only_hosts_lock_seats_on_joining() -> None:
    with pytest.raises(ValueError, match="close_seat_when_join"):
        AudioRoomConfig(close_seat_when_join=True)


@given(
    counts=st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=4),
    hosts=st.lists(st.integers(min_value=-2, max_value=40), max_size=4),
)
def test_host_seats_are_valid_exactly_when_unique_and_in_range(
    counts: list[int], hosts: list[int]
) -> None:
    seat_count = sum(counts)
    valid = len(set(hosts)) == len(hosts) and all(0 <= i < seat_count for i in hosts)
    rows = tuple(SeatRowConfig(count) for count in counts)
    if valid:
        config = AudioRoomConfig(seat_rows=rows, host_seat_indexes=tuple(hosts))
        assert config.seat_count == seat_count
    else:
        with pytest.raises(ValueError, match="host_seat_indexes"):
            AudioRoomConfig(seat_rows=rows, host_seat_indexes=tuple(hosts))
