"""Server state behind one interface whose racing transitions are single compare-and-set steps.

The server never reads-modifies-writes across an ``await``: every transition that can
race (accept vs cancel vs timeout, join vs kick, two writers of one room property) is
one method here that checks and changes in one step. :class:`MemoryStore` does that by
running each method to completion on the event loop without awaiting; a Redis store can
do the same with one Lua script per method, which is why every method is ``async``.

Audio-room seats go through one method, :meth:`Store.apply_seats`, whose argument is an
operation object from :mod:`signaling.seat_ops` (take, leave, switch, lock, remove, …).
Each call is one compare-and-set step: the operation is checked and applied to the
room's seat state with nothing in between, or refused having changed nothing. A shared
store can do the same with one script per operation, or optimistically: read the seat
state, apply the pure operation, write it back only if ``version`` is unchanged, retry.
"""

from __future__ import annotations

import heapq
import time
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from signaling.enums import CallType, InvitationUserState, PresenceState
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import MAX_HISTORY, MAX_PROPERTIES_PER_ROOM
from signaling.protocol_audio import MAX_USER_ATTRIBUTES
from signaling.seat_ops import Join, Operation, apply
from signaling.seats import AudioRoomState, Outcome

# Invitee states in which an invitee still has to answer.
PENDING_STATES = frozenset({InvitationUserState.INVITING, InvitationUserState.RECEIVED})


@dataclass(frozen=True)
class Session:
    user_id: str
    name: str
    sid: str
    # The server process holding the connection (several may share one store): the
    # surviving ones end the sessions of one that died.
    server: str = ""


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    microphone: bool
    camera: bool
    joined_at_ms: int
    # Bumped on every join, so a kick aimed at an earlier stay cannot remove a fresh one.
    epoch: int
    # In-room user attributes; replaced as a whole, never changed in place.
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Property:
    value: str
    owner: str
    delete_on_leave: bool


@dataclass(frozen=True)
class Message:
    message_id: int
    room_id: str
    sender_id: str
    sender_name: str
    text: str
    timestamp_ms: int


@dataclass(frozen=True)
class CallOptions:
    initiator: str
    only_initiator_can_invite: bool = False
    end_call_when_initiator_leaves: bool = False


@dataclass
class Room:
    room_id: str
    kind: str
    start_time_ms: int
    members: dict[str, Member] = field(default_factory=dict)
    properties: dict[str, Property] = field(default_factory=dict)
    messages: deque[Message] = field(default_factory=lambda: deque(maxlen=MAX_HISTORY))
    next_message_id: int = 1
    call: CallOptions | None = None
    # A call an invitation made (``call`` is set) admits only these: its initiator, the
    # members it had when the first invitation went out, and every invitee who accepted.
    # Rooms nobody invited to are open to whoever knows the id (a meeting link).
    admitted: set[str] = field(default_factory=set)
    # Removed by someone with the power to: they cannot join again while the room lives
    # (in a call, until invited again and they accept). A kick that did not stick would
    # only cost the kicked a click.
    barred: set[str] = field(default_factory=set)
    # Audio rooms only.
    audio: AudioRoomState | None = None

    def member_names(self) -> dict[str, str]:
        return {user_id: m.name for user_id, m in self.members.items()}


@dataclass(frozen=True)
class Invitee:
    user_id: str
    name: str
    state: InvitationUserState
    extended_data: str = ""


@dataclass
class Invitation:
    invitation_id: str
    call_id: str
    caller_id: str
    caller_name: str
    call_type: CallType
    custom_data: str
    timeout_s: int
    invitees: dict[str, Invitee]
    active: bool = True

    def pending(self) -> list[Invitee]:
        """Invitees that have not answered yet."""
        return [i for i in self.invitees.values() if i.state in PENDING_STATES]


@dataclass(frozen=True)
class SetPropertyResult:
    applied: bool
    current: str | None
    reason: str = ""


