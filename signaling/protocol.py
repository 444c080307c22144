"""The wire protocol: event names, limits and a validated model for every payload.

Requests (client → server) are socket.io events sent with an acknowledgement; the
server validates them with the ``*Request`` models before touching any state. Server
pushes (server → client) use the ``*Event`` models, which the client validates too, so
a hostile or broken server cannot crash it. ``docs/protocol.md`` documents all of it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from signaling.enums import CallType, InvitationEndReason, InvitationUserState, PresenceState
from signaling.protocol_audio import (
    AUDIO_EVENTS,
    AUDIO_REQUESTS,
    MAX_ATTRIBUTE_VALUE_LENGTH,
    RoomRole,
    SeatConfig,
    SeatMapInfo,
)
from signaling.protocol_sfu import MAX_SDP_LENGTH, SFU_EVENTS, SFU_REQUESTS
from signaling.wire import MAX_ID_LENGTH, MAX_NAME_LENGTH, Id, Name, UserInfo, WireModel

PROTOCOL_VERSION = 2

# Limits. Exceeding one is a ``bad_request`` or ``payload_too_large`` answer.
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_CUSTOM_DATA_LENGTH = 4096
MAX_MESSAGE_LENGTH = 2000
MAX_COMMAND_LENGTH = 4096
MAX_INVITEES = 16
MAX_PROPERTY_KEY_LENGTH = 64
MAX_PROPERTY_VALUE_LENGTH = 1024
MAX_PROPERTIES_PER_ROOM = 32
MAX_HISTORY = 100
MIN_TIMEOUT_S = 1
MAX_TIMEOUT_S = 600
DEFAULT_TIMEOUT_S = 60

CustomData = Annotated[str, StringConstraints(max_length=MAX_CUSTOM_DATA_LENGTH)]
PropertyKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROPERTY_KEY_LENGTH)]
PropertyValue = Annotated[str, StringConstraints(max_length=MAX_PROPERTY_VALUE_LENGTH)]
RoomKind = Literal["call", "audio_room"]
DeviceKind = Literal["microphone", "camera"]
# Device exception names travel as strings; media.errors.DeviceExceptionType owns the list.
DeviceExceptionName = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z_]+$")
]
SignalKind = Literal["offer", "answer", "candidate", "renegotiate"]
# Enums arrive as their string values from JSON; strict mode would demand enum instances.
CallTypeField = Annotated[CallType, Field(strict=False)]
PresenceField = Annotated[PresenceState, Field(strict=False)]
InviteeStateField = Annotated[InvitationUserState, Field(strict=False)]
EndReasonField = Annotated[InvitationEndReason, Field(strict=False)]


# --- shared records -------------------------------------------------------------------


class PresenceInfo(WireModel):
    user_id: Id
    name: Name
    state: PresenceField


class MemberInfo(WireModel):
    user_id: Id
    name: Name
    microphone: bool
    camera: bool
    joined_at_ms: int
    attributes: dict[str, str] = Field(default_factory=dict)


class MessageInfo(WireModel):
    message_id: int
    room_id: Id
    sender: UserInfo
    text: str
    timestamp_ms: int


class InviteeState(WireModel):
    user_id: Id
    state: InviteeStateField
    extended_data: str = ""


class RoomSnapshot(WireModel):
    room_id: Id
    kind: RoomKind
    start_time_ms: int
    members: list[MemberInfo]
    properties: dict[str, str]
    messages: list[MessageInfo]
    # Audio rooms only: the seat map, and who is waiting for a seat (oldest first).
    seat_map: SeatMapInfo | None = None
    applications: list[UserInfo] = Field(default_factory=list)
    #: How the room's media travels: peer to peer, or through the server's SFU.
    media: Literal["mesh", "sfu"] = "mesh"


# --- requests (client → server, acknowledged) ----------------------------------------


class EmptyRequest(WireModel):
    pass


class SignOutRequest(WireModel):
    everywhere: bool = False


class JoinRoomRequest(WireModel):
    room_id: Id
    kind: RoomKind = "call"
    microphone: bool = False
    camera: bool = False
    # Audio rooms only: ask for the host role; the seat layout if this join creates the room.
    role: RoomRole = "audience"
    seats: SeatConfig | None = None

    @model_validator(mode="after")
    def _audio_options_need_audio_room(self) -> JoinRoomRequest:
        if self.kind != "audio_room" and (self.role != "audience" or self.seats is not None):
            raise ValueError("role and seats are for audio rooms only")
        return self


class RoomRequest(WireModel):
    room_id: Id


class RemoveUserRequest(WireModel):
    room_id: Id
    user_id: Id


class SendInvitationRequest(WireModel):
    invitees: Annotated[list[Id], Field(min_length=1, max_length=MAX_INVITEES)]
    call_type: CallTypeField
    call_id: Id | None = None
    custom_data: CustomData = ""
    timeout_s: Annotated[int, Field(ge=MIN_TIMEOUT_S, le=MAX_TIMEOUT_S)] = DEFAULT_TIMEOUT_S
    # Only honoured by the invitation that creates the call.
    only_initiator_can_invite: bool = False
    end_call_when_initiator_leaves: bool = False


class AnswerInvitationRequest(WireModel):
    invitation_id: Id
    custom_data: CustomData = ""


class DeclineInvitationRequest(WireModel):
    invitation_id: Id
    custom_data: CustomData = ""
    busy: bool = False


class CancelInvitationRequest(WireModel):
    invitation_id: Id
    # Empty: every invitee still pending.
    invitees: Annotated[list[Id], Field(max_length=MAX_INVITEES)] = Field(default_factory=list)
    custom_data: CustomData = ""


class RtcCandidate(WireModel):
    """A browser's ``RTCIceCandidateInit`` (what ``candidate.toJSON()`` gives), as is."""

    candidate: Annotated[str, StringConstraints(max_length=1024)]
    sdpMid: Annotated[str, StringConstraints(max_length=64)] | None = None  # noqa: N815 - browser's RTCIceCandidateInit names
    sdpMLineIndex: Annotated[int, Field(ge=0, le=64)] | None = None  # noqa: N815
    usernameFragment: Annotated[str, StringConstraints(max_length=256)] | None = None  # noqa: N815


