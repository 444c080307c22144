"""What the audio-room page shows: immutable view states the room session fills.

The contract between the Qt-free :class:`~app.kit.audio_room.session.AudioRoomSession`
and ``widgets/``: the session builds a new :class:`AudioRoomView` whenever something
changes (seat map, members, requests, messages, levels, duration) and hands it to the
page's ``render``. Pages keep no room state of their own beyond what the user is doing
with the mouse (an open menu, a typed message).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.kit.config.audio_room import SeatRowConfig
from app.kit.types import AudioRoomRole, User
from app.kit.views.call import CallView, TileView
from app.kit.views.chat import ChatMessageView

__all__ = [
    "AudioRoomView",
    "ChatMessageView",
    "MemberRole",
    "MemberView",
    "SeatAction",
    "SeatView",
    "overlay_view",
]


class MemberRole(StrEnum):
    """The label of a member-list row (the kit's texts)."""

    YOU = "You"
    HOST = "Host"
    COHOST = "Co-host"
    SPEAKER = "Speaker"
    AUDIENCE = "Audience"


class SeatAction(StrEnum):
    """An entry of a seat's menu; the value travels in the page's
    ``seat_action(action, index, user_id)`` to the room presenter."""

    TAKE = "take"
    SWITCH = "switch"
    LEAVE = "leave"
    APPLY = "apply"
    CANCEL_APPLY = "cancel_apply"
    REMOVE = "remove"
    MUTE = "mute"
    ASK_UNMUTE = "ask_unmute"
    ASSIGN_COHOST = "assign_cohost"
    REVOKE_COHOST = "revoke_cohost"
    LOCK = "lock"
    UNLOCK = "unlock"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class SeatView:
    """One seat of the grid: who sits there (if anyone) and how they sound."""

    index: int
    #: The occupant, or ``None`` for an empty seat.
    user: User | None = None
    #: The occupant is the room's host (host badge).
    is_host: bool = False
    #: The occupant is the co-host (co-host badge).
    is_cohost: bool = False
    #: The occupant's microphone; ``False`` shows the mic-off badge. Empty seats: False.
    microphone_on: bool = False
    #: This seat alone is locked; an empty locked seat shows the lock icon. The page
    #: shows a lock on every empty seat when :attr:`AudioRoomView.locked` instead.
    locked: bool = False
    #: Smoothed audio level 0 (silence) … 1 (full scale); drives the sound-wave ring.
    speaking_level: float = 0.0
    is_speaking: bool = False
    #: The occupant is the local user.
    is_local: bool = False
    #: Only hosts may take this seat (``AudioRoomConfig.host_seat_indexes``).
    is_host_seat: bool = False

    def __post_init__(self) -> None:
        if self.index < 0:
            raise ValueError("SeatView.index must not be negative")
        if not 0.0 <= self.speaking_level <= 1.0:
            raise ValueError("SeatView.speaking_level must be within 0..1")
        if self.user is None and (self.is_host or self.is_cohost or self.is_local):
            raise ValueError("SeatView: an empty seat has no host, co-host or local occupant")

    @property
    def empty(self) -> bool:
        """Nobody sits here."""
        return self.user is None


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberView:
    """One row of the member list."""

    user: User
    #: The label shown after the name; the local user's row says ``YOU``.
    role: MemberRole
    is_local: bool = False
    #: The member applied for a seat and waits: hosts see Agree/Disagree on the row.
    requesting: bool = False
    #: Whether the member speaks with the microphone on (audience: False).
    microphone_on: bool = False
    #: The member sits on a seat (host or speaker).
    seated: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.role, MemberRole):
            raise TypeError("MemberView.role must be a MemberRole")


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioRoomView:
    """The whole audio-room page.

    ``seats`` follow the grid order (index 0 first); ``rows`` say how many of them each
    row holds. ``members`` are already sorted as the member list shows them: host, then
    speakers, then requesters, then the rest.
    """

    room_id: str
    title: str = ""
    #: The local user's current role; the bottom bar follows it.
    local_role: AudioRoomRole = AudioRoomRole.AUDIENCE
    #: The local user is the room's co-host (host powers while no host is present).
    local_is_cohost: bool = False
    #: The local user may use host powers right now (host, or co-host without a host).
    can_manage: bool = False
    seats: tuple[SeatView, ...] = ()
    rows: tuple[SeatRowConfig, ...] = ()
    #: All seats are locked (closed): taking one needs the host's consent.
    locked: bool = False
    members: tuple[MemberView, ...] = ()
    #: Applications waiting for a host's answer: the red dot on the member button.
    pending_requests: int = 0
    duration_s: int = 0
    microphone_on: bool = False
    #: The room is heard (False: the local user muted the speaker).
    speaker_on: bool = True
    messages: tuple[ChatMessageView, ...] = ()
    minimized: bool = False
    reconnecting: bool = False
    #: The local user applied for a seat and waits (the apply button reads "Cancel").
    requesting: bool = False
    #: A host invited the local user to a seat: the page shows the invitation dialog.
    invited_by: User | None = None

    def __post_init__(self) -> None:
        if not self.room_id:
            raise ValueError("AudioRoomView.room_id must not be empty")
        if not isinstance(self.local_role, AudioRoomRole):
            raise TypeError("AudioRoomView.local_role must be an AudioRoomRole")
        object.__setattr__(self, "seats", tuple(self.seats))
        object.__setattr__(self, "rows", tuple(self.rows))
        object.__setattr__(self, "members", tuple(self.members))
        object.__setattr__(self, "messages", tuple(self.messages))
        if [seat.index for seat in self.seats] != list(range(len(self.seats))):
            raise ValueError("AudioRoomView.seats must be in index order from 0")
        if self.rows and sum(row.count for row in self.rows) != len(self.seats):
            raise ValueError("AudioRoomView.rows must hold exactly the seats")
        if self.duration_s < 0 or self.pending_requests < 0:
            raise ValueError("AudioRoomView: duration_s and pending_requests must be >= 0")

    @property
    def local_seat(self) -> SeatView | None:
        """The seat the local user sits on, if any."""
        return next((seat for seat in self.seats if seat.is_local), None)

    def seat(self, index: int) -> SeatView:
        """The seat at ``index``."""
        return self.seats[index]

    def seat_rows(self) -> tuple[tuple[SeatView, ...], ...]:
        """The seats split into the configured rows (one row of all seats without rows)."""
        if not self.rows:
            return (self.seats,)
        out: list[tuple[SeatView, ...]] = []
        start = 0
        for row in self.rows:
            out.append(self.seats[start : start + row.count])
            start += row.count
        return tuple(out)


