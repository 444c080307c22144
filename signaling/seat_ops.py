"""Operations on an audio room's seat map, and :func:`apply`, which runs one of them.

Each operation is a frozen dataclass (plain data, so a shared store could ship it to the
place that holds the state) and each is applied completely or not at all; the rules they
enforce are listed in :mod:`signaling.seats`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from signaling.errors import ErrorCode
from signaling.protocol_audio import RoomRole, SeatConfig
from signaling.seats import AudioRoomState, Ended, Outcome, Pending, PendingKind, error

# --- operations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Join:
    user_id: str
    role: RoomRole
    config: SeatConfig | None = None


@dataclass(frozen=True)
class MemberGone:
    """A member left: free their seat, drop their roles and pending requests."""

    user_id: str


@dataclass(frozen=True)
class Take:
    user_id: str
    index: int


@dataclass(frozen=True)
class LeaveSeat:
    user_id: str


@dataclass(frozen=True)
class Switch:
    user_id: str
    to: int


@dataclass(frozen=True)
class Lock:
    actor: str
    index: int | None
    locked: bool


@dataclass(frozen=True)
class RemoveFromSeat:
    actor: str
    target: str


@dataclass(frozen=True)
class SetCohost:
    actor: str
    target: str | None


@dataclass(frozen=True)
class Apply:
    user_id: str
    name: str
    token: str


@dataclass(frozen=True)
class CancelApplication:
    user_id: str


@dataclass(frozen=True)
class AnswerApplication:
    actor: str
    user_id: str
    accept: bool


@dataclass(frozen=True)
class Invite:
    actor: str
    actor_name: str
    target: str
    token: str


@dataclass(frozen=True)
class AnswerInvitation:
    user_id: str
    accept: bool


@dataclass(frozen=True)
class Expire:
    """End a pending request if it is still the one ``token`` names (timeouts, failed delivery)."""

    kind: PendingKind
    user_id: str
    token: str


Operation = (
    Join
    | MemberGone
    | Take
    | LeaveSeat
    | Switch
    | Lock
    | RemoveFromSeat
    | SetCohost
    | Apply
    | CancelApplication
    | AnswerApplication
    | Invite
    | AnswerInvitation
    | Expire
)


def apply(state: AudioRoomState, op: Operation, members: Mapping[str, str]) -> Outcome:
    """Apply ``op`` to ``state`` completely, or raise having changed nothing.

    ``members`` maps the room's current member ids to their names.
    """
    match op:
        case Join():
            return _join(state, op, members)
        case MemberGone():
            return _member_gone(state, op, members)
        case Take():
            return _take(state, op, members)
        case LeaveSeat():
            return _leave_seat(state, op, members)
        case Switch():
            return _switch(state, op, members)
        case Lock():
            return _lock(state, op, members)
        case RemoveFromSeat():
            return _remove(state, op, members)
        case SetCohost():
            return _set_cohost(state, op, members)
        case Apply():
            return _apply_to_speak(state, op, members)
        case CancelApplication():
            return _cancel_application(state, op, members)
        case AnswerApplication():
            return _answer_application(state, op, members)
        case Invite():
            return _invite(state, op, members)
        case AnswerInvitation():
            return _answer_invitation(state, op, members)
        case Expire():
            return _expire(state, op, members)


def _join(s: AudioRoomState, op: Join, members: Mapping[str, str]) -> Outcome:
    if op.role != "host":
        return Outcome()
    if s.host_id not in (None, op.user_id):
        raise error(ErrorCode.FORBIDDEN, "the room already has a host")
    changed = s.host_id != op.user_id
    idle = not (any(s.seats) or s.applications or s.invitations)
    if op.config is not None and idle:
        # A room opened by its audience first gets the layout of the host who arrives.
        fresh = AudioRoomState.create(op.config)
        layout = (fresh.host_seat_indexes, fresh.seats, fresh.seat_locks, fresh.locked)
        if layout != (s.host_seat_indexes, s.seats, s.seat_locks, s.locked):
            s.host_seat_indexes, s.seats, s.seat_locks, s.locked = layout
            changed = True
    s.host_id = op.user_id
    if s.cohost_id == op.user_id:
        s.cohost_id = None
    return s._changed() if changed else Outcome()


def _member_gone(s: AudioRoomState, op: MemberGone, members: Mapping[str, str]) -> Outcome:
    if op.user_id in members:
        return Outcome()  # they re-joined in the meantime: nothing to clean up
    ended = []
    application = s.applications.pop(op.user_id, None)
    if application is not None:
        ended.append(Ended("application", application, "left", op.user_id))
    invitation = s.invitations.pop(op.user_id, None)
    if invitation is not None:
        ended.append(Ended("invitation", invitation, "left", op.user_id))
    index = s.seat_of(op.user_id)
    privileged = s.privileged(op.user_id)
    changed = index is not None or privileged
    if index is not None:
        s.seats[index] = None
    if s.host_id == op.user_id:
        s.host_id = None
    if s.cohost_id == op.user_id:
        s.cohost_id = None
    if privileged and s.host_id is None and s.cohost_id is None:
        # Nobody is left who could let anyone speak: the room's locks open, and the
        # requests to speak (which nobody would answer) end; people take free seats.
        locks_open = s.locked or any(s.seat_locks)
        s.locked = False
        s.seat_locks = [False] * len(s.seat_locks)
        ended.extend(
            Ended("application", a, "lock_changed", op.user_id) for a in s.applications.values()
        )
        s.applications.clear()
        changed = changed or locks_open
    if changed:
        return s._changed(index, tuple(ended))
    return Outcome(ended=tuple(ended))


def _take(s: AudioRoomState, op: Take, members: Mapping[str, str]) -> Outcome:
    current = s.seat_of(op.user_id)
    if current is not None:
        raise error(ErrorCode.CONFLICT, f"you are on seat {current}; use seat.switch")
    s._check_can_sit(op.user_id, op.index)
    ended = s._sit(op.user_id, op.index)
    return s._changed(op.index, tuple(ended))


def _leave_seat(s: AudioRoomState, op: LeaveSeat, members: Mapping[str, str]) -> Outcome:
    index = s.seat_of(op.user_id)
    if index is None:
        raise error(ErrorCode.CONFLICT, "you are not on a seat")
    s.seats[index] = None
    return s._changed(index)


def _switch(s: AudioRoomState, op: Switch, members: Mapping[str, str]) -> Outcome:
    index = s.seat_of(op.user_id)
    if index is None:
        raise error(ErrorCode.CONFLICT, "you are not on a seat; use seat.take")
    if index == op.to:
        return Outcome(index=index)
    s._check_can_sit(op.user_id, op.to)
    s.seats[index], s.seats[op.to] = None, op.user_id
    return s._changed(op.to)


def _lock(s: AudioRoomState, op: Lock, members: Mapping[str, str]) -> Outcome:
    s._check_powers(op.actor)
    if op.index is not None:
        s._check_index(op.index)
        if s.seat_locks[op.index] == op.locked:
            return Outcome()
        s.seat_locks[op.index] = op.locked
        return s._changed(op.index)
    if s.locked == op.locked:
        return Outcome()
    s.locked = op.locked
    # The way to a seat just changed, so every pending request to speak is void.
    ended = tuple(
        Ended("application", a, "lock_changed", op.actor) for a in s.applications.values()
    )
    s.applications.clear()
    return s._changed(None, ended)


def _remove(s: AudioRoomState, op: RemoveFromSeat, members: Mapping[str, str]) -> Outcome:
    s._check_powers(op.actor)
    if op.target == op.actor:
        raise error(ErrorCode.BAD_REQUEST, "use seat.leave to leave your own seat")
    if op.target not in members:
        raise error(ErrorCode.USER_NOT_FOUND, f"{op.target!r} is not in the room")
    index = s.seat_of(op.target)
    if index is None:
        raise error(ErrorCode.CONFLICT, f"{op.target!r} is not on a seat")
    s.seats[index] = None
    return s._changed(index)


def _set_cohost(s: AudioRoomState, op: SetCohost, members: Mapping[str, str]) -> Outcome:
    if op.actor != s.host_id:
        raise error(ErrorCode.FORBIDDEN, "only the host may assign or revoke the co-host")
    if op.target == op.actor:
        raise error(ErrorCode.BAD_REQUEST, "the host cannot be the co-host")
    if op.target is not None and op.target not in members:
        raise error(ErrorCode.USER_NOT_FOUND, f"{op.target!r} is not in the room")
    if s.cohost_id == op.target:
        return Outcome()
    s.cohost_id = op.target
    return s._changed()


def _apply_to_speak(s: AudioRoomState, op: Apply, members: Mapping[str, str]) -> Outcome:
    if s.seat_of(op.user_id) is not None:
        raise error(ErrorCode.CONFLICT, "you are already on a seat")
    if s.privileged(op.user_id):
        raise error(ErrorCode.BAD_REQUEST, "the host and co-host take seats themselves")
    if op.user_id in s.applications:
        raise error(ErrorCode.CONFLICT, "you have already applied")
    if any(u is None and s.open_to_audience(i) for i, u in enumerate(s.seats)):
        raise error(ErrorCode.CONFLICT, "a seat is open: take it with seat.take")
    if s.host_id is None and s.cohost_id is None:
        raise error(ErrorCode.USER_NOT_FOUND, "there is no host to ask")
    s.applications[op.user_id] = Pending(op.user_id, op.name, op.token)
    return Outcome()


def _cancel_application(
    s: AudioRoomState, op: CancelApplication, members: Mapping[str, str]
) -> Outcome:
    application = s.applications.pop(op.user_id, None)
    if application is None:
        raise error(ErrorCode.INVITATION_NOT_FOUND, "you have no pending application")
    return Outcome(ended=(Ended("application", application, "cancelled", op.user_id),))


def _answer_application(
    s: AudioRoomState, op: AnswerApplication, members: Mapping[str, str]
) -> Outcome:
    s._check_powers(op.actor)
    if op.user_id not in s.applications:
        raise error(ErrorCode.INVITATION_NOT_FOUND, f"no pending application from {op.user_id!r}")
    if not op.accept:
        application = s.applications.pop(op.user_id)
        return Outcome(ended=(Ended("application", application, "rejected", op.actor),))
    index = s._free_seat()  # raises with nothing changed: the application stays pending
    ended = tuple(
        # The "accepted" record names the host who said yes, not the applicant.
        Ended(e.kind, e.pending, e.reason, op.actor if e.kind == "application" else e.by, index)
        for e in s._sit(op.user_id, index, accepted="application")
    )
    return s._changed(index, ended)


def _invite(s: AudioRoomState, op: Invite, members: Mapping[str, str]) -> Outcome:
    s._check_powers(op.actor)
    if op.target == op.actor:
        raise error(ErrorCode.BAD_REQUEST, "you cannot invite yourself")
    name = members.get(op.target)
    if name is None:
        raise error(ErrorCode.USER_NOT_FOUND, f"{op.target!r} is not in the room")
    if s.seat_of(op.target) is not None:
        raise error(ErrorCode.CONFLICT, f"{op.target!r} is already on a seat")
    if op.target in s.invitations:
        raise error(ErrorCode.CONFLICT, f"{op.target!r} is already invited")
    s.invitations[op.target] = Pending(op.target, name, op.token, op.actor, op.actor_name)
    return Outcome()


def _answer_invitation(
    s: AudioRoomState, op: AnswerInvitation, members: Mapping[str, str]
) -> Outcome:
    if op.user_id not in s.invitations:
        raise error(ErrorCode.INVITATION_NOT_FOUND, "you have no pending seat invitation")
    if not op.accept:
        invitation = s.invitations.pop(op.user_id)
        return Outcome(ended=(Ended("invitation", invitation, "declined", op.user_id),))
    index = s._free_seat()
    return s._changed(index, tuple(s._sit(op.user_id, index, accepted="invitation")))


def _expire(s: AudioRoomState, op: Expire, members: Mapping[str, str]) -> Outcome:
    table = s.applications if op.kind == "application" else s.invitations
    pending = table.get(op.user_id)
    if pending is None or pending.token != op.token:
        return Outcome()  # already answered, or a newer request by the same user
    del table[op.user_id]
    return Outcome(ended=(Ended(op.kind, pending, "timeout"),))
