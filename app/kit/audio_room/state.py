"""The state of one audio room as the local user knows it: seats, roles, requests.

Pure bookkeeping with no I/O, so the session (:mod:`app.kit.audio_room.session`) stays
about events and the rules here are easy to read: the seat map with the highest version
wins, roles follow from it, and :meth:`AudioRoomState.view` builds the page's
:class:`~app.kit.views.audio_room.AudioRoomView`. The remote members are the session's
(:attr:`RoomSession.members`); the local user's own member is kept here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from app.kit.config.audio_room import AudioRoomConfig
from app.kit.room.members import Member
from app.kit.types import AudioRoomRole, InRoomMessage, User
from app.kit.views.audio_room import AudioRoomView, MemberRole, MemberView, SeatView
from app.kit.views.call import SPEAKING_THRESHOLD, level_from_dbfs
from app.kit.views.chat import chat_views
from signaling.protocol import MemberInfo
from signaling.protocol_audio import SeatMapInfo

__all__ = ["AudioRoomState", "SeatDiff"]


@dataclass(frozen=True)
class SeatDiff:
    """What a newer seat map changed, for the events the session publishes."""

    first: bool
    lock_changed: bool
    seats_changed: bool
    roles_changed: bool
    was_seated: bool
    now_seated: bool


class AudioRoomState:
    """Seat map, requests and the local member of one room, from the local user's side."""

    def __init__(
        self, room_id: str, me: User, config: AudioRoomConfig, remote: Mapping[str, Member]
    ) -> None:
        """``remote`` is the session's live mapping of the other members."""
        self.room_id = room_id
        self.me = me
        self.config = config
        self.remote = remote
        self.local = Member(me)
        self.seat_map: SeatMapInfo | None = None
        #: Applicants waiting for an answer (hosts and the co-host see them), oldest first.
        self.applications: dict[str, User] = {}
        self.requesting = False
        self.invited_by: User | None = None

    # --- seats ------------------------------------------------------------------------

    def apply_seat_map(self, info: SeatMapInfo) -> SeatDiff | None:
        """Keep ``info`` if it is newer than the map held; None when it is not."""
        old = self.seat_map
        if old is not None and info.version <= old.version:
            return None
        was_seated = self.seat_of(self.me.id) is not None
        self.seat_map = info
        return SeatDiff(
            first=old is None,
            lock_changed=old is not None and old.locked != info.locked,
            seats_changed=old is None or _occupants(old) != _occupants(info),
            roles_changed=old is None
            or (old.host_id, old.cohost_id) != (info.host_id, info.cohost_id),
            was_seated=was_seated,
            now_seated=self.seat_of(self.me.id) is not None,
        )

    @property
    def locked(self) -> bool:
        return self.seat_map is not None and self.seat_map.locked

    @property
    def host_id(self) -> str | None:
        return self.seat_map.host_id if self.seat_map else None

    @property
    def cohost_id(self) -> str | None:
        return self.seat_map.cohost_id if self.seat_map else None

    def occupants(self) -> dict[int, str]:
        """Taken seats: index → user id."""
        return _occupants(self.seat_map) if self.seat_map else {}

    def seat_of(self, user_id: str) -> int | None:
        return next((i for i, uid in self.occupants().items() if uid == user_id), None)

    def speakers(self) -> set[str]:
        """Everyone on a seat (they send audio)."""
        return set(self.occupants().values())

    def user(self, user_id: str) -> User:
        """The member's user, or a nameless one for a seat holder we have not met yet."""
        member = self.members.get(user_id)
        return member.user if member else User(user_id, "")

    def seat_users(self) -> tuple[dict[int, User], list[int]]:
        """``seat.on_changed``'s arguments: taken seats with their users, untaken indexes."""
        taken = {i: self.user(uid) for i, uid in sorted(self.occupants().items())}
        count = len(self.seat_map.seats) if self.seat_map else 0
        return taken, [i for i in range(count) if i not in taken]

    def role_of(self, user_id: str) -> AudioRoomRole:
        if user_id == self.host_id:
            return AudioRoomRole.HOST
        return (
            AudioRoomRole.SPEAKER if self.seat_of(user_id) is not None else AudioRoomRole.AUDIENCE
        )

    @property
    def local_role(self) -> AudioRoomRole:
        return self.role_of(self.me.id)

    @property
    def can_manage(self) -> bool:
        """Host powers right now: the host, or the co-host while no host is present."""
        if self.host_id == self.me.id:
            return True
        return self.cohost_id == self.me.id and self.host_id is None

    # --- members ----------------------------------------------------------------------

    @property
    def members(self) -> dict[str, Member]:
        """Everyone in the room by user id, the local user first."""
        return {self.me.id: self.local, **self.remote}

    def set_local(self, info: MemberInfo) -> None:
        """What the server says of the local user (attributes, when they joined)."""
        fresh = Member.from_info(info)
        self.local = replace(self.local.refreshed(fresh), microphone=self.local.microphone)

    def users(self) -> list[User]:
        return [m.user for m in self.members.values()]

    # --- the page -------------------------------------------------------------------

    def view(
        self,
        *,
        duration_s: int,
        microphone_on: bool,
        speaker_on: bool,
        messages: Sequence[InRoomMessage],
        minimized: bool,
        reconnecting: bool,
    ) -> AudioRoomView:
        """The whole page as it should look now."""
        occupants = self.occupants()
        seat_map = self.seat_map
        members = self.members
        seats: list[SeatView] = []
        host_seats = set(seat_map.host_seat_indexes if seat_map else self.config.host_seat_indexes)
        count = len(seat_map.seats) if seat_map else self.config.seat_count
        for index in range(count):
            uid = occupants.get(index)
            member = members.get(uid) if uid else None
            local = uid == self.me.id
            # The local level is metered from the microphone slot: none while it is off.
            heard = member is not None and (microphone_on or not local)
            level = level_from_dbfs(member.level_dbfs) if member and heard else 0.0
            seats.append(
                SeatView(
                    index=index,
                    user=self.user(uid) if uid else None,
                    is_host=uid is not None and uid == self.host_id,
                    is_cohost=uid is not None and uid == self.cohost_id,
                    microphone_on=(microphone_on if local else bool(member and member.microphone)),
                    locked=bool(seat_map and seat_map.seats[index].locked),
                    speaking_level=level,
                    is_speaking=bool(heard and member and member.speaking)
                    or level > SPEAKING_THRESHOLD,
                    is_local=local,
                    is_host_seat=index in host_seats,
                )
            )
        rows = self.config.seat_rows if count == self.config.seat_count else ()
        return AudioRoomView(
            room_id=self.room_id,
            title=self.room_id,
            local_role=self.local_role,
            local_is_cohost=self.cohost_id == self.me.id,
            can_manage=self.can_manage,
            seats=tuple(seats),
            rows=rows,
            locked=self.locked,
            members=self._member_views(microphone_on),
            pending_requests=len(self.applications) if self.can_manage else 0,
            duration_s=duration_s,
            microphone_on=microphone_on,
            speaker_on=speaker_on,
            messages=chat_views(messages, self.me.id),
            minimized=minimized,
            reconnecting=reconnecting,
            requesting=self.requesting,
            invited_by=self.invited_by,
        )

    def _member_views(self, microphone_on: bool) -> tuple[MemberView, ...]:
        def rank(member: Member) -> tuple[int, int]:
            uid = member.user.id
            if uid == self.host_id:
                group = 0
            elif self.seat_of(uid) is not None:
                group = 1
            elif uid in self.applications:
                group = 2
            else:
                group = 3
            return group, member.joined_at_ms

        views = []
        for member in sorted(self.members.values(), key=rank):
            uid = member.user.id
            local = uid == self.me.id
            seated = self.seat_of(uid) is not None
            views.append(
                MemberView(
                    user=member.user,
                    role=self._label(uid, local, seated),
                    is_local=local,
                    requesting=uid in self.applications,
                    microphone_on=seated and (microphone_on if local else member.microphone),
                    seated=seated,
                )
            )
        return tuple(views)

    def _label(self, uid: str, local: bool, seated: bool) -> MemberRole:
        if local:
            return MemberRole.YOU
        if uid == self.host_id:
            return MemberRole.HOST
        if uid == self.cohost_id:
            return MemberRole.COHOST
        return MemberRole.SPEAKER if seated else MemberRole.AUDIENCE


def _occupants(info: SeatMapInfo) -> dict[int, str]:
    return {seat.index: seat.user_id for seat in info.seats if seat.user_id is not None}
