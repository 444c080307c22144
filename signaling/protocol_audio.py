"""Wire models of live audio rooms: seats, roles, requests to speak, seat invitations, attributes.

``signaling.protocol`` merges :data:`AUDIO_REQUESTS` and :data:`AUDIO_EVENTS` into its
tables; ``docs/protocol.md`` (section "Audio rooms") describes every model here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from signaling.wire import Id, UserInfo, WireModel

MAX_SEATS = 64
DEFAULT_SEAT_COUNT = 8
MAX_USER_ATTRIBUTES = 8
MAX_ATTRIBUTE_KEY_LENGTH = 32
MAX_ATTRIBUTE_VALUE_LENGTH = 128

SeatIndex = Annotated[int, Field(ge=0, lt=MAX_SEATS)]
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ATTRIBUTE_KEY_LENGTH)]
AttributeValue = Annotated[str, StringConstraints(max_length=MAX_ATTRIBUTE_VALUE_LENGTH)]
RoomRole = Literal["host", "audience"]
ApplicationEndReason = Literal[
    "accepted", "rejected", "cancelled", "timeout", "lock_changed", "left", "seated"
]
InvitationEndReason = Literal["accepted", "declined", "timeout", "left", "seated"]


# --- records ------------------------------------------------------------------------


class SeatConfig(WireModel):
    """How many seats a room has, which are reserved for the host, and the initial lock."""

    count: Annotated[int, Field(ge=1, le=MAX_SEATS)] = DEFAULT_SEAT_COUNT
    host_seat_indexes: Annotated[list[SeatIndex], Field(max_length=MAX_SEATS)] = Field(
        default_factory=lambda: [0]
    )
    lock: bool = False

    @model_validator(mode="after")
    def _indexes_fit(self) -> SeatConfig:
        if len(set(self.host_seat_indexes)) != len(self.host_seat_indexes):
            raise ValueError("host_seat_indexes has duplicates")
        if any(i >= self.count for i in self.host_seat_indexes):
            raise ValueError("a host seat index is not below count")
        return self


class SeatInfo(WireModel):
    index: SeatIndex
    user_id: Id | None
    locked: bool


class SeatMapInfo(WireModel):
    """The whole seat state of an audio room; ``version`` grows by one on every change."""

    version: int
    locked: bool
    host_id: Id | None
    cohost_id: Id | None
    host_seat_indexes: list[SeatIndex]
    seats: list[SeatInfo]


# --- requests -----------------------------------------------------------------------


class SeatRoomRequest(WireModel):
    room_id: Id


class SeatTakeRequest(WireModel):
    room_id: Id
    index: SeatIndex


class SeatSwitchRequest(WireModel):
    room_id: Id
    to: SeatIndex


class SeatLockRequest(WireModel):
    room_id: Id
    # None: the room-wide lock; an index: that seat only.
    index: SeatIndex | None = None
    locked: bool


class SeatUserRequest(WireModel):
    room_id: Id
    user_id: Id


class CohostRequest(WireModel):
    room_id: Id
    # Required even to revoke (null), so an empty payload cannot revoke by accident.
    user_id: Id | None


class UserAttributesRequest(WireModel):
    room_id: Id
    attributes: Annotated[
        dict[AttributeKey, AttributeValue], Field(min_length=1, max_length=MAX_USER_ATTRIBUTES)
    ]


# --- pushes -------------------------------------------------------------------------


class SeatChangedEvent(SeatMapInfo):
    room_id: Id


class SeatRemovedEvent(WireModel):
    room_id: Id
    index: SeatIndex
    by: Id


class SeatApplicationEvent(WireModel):
    room_id: Id
    user: UserInfo
    timeout_s: float


class SeatApplicationEndedEvent(WireModel):
    room_id: Id
    user: UserInfo
    reason: ApplicationEndReason
    by: Id | None
    index: SeatIndex | None


class SeatInvitedEvent(WireModel):
    room_id: Id
    inviter: UserInfo
    timeout_s: float


class SeatInvitationEndedEvent(WireModel):
    room_id: Id
    user: UserInfo
    inviter: Id
    reason: InvitationEndReason
    index: SeatIndex | None


class UserAttributesChangedEvent(WireModel):
    room_id: Id
    user_id: Id
    attributes: dict[str, str]


AUDIO_REQUESTS: dict[str, type[WireModel]] = {
    "seat.take": SeatTakeRequest,
    "seat.leave": SeatRoomRequest,
    "seat.switch": SeatSwitchRequest,
    "seat.lock": SeatLockRequest,
    "seat.remove": SeatUserRequest,
    "seat.mute": SeatUserRequest,
    "seat.ask_unmute": SeatUserRequest,
    "cohost.set": CohostRequest,
    "seat.apply": SeatRoomRequest,
    "seat.apply_cancel": SeatRoomRequest,
    "seat.application_accept": SeatUserRequest,
    "seat.application_reject": SeatUserRequest,
    "seat.invite": SeatUserRequest,
    "seat.invite_accept": SeatRoomRequest,
    "seat.invite_decline": SeatRoomRequest,
    "room.user_attributes.set": UserAttributesRequest,
}

AUDIO_EVENTS: dict[str, type[WireModel]] = {
    "seat.changed": SeatChangedEvent,
    "seat.removed": SeatRemovedEvent,
    "seat.application": SeatApplicationEvent,
    "seat.application_ended": SeatApplicationEndedEvent,
    "seat.invited": SeatInvitedEvent,
    "seat.invitation_ended": SeatInvitationEndedEvent,
    "room.user_attributes_changed": UserAttributesChangedEvent,
}
