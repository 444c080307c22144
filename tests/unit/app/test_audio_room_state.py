"""The audio room's bookkeeping and view state: newest seat map wins, roles, list order."""

from __future__ import annotations

import pytest

from app.kit.audio_room.state import AudioRoomState
from app.kit.config.audio_room import AudioRoomConfig
from app.kit.room.members import Member
from app.kit.types import AudioRoomRole, User
from app.kit.views.audio_room import AudioRoomView, MemberRole, SeatView
from signaling.protocol_audio import SeatInfo, SeatMapInfo

ME = User("me", "Me")


def seat_map(version: int, occupants: dict[int, str], **fields: object) -> SeatMapInfo:
    values: dict[str, object] = {
        "version": version,
        "locked": False,
        "host_id": None,
        "cohost_id": None,
        "host_seat_indexes": [0],
        "seats": [SeatInfo(index=i, user_id=occupants.get(i), locked=False) for i in range(8)],
    }
    values.update(fields)
    return SeatMapInfo(**values)  # type: ignore[arg-type]


def state_with(*users: str) -> AudioRoomState:
    remote = {
        uid: Member(User(uid, uid.title()), joined_at_ms=i + 1) for i, uid in enumerate(users)
    }
    return AudioRoomState("room", ME, AudioRoomConfig.audience(), remote)


def test_only_a_newer_seat_map_is_kept() -> None:
    state = state_with("host")
    first = state.apply_seat_map(seat_map(3, {0: "host"}, host_id="host"))
    assert first is not None
    assert first.first
    assert first.seats_changed
    assert state.apply_seat_map(seat_map(2, {}, locked=True)) is None
    assert state.apply_seat_map(seat_map(3, {})) is None
    assert state.occupants() == {0: "host"}
    diff = state.apply_seat_map(seat_map(4, {0: "host", 1: "me"}, host_id="host", locked=True))
    assert diff is not None
    assert diff.lock_changed
    assert (diff.was_seated, diff.now_seated) == (False, True)
    assert state.local_role is AudioRoomRole.SPEAKER


def test_cohost_manages_only_without_a_host() -> None:
    state = state_with("host")
    state.apply_seat_map(seat_map(1, {0: "host"}, host_id="host", cohost_id="me"))
    assert not state.can_manage
    state.apply_seat_map(seat_map(2, {}, cohost_id="me"))
    assert state.can_manage


def test_member_list_order_and_labels() -> None:
    state = state_with("zed", "host", "speaker", "asker")
    state.applications["asker"] = User("asker", "Asker")
    state.apply_seat_map(seat_map(1, {0: "host", 2: "speaker"}, host_id="host"))
    view = state.view(
        duration_s=5,
        microphone_on=False,
        speaker_on=True,
        messages=(),
        minimized=False,
        reconnecting=False,
    )
    assert [(m.user.id, m.role) for m in view.members] == [
        ("host", MemberRole.HOST),
        ("speaker", MemberRole.SPEAKER),
        ("asker", MemberRole.AUDIENCE),
        ("me", MemberRole.YOU),
        ("zed", MemberRole.AUDIENCE),
    ]
    assert [m.requesting for m in view.members] == [False, False, True, False, False]
    assert view.pending_requests == 0  # only those with host powers see requests
    assert view.seats[0].is_host
    assert view.seats[0].is_host_seat
    assert view.seats[2].user == User("speaker", "Speaker")
    assert [len(row) for row in view.seat_rows()] == [4, 4]


def test_view_values_validate() -> None:
    with pytest.raises(ValueError, match="speaking_level"):
        SeatView(index=0, speaking_level=1.5)
    with pytest.raises(ValueError, match="empty seat"):
        SeatView(index=0, is_host=True)
    with pytest.raises(ValueError, match="index order"):
        AudioRoomView(room_id="r", seats=(SeatView(index=1),))
