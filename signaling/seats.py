"""The seat map of a live audio room and every change to it, as pure logic (no I/O, no awaits).

An audio room has numbered seats (a user id or empty, each with its own lock), a room-wide
lock, a host, an optional co-host, pending requests to speak ("applications") and pending
host invitations to a seat. Every change is an operation object (``signaling.seat_ops``)
handed to :func:`signaling.seat_ops.apply`,
which either raises :class:`SignalingError` having changed nothing, or makes the whole
change and bumps ``version`` once if the seat map changed. The store runs ``apply`` as one
step (see ``signaling.store``), which is what makes seats race-free: two people can never
hold one seat, because "is it free?" and "take it" are the same step.

Rules, in one place:

- Host powers (lock, remove, mute, invite, answer applications, kick) belong to the host,
  and to the co-host only while no host is present.
- Seat privileges (sit on host seats, ignore locks) belong to the host and the co-host.
- Anyone else may take or switch to an empty seat that is not a host seat, not locked,
  in a room that is not locked; otherwise they apply or wait for an invitation.
- Changing the room-wide lock ends every pending application (``lock_changed``).
- When the last of host and co-host leaves, every lock opens and pending applications
  end (``lock_changed``): nobody is left who could answer them.
- Taking a seat by any route ends the user's own pending application and invitation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol_audio import (
    ApplicationEndReason,
    InvitationEndReason,
    SeatConfig,
    SeatInfo,
    SeatMapInfo,
)

PendingKind = Literal["application", "invitation"]


@dataclass(frozen=True)
class Pending:
    """A request to speak (``inviter_id`` is None) or a host's invitation to a seat."""

    user_id: str
    name: str
    # Tells this request from a later one by the same user, so a stale timer is harmless.
    token: str
    inviter_id: str | None = None
    inviter_name: str | None = None


@dataclass(frozen=True)
class Ended:
    """A pending application or invitation that an operation ended, and why."""

    kind: PendingKind
    pending: Pending
    reason: ApplicationEndReason | InvitationEndReason
    by: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What an operation did: the new map if it changed, the seat it gave, what it ended."""

    seat_map: SeatMapInfo | None = None
    index: int | None = None
    ended: tuple[Ended, ...] = ()


def error(code: ErrorCode, message: str) -> SignalingError:
    return SignalingError(code, message)


@dataclass
class AudioRoomState:
    """The seat state of one audio room. Change it only through :func:`apply`."""

    host_seat_indexes: tuple[int, ...]
    seats: list[str | None]
    seat_locks: list[bool]
    locked: bool
    version: int = 0
    host_id: str | None = None
    cohost_id: str | None = None
    # Insertion order is age order: the oldest request first.
    applications: dict[str, Pending] = field(default_factory=dict)
    invitations: dict[str, Pending] = field(default_factory=dict)

    @classmethod
    def create(cls, config: SeatConfig | None = None) -> AudioRoomState:
        config = config or SeatConfig()
        return cls(
            host_seat_indexes=tuple(sorted(config.host_seat_indexes)),
            seats=[None] * config.count,
            seat_locks=[False] * config.count,
            locked=config.lock,
        )

    # --- queries ------------------------------------------------------------------

    def seat_of(self, user_id: str) -> int | None:
        try:
            return self.seats.index(user_id)
        except ValueError:
            return None

    def has_host_powers(self, user_id: str) -> bool:
        """The host, or the co-host while no host is present."""
        return user_id == self.host_id or (self.host_id is None and user_id == self.cohost_id)

    def privileged(self, user_id: str) -> bool:
        """May sit on host seats and ignore locks."""
        return user_id in (self.host_id, self.cohost_id)

    def open_to_audience(self, index: int) -> bool:
        return not (self.locked or self.seat_locks[index] or index in self.host_seat_indexes)

    def view(self) -> SeatMapInfo:
        return SeatMapInfo(
            version=self.version,
            locked=self.locked,
            host_id=self.host_id,
            cohost_id=self.cohost_id,
            host_seat_indexes=list(self.host_seat_indexes),
            seats=[
                SeatInfo(index=i, user_id=u, locked=self.seat_locks[i])
                for i, u in enumerate(self.seats)
            ],
        )

    # --- checks and steps used by the operations ----------------------------------

    def _changed(self, index: int | None = None, ended: tuple[Ended, ...] = ()) -> Outcome:
        self.version += 1
        return Outcome(self.view(), index, ended)

    def _check_index(self, index: int) -> None:
        if index >= len(self.seats):
            raise error(ErrorCode.BAD_REQUEST, f"seat {index} does not exist")

    def _check_can_sit(self, user_id: str, index: int) -> None:
        self._check_index(index)
        if not self.privileged(user_id):
            if index in self.host_seat_indexes:
                raise error(ErrorCode.FORBIDDEN, f"seat {index} is a host seat")
            if self.locked or self.seat_locks[index]:
                raise error(ErrorCode.FORBIDDEN, f"seat {index} is locked; apply to speak")
        if self.seats[index] is not None:
            raise error(ErrorCode.CONFLICT, f"seat {index} is taken")

    def _check_powers(self, user_id: str) -> None:
        if not self.has_host_powers(user_id):
            raise error(ErrorCode.FORBIDDEN, "only the host (or the co-host without a host) may")

    def _free_seat(self) -> int:
        """The seat a host's yes gives: the first empty one that is not reserved or locked."""
        reserved = set(self.host_seat_indexes)
        for index, occupant in enumerate(self.seats):
            if occupant is None and not self.seat_locks[index] and index not in reserved:
                return index
        raise error(ErrorCode.LIMIT_EXCEEDED, "no free seat")

    def _sit(self, user_id: str, index: int, accepted: PendingKind | None = None) -> list[Ended]:
        """Seat the user and end their own pending requests.

        The request that was ``accepted`` (if any) ends as ``accepted``; any other one as
        ``seated`` (it is moot: the user got a seat another way).
        """
        self.seats[index] = user_id
        ended = []
        tables: tuple[tuple[PendingKind, dict[str, Pending]], ...] = (
            ("application", self.applications),
            ("invitation", self.invitations),
        )
        for kind, table in tables:
            pending = table.pop(user_id, None)
            if pending is not None:
                reason: Literal["accepted", "seated"] = "accepted" if kind == accepted else "seated"
                ended.append(Ended(kind, pending, reason, user_id, index))
        return ended