class Store(Protocol):
    """What the server needs from its state; see the module docstring for the contract."""

    async def bind_session(self, session: Session) -> Session | None: ...
    async def unbind_session(self, user_id: str, sid: str) -> bool: ...
    async def session_of(self, user_id: str) -> Session | None: ...
    async def online(self) -> list[Session]: ...
    async def presence_of(self, user_id: str) -> PresenceState: ...
    async def sessions_and_presence(
        self, user_ids: Sequence[str]
    ) -> dict[str, tuple[Session | None, PresenceState]]: ...
    async def announce_presence(
        self, entries: Mapping[str, Mapping[str, Any] | None]
    ) -> list[str]: ...
    async def announced_presence(self) -> list[dict[str, Any]]: ...

    async def join_room(
        self, room_id: str, kind: str, member: Member, now_ms: int, audio: Join | None = None
    ) -> Room: ...
    async def leave_room(
        self, room_id: str, user_id: str, expected_epoch: int | None = None, *, bar: bool = False
    ) -> tuple[Member | None, list[str]]: ...
    async def room(self, room_id: str) -> Room | None: ...
    async def rooms_of(self, user_id: str) -> list[str]: ...
    async def drop_room(self, room_id: str) -> Room | None: ...
    async def drop_room_if_empty(self, room_id: str) -> bool: ...
    async def update_devices(
        self, room_id: str, user_id: str, microphone: bool | None, camera: bool | None
    ) -> Member | None: ...
    async def ensure_call(self, room_id: str, options: CallOptions, now_ms: int) -> CallOptions: ...
    async def apply_seats(self, room_id: str, op: Operation, actor: str | None) -> Outcome: ...
    async def set_user_attributes(
        self, room_id: str, user_id: str, updates: Mapping[str, str]
    ) -> Member: ...

    async def set_property(
        self,
        room_id: str,
        key: str,
        value: str,
        owner: str,
        expected: str | None,
        if_absent: bool,
        delete_on_leave: bool,
    ) -> SetPropertyResult: ...
    async def delete_properties(self, room_id: str, keys: list[str], actor: str) -> list[str]: ...
    async def append_message(
        self, room_id: str, sender_id: str, sender_name: str, text: str, now_ms: int
    ) -> Message | None: ...

    async def create_invitation(self, invitation: Invitation) -> Invitation: ...
    async def invitation(self, invitation_id: str) -> Invitation | None: ...
    async def transition_invitee(
        self,
        invitation_id: str,
        user_id: str,
        to_state: InvitationUserState,
        extended_data: str = "",
    ) -> Invitee | None: ...
    async def finish_invitation(self, invitation_id: str) -> bool: ...
    async def invitations_of(self, user_id: str) -> list[Invitation]: ...
    async def revoke_token(self, token_id: str, expires_at: float) -> None: ...
    async def revoke_user(self, user_id: str, issued_up_to: float) -> None: ...
    async def is_revoked(self, user_id: str, token_id: str, issued_at: float) -> bool: ...
    async def stats(self) -> dict[str, int]: ...


#: How many ended calls the store remembers (so a late joiner is told the call is over).
MAX_ENDED_CALLS = 10_000


def _check_admission(room: Room, user_id: str) -> None:
    """Refuse a newcomer the room does not admit (see :attr:`Room.admitted`)."""
    if user_id in room.barred:
        raise SignalingError(ErrorCode.FORBIDDEN, "you were removed from this room")
    if room.call is not None and user_id not in room.admitted:
        raise SignalingError(ErrorCode.FORBIDDEN, "this call is only for the people invited to it")


def _may_overwrite(room: Room, prop: Property, user_id: str) -> bool:
    """In an audio room a property belongs to who set it, and to the host; in a call
    every member may change every property (the call kit has no roles)."""
    if room.audio is None or prop.owner == user_id:
        return True
    return room.audio.has_host_powers(user_id)


@dataclass
class StoreState:
    """Everything a store holds but revoked tokens, as plain containers.

    :class:`MemoryStore` keeps the whole of it; a shared store loads into one the part
    a method will read, runs :class:`MemoryStore`'s own method on it and writes back what
    changed, so both stores share one implementation of every transition.
    """

    sessions: dict[str, Session] = field(default_factory=dict)
    rooms: dict[str, Room] = field(default_factory=dict)
    # Calls (rooms an invitation made) that everyone has left: joining one again is
    # refused rather than opening an empty room nobody will ever come to.
    ended_calls: OrderedDict[str, None] = field(default_factory=OrderedDict)
    member_rooms: dict[str, set[str]] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    user_invitations: dict[str, set[str]] = field(default_factory=dict)
    # The last member epoch handed out.
    epoch: int = 0