class RtcDescription(WireModel):
    type: Literal["offer", "answer"]
    sdp: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SDP_LENGTH)]
    # Optional: which connection of the offerer this belongs to, so that a peer can tell
    # a rebuilt connection from a renegotiation of the current one.
    session: Id | None = None
    generation: Annotated[int, Field(ge=0, le=2**31)] | None = None


class RtcRenegotiate(WireModel):
    # Why the answering side asks (media.peer: "tracks", "directions", "restart"); the
    # server relays it without judging, only "restart" means something to the offerer.
    reason: Annotated[str, StringConstraints(max_length=32)] | None = None


_SIGNAL_PAYLOADS: dict[str, type[WireModel]] = {
    "offer": RtcDescription,
    "answer": RtcDescription,
    "candidate": RtcCandidate,
    "renegotiate": RtcRenegotiate,
}


def _check_signal_payload(kind: str, payload: WireModel) -> None:
    expected = _SIGNAL_PAYLOADS[kind]
    if not isinstance(payload, expected):
        raise ValueError(f"a {kind!r} signal needs a {expected.__name__} payload")
    if isinstance(payload, RtcDescription) and payload.type != kind:
        raise ValueError(f"a {kind!r} signal carries a description of type {payload.type!r}")


class RtcSignalRequest(WireModel):
    room_id: Id
    to: Id
    kind: SignalKind
    payload: RtcDescription | RtcCandidate | RtcRenegotiate

    @model_validator(mode="before")
    @classmethod
    def _payload_for_kind(cls, data: Any) -> Any:
        # The payload is read as the model its kind names, so a mistake is reported
        # against that model's fields ("payload.candidate: ...") rather than against
        # whichever member of the union pydantic tried last.
        if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
            return data
        kind = data.get("kind")
        model = _SIGNAL_PAYLOADS.get(kind) if isinstance(kind, str) else None
        if model is None:
            return data  # a bad kind is reported by the field's own validation
        try:
            payload = model.model_validate(data["payload"])
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(["payload", *(str(part) for part in first["loc"])])
            raise PydanticCustomError(
                "signal_payload",
                "{where}: {problem}",
                {"where": where, "problem": first["msg"]},
            ) from None
        return {**data, "payload": payload}

    @model_validator(mode="after")
    def _payload_fits_kind(self) -> RtcSignalRequest:
        _check_signal_payload(self.kind, self.payload)
        return self


