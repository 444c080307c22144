"""The pure seat-map logic: every rule, version bumps, and refusals that change nothing."""

from __future__ import annotations

import copy

import pytest

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import SeatConfig
from signaling.seat_ops import (
    AnswerApplication,
    AnswerInvitation,
    Apply,
    CancelApplication,
    Expire,
    Invite,
    Join,
    LeaveSeat,
    Lock,
    MemberGone,
    Operation,
    RemoveFromSeat,
    SetCohost,
    Switch,
    Take,
    apply,
)
from signaling.seats import AudioRoomState

MEMBERS = {u: u.title() for u in ("host", "co", "bob", "carol", "dave")}


def room(count: int = 4, lock: bool = False) -> AudioRoomState:
    state = AudioRoomState.create(SeatConfig(count=count, host_seat_indexes=[0], lock=lock))
    apply(state, Join("host", "host"), MEMBERS)
    return state


def refused(state: AudioRoomState, op: Operation, code: ErrorCode) -> None:
    """``op`` fails with ``code`` and leaves the state exactly as it was."""
    before = copy.deepcopy(state)
    with pytest.raises(SignalingError) as err:
        apply(state, op, MEMBERS)
    assert err.value.code is code
    assert state == before


def test_one_host_at_a_time_and_the_version_counts_changes() -> None:
    state = room()
    assert (state.host_id, state.version) == ("host", 1)
    refused(state, Join("bob", "host"), ErrorCode.FORBIDDEN)
    assert apply(state, Join("host", "host"), MEMBERS).seat_map is None  # no change, no bump
    assert apply(state, Join("bob", "audience"), MEMBERS).seat_map is None
    assert state.version == 1


def test_a_host_arriving_at_an_idle_room_lays_out_the_seats() -> None:
    state = AudioRoomState.create()
    assert len(state.seats) == 8
    outcome = apply(state, Join("host", "host", SeatConfig(count=3, lock=True)), MEMBERS)
    assert outcome.seat_map is not None
    assert (len(outcome.seat_map.seats), outcome.seat_map.locked) == (3, True)


def test_take_rules() -> None:
    state = room()
    refused(state, Take("bob", 0), ErrorCode.FORBIDDEN)  # host seat
    refused(state, Take("bob", 4), ErrorCode.BAD_REQUEST)  # no such seat
    outcome = apply(state, Take("bob", 1), MEMBERS)
    assert (outcome.index, state.version) == (1, 2)
    refused(state, Take("carol", 1), ErrorCode.CONFLICT)
    refused(state, Take("bob", 2), ErrorCode.CONFLICT)
    apply(state, Lock("host", 2, True), MEMBERS)
    refused(state, Take("carol", 2), ErrorCode.FORBIDDEN)
    apply(state, Lock("host", None, True), MEMBERS)
    refused(state, Take("carol", 3), ErrorCode.FORBIDDEN)
    apply(state, Take("host", 2), MEMBERS)  # the host ignores locks
    refused(state, Switch("bob", 2), ErrorCode.FORBIDDEN)  # locked, before taken
    apply(state, Lock("host", None, False), MEMBERS)
    assert apply(state, Switch("bob", 3), MEMBERS).index == 3
    assert state.seats == [None, None, "host", "bob"]
    apply(state, LeaveSeat("bob"), MEMBERS)
    refused(state, LeaveSeat("bob"), ErrorCode.CONFLICT)


def test_cohost_powers_only_without_a_host() -> None:
    state = room()
    refused(state, SetCohost("bob", "co"), ErrorCode.FORBIDDEN)
    refused(state, SetCohost("host", "stranger"), ErrorCode.USER_NOT_FOUND)
    apply(state, SetCohost("host", "co"), MEMBERS)
    refused(state, Lock("co", None, True), ErrorCode.FORBIDDEN)
    apply(state, Take("co", 0), MEMBERS)  # seat privileges regardless
    gone = dict(MEMBERS)
    del gone["host"]
    outcome = apply(state, MemberGone("host"), gone)
    assert outcome.seat_map is not None
    assert outcome.seat_map.host_id is None
    apply(state, Lock("co", None, True), gone)
    assert state.locked is True
    refused(state, SetCohost("co", "bob"), ErrorCode.FORBIDDEN)  # still host only