def overlay_view(view: AudioRoomView) -> CallView:
    """The room as the minimize overlay
    shows a call: the local member first, then whoever sits on a seat."""
    tiles: list[TileView] = []
    local = next((member for member in view.members if member.is_local), None)
    own_seat = view.local_seat
    if local is not None:
        tiles.append(
            TileView(
                user_id=local.user.id,
                name=local.user.name,
                is_local=True,
                camera_on=False,
                microphone_on=view.microphone_on,
                speaking_level=own_seat.speaking_level if own_seat else 0.0,
                is_speaking=own_seat.is_speaking if own_seat else False,
            )
        )
    for seat in view.seats:
        if seat.user is None or seat.is_local or any(t.user_id == seat.user.id for t in tiles):
            continue
        tiles.append(
            TileView(
                user_id=seat.user.id,
                name=seat.user.name,
                camera_on=False,
                microphone_on=seat.microphone_on,
                speaking_level=seat.speaking_level,
                is_speaking=seat.is_speaking,
            )
        )
    return CallView(
        call_id=view.room_id,
        title=view.title or view.room_id,
        is_video=False,
        tiles=tuple(tiles),
        duration_s=view.duration_s,
        microphone_on=view.microphone_on,
        camera_on=False,
        minimized=True,
        reconnecting=view.reconnecting,
        microphone_available=own_seat is not None,
    )