class DeviceStateRequest(WireModel):
    room_id: Id
    microphone: bool | None = None
    camera: bool | None = None


class DeviceExceptionRequest(WireModel):
    room_id: Id
    device: DeviceKind
    exception: DeviceExceptionName


class DeviceControlRequest(WireModel):
    room_id: Id
    user_id: Id
    device: DeviceKind
    on: bool


class SendMessageRequest(WireModel):
    room_id: Id
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE_LENGTH)]


class SetPropertyRequest(WireModel):
    room_id: Id
    key: PropertyKey
    value: PropertyValue
    # Compare-and-set: only apply if the current value equals ``expected``
    # (``None`` with ``if_absent`` means "only if the key does not exist").
    expected: PropertyValue | None = None
    if_absent: bool = False
    delete_on_leave: bool = False


class DeletePropertiesRequest(WireModel):
    room_id: Id
    keys: Annotated[list[PropertyKey], Field(min_length=1, max_length=MAX_PROPERTIES_PER_ROOM)]


class RoomCommandRequest(WireModel):
    room_id: Id
    command: Annotated[str, StringConstraints(min_length=1, max_length=MAX_COMMAND_LENGTH)]
    to: Annotated[list[Id], Field(max_length=MAX_INVITEES)] = Field(default_factory=list)


# --- server pushes (server → client) --------------------------------------------------


class IceServerInfo(WireModel):
    """A STUN or TURN server for WebRTC, as ``RTCIceServer`` takes it; TURN entries carry
    time-limited credentials (``username`` is ``"<expiry>:<user_id>"``)."""

    urls: list[Annotated[str, StringConstraints(min_length=1, max_length=512)]]
    username: str = ""
    credential: str = ""


class WelcomeEvent(WireModel):
    protocol: int
    user: UserInfo
    server_time_ms: int
    #: The ICE servers to use (empty: none configured; host candidates only).
    ice_servers: list[IceServerInfo] = Field(default_factory=list)


class SessionKickedEvent(WireModel):
    reason: Literal["logged_in_elsewhere"]


class PresenceChangedEvent(WireModel):
    """One user's presence change: an entry of the ``presence.changed`` push (the
    client hands each entry to its listeners as an event of its own)."""

    user_id: Id
    name: Name
    state: PresenceField
    online: bool


class PresenceBatchEvent(WireModel):
    """The ``presence.changed`` push: the changes of a short window, one entry per user."""

    users: list[PresenceChangedEvent]


class UserEnteredEvent(WireModel):
    room_id: Id
    member: MemberInfo


class UserLeftEvent(WireModel):
    room_id: Id
    user: UserInfo
    reason: Literal["left", "disconnected", "removed"]


class KickedEvent(WireModel):
    room_id: Id
    kicker_id: Id


class RoomEndedEvent(WireModel):
    room_id: Id
    reason: Literal["initiator_left"]


class InvitationReceivedEvent(WireModel):
    invitation_id: Id
    call_id: Id
    caller: UserInfo
    call_type: CallTypeField
    invitees: list[UserInfo]
    custom_data: CustomData
    timeout_s: int


class InvitationUserStateEvent(WireModel):
    invitation_id: Id
    call_id: Id
    users: list[InviteeState]


class InvitationAcceptedEvent(WireModel):
    invitation_id: Id
    call_id: Id
    callee: UserInfo
    custom_data: CustomData


class InvitationDeclinedEvent(WireModel):
    invitation_id: Id
    call_id: Id
    callee: UserInfo
    custom_data: CustomData
    busy: bool


class InvitationCancelledEvent(WireModel):
    invitation_id: Id
    call_id: Id
    caller: UserInfo
    custom_data: CustomData
    caller_left: bool


class InvitationTimeoutEvent(WireModel):
    """Sent to each invitee that never answered, and once to the caller."""

    invitation_id: Id
    call_id: Id
    caller: UserInfo
    callees: list[UserInfo]
    call_type: CallTypeField