def test_applications_accept_reject_expire_and_lock_changes() -> None:
    state = room(count=2, lock=True)
    refused(state, Apply("host", "Host", "t0"), ErrorCode.BAD_REQUEST)
    apply(state, Apply("bob", "Bob", "t1"), MEMBERS)
    refused(state, Apply("bob", "Bob", "t1b"), ErrorCode.CONFLICT)
    apply(state, Apply("carol", "Carol", "t2"), MEMBERS)
    refused(state, AnswerApplication("bob", "carol", True), ErrorCode.FORBIDDEN)
    outcome = apply(state, AnswerApplication("host", "bob", True), MEMBERS)
    assert outcome.index == 1
    assert [(e.reason, e.by, e.index) for e in outcome.ended] == [("accepted", "host", 1)]
    refused(state, AnswerApplication("host", "carol", True), ErrorCode.LIMIT_EXCEEDED)
    assert apply(state, Expire("application", "carol", "stale"), MEMBERS).ended == ()
    ended = apply(state, Expire("application", "carol", "t2"), MEMBERS).ended
    assert [e.reason for e in ended] == ["timeout"]
    refused(state, CancelApplication("carol"), ErrorCode.INVITATION_NOT_FOUND)
    apply(state, Apply("carol", "Carol", "t3"), MEMBERS)
    outcome = apply(state, Lock("host", None, False), MEMBERS)
    assert [(e.pending.user_id, e.reason) for e in outcome.ended] == [("carol", "lock_changed")]
    assert state.applications == {}


def test_invitations_and_taking_a_seat_another_way() -> None:
    state = room(count=3, lock=True)
    refused(state, Invite("host", "Host", "stranger", "i0"), ErrorCode.USER_NOT_FOUND)
    apply(state, Invite("host", "Host", "bob", "i1"), MEMBERS)
    apply(state, Apply("bob", "Bob", "a1"), MEMBERS)
    outcome = apply(state, AnswerInvitation("bob", True), MEMBERS)
    assert outcome.index == 1
    # One seat ends both of bob's pending requests; the application is moot.
    assert sorted((e.kind, e.reason) for e in outcome.ended) == [
        ("application", "seated"),
        ("invitation", "accepted"),
    ]
    apply(state, Invite("host", "Host", "carol", "i2"), MEMBERS)
    apply(state, Lock("host", None, False), MEMBERS)  # invitations outlive lock changes
    outcome = apply(state, Take("carol", 2), MEMBERS)
    assert [(e.kind, e.reason) for e in outcome.ended] == [("invitation", "seated")]
    refused(state, AnswerInvitation("carol", False), ErrorCode.INVITATION_NOT_FOUND)


def test_remove_and_member_gone() -> None:
    state = room()
    apply(state, Take("bob", 1), MEMBERS)
    refused(state, RemoveFromSeat("carol", "bob"), ErrorCode.FORBIDDEN)
    refused(state, RemoveFromSeat("host", "carol"), ErrorCode.CONFLICT)
    assert apply(state, RemoveFromSeat("host", "bob"), MEMBERS).index == 1
    apply(state, Take("bob", 1), MEMBERS)
    # A leave that is overtaken by a re-join cleans nothing up.
    assert apply(state, MemberGone("bob"), MEMBERS).seat_map is None
    assert state.seats[1] == "bob"
    without_bob = {u: n for u, n in MEMBERS.items() if u != "bob"}
    assert apply(state, MemberGone("bob"), without_bob).index == 1
    assert state.seats[1] is None
