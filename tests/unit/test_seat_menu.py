"""Which entries a seat's menu and a member row's "more" menu offer, by role and state."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.kit.types import AudioRoomRole
from app.kit.views.audio_room import AudioRoomView, SeatView
from tests.support.audio_room_views import room_view
from widgets.audio_room_member_list import MemberAction, member_menu_actions
from widgets.seat_menu import SeatAction, seat_menu_actions

A = SeatAction


def with_seat(view: AudioRoomView, seat: SeatView) -> AudioRoomView:
    """``view`` with one seat replaced."""
    seats = list(view.seats)
    seats[seat.index] = seat
    return replace(view, seats=tuple(seats))


# -- audience --------------------------------------------------------------------------


def test_audience_takes_an_empty_seat_of_an_open_room() -> None:
    view = room_view("farid")
    assert view.local_role is AudioRoomRole.AUDIENCE
    assert seat_menu_actions(view, 3) == (A.TAKE, A.CANCEL)


def test_audience_cannot_take_a_host_seat_a_locked_seat_or_a_taken_one() -> None:
    view = room_view("farid")
    host_seat = with_seat(view, SeatView(index=0, is_host_seat=True))
    assert seat_menu_actions(host_seat, 0) == (A.CANCEL,)
    assert seat_menu_actions(view, 5) == (A.CANCEL,), "seat 5 is locked on its own"
    assert seat_menu_actions(view, 4) == (A.CANCEL,), "david sits there"


def test_audience_applies_in_a_locked_room_and_can_take_it_back() -> None:
    locked = room_view("farid", locked=True)
    assert seat_menu_actions(locked, 3) == (A.APPLY, A.CANCEL)
    asking = room_view("farid", locked=True, requesting=True)
    assert seat_menu_actions(asking, 3) == (A.CANCEL_APPLY, A.CANCEL)


# -- speakers --------------------------------------------------------------------------


def test_speaker_switches_to_another_empty_seat_only_while_the_room_is_open() -> None:
    view = room_view("david")
    assert view.local_role is AudioRoomRole.SPEAKER
    assert seat_menu_actions(view, 6) == (A.SWITCH, A.CANCEL)
    assert seat_menu_actions(room_view("david", locked=True), 6) == (A.CANCEL,)
    assert seat_menu_actions(view, 5) == (A.CANCEL,), "locked alone"


def test_speaker_leaves_their_own_seat_and_leaves_others_alone() -> None:
    view = room_view("david")
    assert seat_menu_actions(view, 4) == (A.LEAVE, A.CANCEL)
    assert seat_menu_actions(view, 2) == (A.CANCEL,)
    assert seat_menu_actions(view, 0) == (A.CANCEL,)


# -- hosts -----------------------------------------------------------------------------


def test_host_manages_a_speaking_speaker() -> None:
    view = room_view("alice")
    assert seat_menu_actions(view, 4) == (A.REMOVE, A.MUTE, A.ASSIGN_COHOST, A.CANCEL)


def test_host_asks_a_muted_speaker_to_unmute_and_revokes_the_cohost() -> None:
    view = room_view("alice")
    assert seat_menu_actions(view, 2) == (A.REMOVE, A.ASK_UNMUTE, A.ASSIGN_COHOST, A.CANCEL)
    assert seat_menu_actions(view, 1) == (A.REMOVE, A.MUTE, A.REVOKE_COHOST, A.CANCEL)
    muted_cohost = with_seat(view, replace(view.seat(1), microphone_on=False))
    assert seat_menu_actions(muted_cohost, 1) == (
        A.REMOVE,
        A.ASK_UNMUTE,
        A.REVOKE_COHOST,
        A.CANCEL,
    )


def test_host_locks_and_unlocks_empty_seats_and_keeps_their_own() -> None:
    view = room_view("alice")
    assert seat_menu_actions(view, 3) == (A.LOCK, A.CANCEL)
    assert seat_menu_actions(view, 5) == (A.UNLOCK, A.CANCEL)
    assert seat_menu_actions(view, 0) == (A.CANCEL,), "the host stays on the host seat"


def test_cohost_with_host_powers_manages_but_does_not_appoint() -> None:
    acting = room_view("bob", can_manage=True)
    assert acting.local_is_cohost
    assert seat_menu_actions(acting, 4) == (A.REMOVE, A.MUTE, A.CANCEL)
    assert seat_menu_actions(acting, 6) == (A.SWITCH, A.LOCK, A.CANCEL)
    assert seat_menu_actions(acting, 1) == (A.LEAVE, A.CANCEL)
    assert seat_menu_actions(acting, 0) == (A.CANCEL,), "nobody manages the host"


def test_cohost_without_powers_is_a_speaker() -> None:
    present = room_view("bob")  # the host is in the room: no powers
    assert seat_menu_actions(present, 4) == (A.CANCEL,)
    assert seat_menu_actions(present, 6) == (A.SWITCH, A.CANCEL)


@pytest.mark.parametrize("local", ["alice", "bob", "chloe", "david", "eva", "farid"])
@pytest.mark.parametrize("locked", [False, True])
def test_every_menu_ends_with_cancel_and_repeats_nothing(local: str, locked: bool) -> None:
    view = room_view(local, locked=locked)
    for seat in view.seats:
        actions = seat_menu_actions(view, seat.index)
        assert actions[-1] is A.CANCEL
        assert A.CANCEL not in actions[:-1]
        assert len(set(actions)) == len(actions)


# -- the member list's "more" menu -----------------------------------------------------


def test_more_menu_invites_listeners_and_removes_members_for_hosts_only() -> None:
    host = room_view("alice")
    by_id = {member.user.id: member for member in host.members}
    invite_or_kick = (MemberAction.INVITE, MemberAction.KICK)
    assert member_menu_actions(host, by_id["farid"]) == invite_or_kick
    assert member_menu_actions(host, by_id["eva"]) == invite_or_kick
    assert member_menu_actions(host, by_id["david"]) == (MemberAction.KICK,)  # seated
    assert member_menu_actions(host, by_id["alice"]) == ()
    listener = room_view("grace")
    farid = next(member for member in listener.members if member.user.id == "farid")
    assert member_menu_actions(listener, farid) == ()