class MemoryStore:
    """The in-process store: each method runs to completion without awaiting, so it is atomic."""

    def __init__(self, state: StoreState | None = None) -> None:
        self._s = state if state is not None else StoreState()
        # Signed-out tokens (by ``jti``) until they expire anyway, soonest first.
        self._revoked: dict[str, float] = {}
        self._revoked_by_expiry: list[tuple[float, str]] = []
        # "Signed out everywhere": tokens of the user issued up to then.
        self._revoked_up_to: dict[str, float] = {}
        self._announced: dict[str, dict[str, Any]] = {}

    # --- sessions -------------------------------------------------------------------

    async def bind_session(self, session: Session) -> Session | None:
        """Make ``session`` the user's only one; returns the one it replaced."""
        previous = self._s.sessions.get(session.user_id)
        self._s.sessions[session.user_id] = session
        return previous

    async def unbind_session(self, user_id: str, sid: str) -> bool:
        """Forget the user's session if it is still ``sid`` (a newer login keeps its own)."""
        current = self._s.sessions.get(user_id)
        if current is None or current.sid != sid:
            return False
        del self._s.sessions[user_id]
        return True

    async def session_of(self, user_id: str) -> Session | None:
        return self._s.sessions.get(user_id)

    async def online(self) -> list[Session]:
        return list(self._s.sessions.values())

    async def presence_of(self, user_id: str) -> PresenceState:
        return self._presence(user_id)

    async def sessions_and_presence(
        self, user_ids: Sequence[str]
    ) -> dict[str, tuple[Session | None, PresenceState]]:
        """Each user's session (None: offline) and presence, read in one step."""
        return {u: (self._s.sessions.get(u), self._presence(u)) for u in user_ids}

    async def announce_presence(self, entries: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
        """Record what presence subscribers are told of each user (None: offline);
        returns the users for whom that is news (not what they were told already)."""
        changed = []
        for user_id, entry in entries.items():
            if entry is None:
                if self._announced.pop(user_id, None) is not None:
                    changed.append(user_id)
            elif self._announced.get(user_id) != entry:
                self._announced[user_id] = dict(entry)
                changed.append(user_id)
        return changed

    async def announced_presence(self) -> list[dict[str, Any]]:
        """Every online user's presence as last announced (the ``presence.list``)."""
        return list(self._announced.values())

    def _presence(self, user_id: str) -> PresenceState:
        for room_id in self._s.member_rooms.get(user_id, ()):
            if self._s.rooms[room_id].kind == "call":
                return PresenceState.IN_CALL
        ringing = False
        for invitation_id in self._s.user_invitations.get(user_id, ()):
            invitation = self._s.invitations[invitation_id]
            if not invitation.active:
                continue
            if invitation.caller_id == user_id and invitation.pending():
                return PresenceState.INVITING
            invitee = invitation.invitees.get(user_id)
            if invitee is not None and invitee.state in PENDING_STATES:
                ringing = True
        return PresenceState.RINGING if ringing else PresenceState.IDLE

    # --- rooms ----------------------------------------------------------------------

    async def join_room(
        self, room_id: str, kind: str, member: Member, now_ms: int, audio: Join | None = None
    ) -> Room:
        """Add (or refresh) ``member``; creates the room on first join. Epoch is assigned here.

        In an audio room ``audio`` (the joiner's role and seat layout) is applied in the
        same step, so two people asking for the host role cannot both get it; if it is
        refused (``forbidden``), nothing changes, not even a new room is created.
        """
        room = self._s.rooms.get(room_id)
        created = room is None
        if room is None and room_id in self._s.ended_calls:
            raise SignalingError(ErrorCode.ROOM_NOT_FOUND, "that call has ended: everyone left")
        if room is not None and member.user_id not in room.members:
            _check_admission(room, member.user_id)
        if room is None:
            room = Room(room_id=room_id, kind=kind, start_time_ms=now_ms)
            if kind == "audio_room":
                room.audio = AudioRoomState.create(audio.config if audio else None)
        if room.audio is not None and audio is not None:
            apply(room.audio, audio, room.member_names())
        if created:
            self._s.rooms[room_id] = room
        self._s.epoch += 1
        previous = room.members.get(member.user_id)
        # A refreshing join (re-sync after a reconnect) keeps the member's attributes.
        attributes = previous.attributes if previous is not None else member.attributes
        room.members[member.user_id] = replace(member, epoch=self._s.epoch, attributes=attributes)
        self._s.member_rooms.setdefault(member.user_id, set()).add(room_id)
        return room

    async def leave_room(
        self,
        room_id: str,
        user_id: str,
        expected_epoch: int | None = None,
        *,
        bar: bool = False,
    ) -> tuple[Member | None, list[str]]:
        """Remove the member (only the stay ``expected_epoch`` names, if given).

        Returns the removed member and the keys of properties deleted with them. A room
        left empty is dropped with its properties and history. With ``bar`` (a kick) the
        member may not join again while the room lives (see :attr:`Room.barred`).
        """
        room = self._s.rooms.get(room_id)
        member = room.members.get(user_id) if room else None
        if room is None or member is None:
            return None, []
        if expected_epoch is not None and member.epoch != expected_epoch:
            return None, []
        del room.members[user_id]
        if bar:
            room.barred.add(user_id)
            room.admitted.discard(user_id)
        rooms = self._s.member_rooms.get(user_id)
        if rooms is not None:
            rooms.discard(room_id)
            if not rooms:
                del self._s.member_rooms[user_id]
        dropped = [
            key
            for key, prop in room.properties.items()
            if prop.owner == user_id and prop.delete_on_leave
        ]
        for key in dropped:
            del room.properties[key]
        if not room.members:
            del self._s.rooms[room_id]
            self._remember_ended(room)
        return member, dropped

    def _remember_ended(self, room: Room) -> None:
        if room.call is None:
            return
        self._s.ended_calls[room.room_id] = None
        while len(self._s.ended_calls) > MAX_ENDED_CALLS:
            self._s.ended_calls.popitem(last=False)

    async def room(self, room_id: str) -> Room | None:
        return self._s.rooms.get(room_id)

    async def rooms_of(self, user_id: str) -> list[str]:
        return sorted(self._s.member_rooms.get(user_id, ()))

    async def drop_room(self, room_id: str) -> Room | None:
        """End a room for everyone at once."""
        room = self._s.rooms.pop(room_id, None)
        if room is not None:
            self._remember_ended(room)
            for user_id in room.members:
                rooms = self._s.member_rooms.get(user_id)
                if rooms is not None:
                    rooms.discard(room_id)
                    if not rooms:
                        del self._s.member_rooms[user_id]
        return room

    async def drop_room_if_empty(self, room_id: str) -> bool:
        """Forget a call nobody joined and no invitation still rings into (one whose
        invitation failed, or was accepted by people who never came); it counts as
        ended, so a late join gets ``room_not_found`` rather than an open empty room."""
        room = self._s.rooms.get(room_id)
        if room is None or room.members:
            return False
        if any(i.call_id == room_id and i.active for i in self._s.invitations.values()):
            return False
        del self._s.rooms[room_id]
        self._remember_ended(room)
        return True

    async def update_devices(
        self, room_id: str, user_id: str, microphone: bool | None, camera: bool | None
    ) -> Member | None:
        room = self._s.rooms.get(room_id)
        member = room.members.get(user_id) if room else None
        if room is None or member is None:
            return None
        updated = replace(
            member,
            microphone=member.microphone if microphone is None else microphone,
            camera=member.camera if camera is None else camera,
        )
        room.members[user_id] = updated
        return updated

    async def ensure_call(self, room_id: str, options: CallOptions, now_ms: int) -> CallOptions:
        """Record the call's options unless it already has some; returns the ones in force."""
        room = self._s.rooms.get(room_id)
        self._s.ended_calls.pop(room_id, None)  # invited into it again: it goes on
        if room is None:
            room = self._s.rooms[room_id] = Room(room_id=room_id, kind="call", start_time_ms=now_ms)
        if room.call is None:
            room.call = options
            # Those already in a call someone starts inviting to stay welcome in it.
            room.admitted.update(room.members)
            room.admitted.add(options.initiator)
        return room.call

    async def apply_seats(self, room_id: str, op: Operation, actor: str | None) -> Outcome:
        """Apply a seat operation in one step; ``actor``, if given, must still be a member."""
        room = self._s.rooms.get(room_id)
        if room is None or (actor is not None and actor not in room.members):
            raise SignalingError(ErrorCode.NOT_IN_ROOM, f"you are not in room {room_id!r}")
        if room.audio is None:
            raise SignalingError(ErrorCode.BAD_REQUEST, f"{room_id!r} is not an audio room")
        return apply(room.audio, op, room.member_names())

    async def set_user_attributes(
        self, room_id: str, user_id: str, updates: Mapping[str, str]
    ) -> Member:
        """Merge ``updates`` into the member's attributes (an empty value deletes the key)."""
        room = self._s.rooms.get(room_id)
        member = room.members.get(user_id) if room else None
        if room is None or member is None:
            raise SignalingError(ErrorCode.NOT_IN_ROOM, f"you are not in room {room_id!r}")
        merged = dict(member.attributes)
        for key, value in updates.items():
            if value:
                merged[key] = value
            else:
                merged.pop(key, None)
        if len(merged) > MAX_USER_ATTRIBUTES:
            raise SignalingError(
                ErrorCode.LIMIT_EXCEEDED, f"at most {MAX_USER_ATTRIBUTES} attributes per user"
            )
        updated = replace(member, attributes=merged)
        room.members[user_id] = updated
        return updated

    # --- room data ------------------------------------------------------------------

    async def set_property(
        self,
        room_id: str,
        key: str,
        value: str,
        owner: str,
        expected: str | None,
        if_absent: bool,
        delete_on_leave: bool,
    ) -> SetPropertyResult:
        room = self._s.rooms.get(room_id)
        if room is None:
            return SetPropertyResult(False, None, "room")
        current = room.properties.get(key)
        current_value = current.value if current else None
        if if_absent and current is not None:
            return SetPropertyResult(False, current_value, "exists")
        if expected is not None and current_value != expected:
            return SetPropertyResult(False, current_value, "mismatch")
        if current is not None and not _may_overwrite(room, current, owner):
            return SetPropertyResult(False, current_value, "forbidden")
        if current is None and len(room.properties) >= MAX_PROPERTIES_PER_ROOM:
            return SetPropertyResult(False, None, "limit")
        room.properties[key] = Property(value, owner, delete_on_leave)
        return SetPropertyResult(True, value)

    async def delete_properties(self, room_id: str, keys: list[str], actor: str) -> list[str]:
        """Delete those of ``keys`` that exist; ``forbidden`` (nothing deleted) when one
        of them is not ``actor``'s to delete."""
        room = self._s.rooms.get(room_id)
        if room is None:
            return []
        theirs = [
            key
            for key in keys
            if key in room.properties and not _may_overwrite(room, room.properties[key], actor)
        ]
        if theirs:
            raise SignalingError(
                ErrorCode.FORBIDDEN, f"in an audio room only the host may change {theirs}"
            )
        deleted = [key for key in keys if room.properties.pop(key, None) is not None]
        return deleted

    async def append_message(
        self, room_id: str, sender_id: str, sender_name: str, text: str, now_ms: int
    ) -> Message | None:
        room = self._s.rooms.get(room_id)
        if room is None:
            return None
        message = Message(room.next_message_id, room_id, sender_id, sender_name, text, now_ms)
        room.next_message_id += 1
        room.messages.append(message)
        return message

    # --- invitations ----------------------------------------------------------------

    async def create_invitation(self, invitation: Invitation) -> Invitation:
        """Store ``invitation``, deciding each invitee's first state in the same step.

        Offline invitees become OFFLINE; busy ones (ringing, inviting or in a call)
        REJECTED with ``{"reason": "busy"}``; the rest RECEIVED.
        """
        for user_id, invitee in list(invitation.invitees.items()):
            session = self._s.sessions.get(user_id)
            if session is None:
                state, data = InvitationUserState.OFFLINE, ""
            elif self._presence(user_id) is not PresenceState.IDLE:
                state, data = InvitationUserState.REJECTED, '{"reason": "busy"}'
            else:
                state, data = InvitationUserState.RECEIVED, ""
            name = session.name if session else invitee.name
            invitation.invitees[user_id] = replace(
                invitee, name=name, state=state, extended_data=data
            )
        self._s.invitations[invitation.invitation_id] = invitation
        for user_id in [invitation.caller_id, *invitation.invitees]:
            self._s.user_invitations.setdefault(user_id, set()).add(invitation.invitation_id)
        return invitation

    async def invitation(self, invitation_id: str) -> Invitation | None:
        return self._s.invitations.get(invitation_id)

    async def transition_invitee(
        self,
        invitation_id: str,
        user_id: str,
        to_state: InvitationUserState,
        extended_data: str = "",
    ) -> Invitee | None:
        """Move a pending invitee to ``to_state``; None if it already left the pending states."""
        invitation = self._s.invitations.get(invitation_id)
        invitee = invitation.invitees.get(user_id) if invitation else None
        if invitation is None or invitee is None or not invitation.active:
            return None
        if invitee.state not in PENDING_STATES:
            return None
        updated = replace(invitee, state=to_state, extended_data=extended_data)
        invitation.invitees[user_id] = updated
        room = self._s.rooms.get(invitation.call_id)
        if to_state is InvitationUserState.ACCEPTED and room is not None:
            # Accepting is what lets an invitee into the call, also after a kick.
            room.admitted.add(user_id)
            room.barred.discard(user_id)
        return updated

    async def finish_invitation(self, invitation_id: str) -> bool:
        """Mark the invitation over; True only for the one caller that ended it."""
        invitation = self._s.invitations.get(invitation_id)
        if invitation is None or not invitation.active:
            return False
        invitation.active = False
        for user_id in [invitation.caller_id, *invitation.invitees]:
            ids = self._s.user_invitations.get(user_id)
            if ids is not None:
                ids.discard(invitation_id)
                if not ids:
                    del self._s.user_invitations[user_id]
        # Ended invitations are kept no longer than needed to answer late requests clearly.
        del self._s.invitations[invitation_id]
        return True

    async def invitations_of(self, user_id: str) -> list[Invitation]:
        return [self._s.invitations[i] for i in self._s.user_invitations.get(user_id, ())]

    # --- revoked tokens ---------------------------------------------------------------

    async def revoke_token(self, token_id: str, expires_at: float) -> None:
        """Refuse the token ``token_id`` (its ``jti``) from now until it expires."""
        now = time.time()
        while self._revoked_by_expiry and self._revoked_by_expiry[0][0] < now:
            _, expired = heapq.heappop(self._revoked_by_expiry)
            self._revoked.pop(expired, None)
        if token_id and expires_at >= now and token_id not in self._revoked:
            self._revoked[token_id] = expires_at
            heapq.heappush(self._revoked_by_expiry, (expires_at, token_id))

    async def revoke_user(self, user_id: str, issued_up_to: float) -> None:
        """Refuse every token of ``user_id`` issued up to ``issued_up_to`` (Unix seconds)."""
        self._revoked_up_to[user_id] = max(issued_up_to, self._revoked_up_to.get(user_id, 0.0))

    async def is_revoked(self, user_id: str, token_id: str, issued_at: float) -> bool:
        if token_id and token_id in self._revoked:
            return True
        return issued_at <= self._revoked_up_to.get(user_id, -1.0)

    async def stats(self) -> dict[str, int]:
        return {
            "sessions": len(self._s.sessions),
            "rooms": sum(1 for room in self._s.rooms.values() if room.members),
            # Calls an invitation made that nobody has joined yet (they ring, or were just
            # accepted); each goes when its invitation fails or soon after it is accepted.
            "unjoined_calls": sum(1 for room in self._s.rooms.values() if not room.members),
            "invitations": len(self._s.invitations),
        }