class InvitationEndedEvent(WireModel):
    invitation_id: Id
    call_id: Id
    reason: EndReasonField


class RtcSignalEvent(WireModel):
    room_id: Id
    sender: Id
    kind: SignalKind
    payload: RtcDescription | RtcCandidate | RtcRenegotiate

    @model_validator(mode="after")
    def _payload_fits_kind(self) -> RtcSignalEvent:
        _check_signal_payload(self.kind, self.payload)
        return self


class DeviceStateChangedEvent(WireModel):
    room_id: Id
    user_id: Id
    microphone: bool
    camera: bool


class DeviceExceptionEvent(WireModel):
    room_id: Id
    user_id: Id
    device: DeviceKind
    exception: DeviceExceptionName


class DeviceControlEvent(WireModel):
    """Someone asks this client to turn a device on (needs consent) or off (forced)."""

    room_id: Id
    requester: UserInfo
    device: DeviceKind
    on: bool


class MessageEvent(WireModel):
    message: MessageInfo


class PropertiesChangedEvent(WireModel):
    room_id: Id
    updated: dict[str, str]
    deleted: list[str]
    by: Id


class RoomCommandEvent(WireModel):
    room_id: Id
    sender: Id
    command: str


# Event name → model of its payload. One table for both directions keeps the names in one place.
REQUESTS: dict[str, type[WireModel]] = {
    "session.sign_out": SignOutRequest,
    "session.ice_servers": EmptyRequest,
    "presence.list": EmptyRequest,
    "presence.subscribe": EmptyRequest,
    "presence.unsubscribe": EmptyRequest,
    "room.join": JoinRoomRequest,
    "room.leave": RoomRequest,
    "room.remove_user": RemoveUserRequest,
    "invitation.send": SendInvitationRequest,
    "invitation.accept": AnswerInvitationRequest,
    "invitation.decline": DeclineInvitationRequest,
    "invitation.cancel": CancelInvitationRequest,
    "rtc.signal": RtcSignalRequest,
    "device.state": DeviceStateRequest,
    "device.exception": DeviceExceptionRequest,
    "device.control": DeviceControlRequest,
    "message.send": SendMessageRequest,
    "room.properties.set": SetPropertyRequest,
    "room.properties.delete": DeletePropertiesRequest,
    "room.properties.get": RoomRequest,
    "room.command": RoomCommandRequest,
    **AUDIO_REQUESTS,
    **SFU_REQUESTS,
}

EVENTS: dict[str, type[WireModel]] = {
    "session.welcome": WelcomeEvent,
    "session.kicked": SessionKickedEvent,
    "presence.changed": PresenceBatchEvent,
    "room.user_entered": UserEnteredEvent,
    "room.user_left": UserLeftEvent,
    "room.kicked": KickedEvent,
    "room.ended": RoomEndedEvent,
    "invitation.received": InvitationReceivedEvent,
    "invitation.user_state": InvitationUserStateEvent,
    "invitation.accepted": InvitationAcceptedEvent,
    "invitation.declined": InvitationDeclinedEvent,
    "invitation.cancelled": InvitationCancelledEvent,
    "invitation.timeout": InvitationTimeoutEvent,
    "invitation.ended": InvitationEndedEvent,
    "rtc.signal": RtcSignalEvent,
    "device.state_changed": DeviceStateChangedEvent,
    "device.exception": DeviceExceptionEvent,
    "device.control": DeviceControlEvent,
    "message.received": MessageEvent,
    "room.properties_changed": PropertiesChangedEvent,
    "room.command": RoomCommandEvent,
    **AUDIO_EVENTS,
    **SFU_EVENTS,
}


# Names this module re-exports from the modules below it (mypy's strict mode wants them listed).
__all__ = [
    "MAX_ATTRIBUTE_VALUE_LENGTH",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "Id",
    "Name",
    "RoomRole",
    "SeatConfig",
    "SeatMapInfo",
    "UserInfo",
    "WireModel",
]


def dump(model: WireModel) -> dict[str, Any]:
    """A model as the JSON-able dict that goes on the wire."""
    return model.model_dump(mode="json")
