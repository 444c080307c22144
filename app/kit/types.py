"""Value types and enums carried by the kit's events.

Every value type is a frozen dataclass validated in ``__post_init__``, so a malformed
event fails where it is built (in a service), never inside an integrator's hook.
Names drop the vendor prefixes of the seeds: ``ZegoUIKitUser`` → :class:`User`,
``ZegoCallEndEvent`` → :class:`CallEndEvent`; see ``docs/api.md`` for the full table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, TypeAlias

from signaling.enums import InvitationUserState, RoomStateChangedReason

__all__ = [
    "AudioRoomEndEvent",
    "AudioRoomEndReason",
    "AudioRoomRole",
    "CallEndEvent",
    "CallEndReason",
    "CallUser",
    "ConfirmationDialog",
    "HangUpConfirmationEvent",
    "InRoomMessage",
    "InvitationUserInfo",
    "KitError",
    "KitException",
    "LeaveConfirmationEvent",
    "MessageState",
    "MicrophoneTurnOnByOthersEvent",
    "MinimizeState",
    "RoomState",
    "User",
]

MAX_USER_ID_LENGTH = 64
MAX_USER_NAME_LENGTH = 64


def _require_str(owner: str, name: str, value: object) -> str:
    # Integrators may build these from untyped sources (JSON, Qt); fail early and clearly.
    if not isinstance(value, str):
        raise TypeError(f"{owner}.{name} must be a str, not {type(value).__name__}")
    return value


def _require_enum(owner: str, name: str, value: object, enum: type[StrEnum]) -> None:
    if not isinstance(value, enum):
        raise TypeError(f"{owner}.{name} must be a {enum.__name__}, not {value!r}")


@dataclass(frozen=True, slots=True)
class User:
    """A user as events report them (``ZegoUIKitUser``): a stable id and a display name."""

    id: str
    name: str

    def __post_init__(self) -> None:
        user_id = _require_str("User", "id", self.id)
        name = _require_str("User", "name", self.name)
        if not user_id:
            raise ValueError("User.id must not be empty")
        if len(user_id) > MAX_USER_ID_LENGTH:
            raise ValueError(f"User.id is longer than {MAX_USER_ID_LENGTH} characters")
        if len(name) > MAX_USER_NAME_LENGTH:
            raise ValueError(f"User.name is longer than {MAX_USER_NAME_LENGTH} characters")


#: ``ZegoCallUser``. The same value as :class:`User`: a person in a call is the same
#: person elsewhere, and two classes would make ``caller == user`` silently false.
CallUser: TypeAlias = User


@dataclass(frozen=True, slots=True)
class KitError:
    """An error reported through ``on_error`` (``ZegoUIKitError``).

    ``code`` is a stable machine-readable string (server codes are listed in
    ``docs/errors.md``); ``message`` is for people and logs.
    """

    #: A hook raised; the message names the hook and the exception.
    HOOK_FAILED: ClassVar[str] = "hook_failed"
    #: A default action (dialog, navigation, toast) raised.
    DEFAULT_ACTION_FAILED: ClassVar[str] = "default_action_failed"

    code: str
    message: str = ""

    def __post_init__(self) -> None:
        if not _require_str("KitError", "code", self.code):
            raise ValueError("KitError.code must not be empty")
        _require_str("KitError", "message", self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


# The name pairs it with KitError, which already owns the "Error" suffix.
class KitException(Exception):  # noqa: N818
    """Raised by kit calls that fail (``send``, ``take_seat`` …); carries the :class:`KitError`."""

    def __init__(self, error: KitError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class RoomState:
    """A room (login) state change (``ZegoUIKitRoomState``).

    ``extended_data`` holds e.g. ``room_session_id`` after a successful login. It is
    copied into a read-only mapping and left out of hashing.
    """

    reason: RoomStateChangedReason
    error_code: int = 0
    extended_data: Mapping[str, object] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def __post_init__(self) -> None:
        _require_enum("RoomState", "reason", self.reason, RoomStateChangedReason)
        if isinstance(self.error_code, bool) or not isinstance(self.error_code, int):
            raise TypeError("RoomState.error_code must be an int")
        # A private copy: the publisher's dict must not change an event already delivered.
        object.__setattr__(self, "extended_data", MappingProxyType(dict(self.extended_data)))


class CallEndReason(StrEnum):
    """Why a call ended for the local user (``ZegoCallEndReason``)."""

    #: The local user hung up.
    LOCAL_HANG_UP = "local_hang_up"
    #: The last remote user left, leaving the local user alone.
    REMOTE_HANG_UP = "remote_hang_up"
    #: The local user was removed; ``CallEndEvent.kicker_user_id`` says by whom.
    KICK_OUT = "kick_out"
    #: The users the call was waiting for never arrived.
    ABANDONED = "abandoned"


def _check_end(owner: str, kicker: str | None, is_kick: bool, minimizing: bool) -> None:
    if kicker is not None:
        _require_str(owner, "kicker_user_id", kicker)
        if not is_kick:
            raise ValueError(f"{owner}.kicker_user_id is only set when the reason is KICK_OUT")
    if not isinstance(minimizing, bool):
        raise TypeError(f"{owner}.is_from_minimizing must be a bool")


@dataclass(frozen=True, slots=True)
class CallEndEvent:
    """Passed to ``on_call_end`` (``ZegoCallEndEvent``).

    ``is_from_minimizing`` tells the hook the call page is not shown: hide the overlay
    rather than navigating back.
    """

    reason: CallEndReason
    kicker_user_id: str | None = None
    is_from_minimizing: bool = False

    def __post_init__(self) -> None:
        _require_enum("CallEndEvent", "reason", self.reason, CallEndReason)
        is_kick = self.reason is CallEndReason.KICK_OUT
        _check_end("CallEndEvent", self.kicker_user_id, is_kick, self.is_from_minimizing)


@dataclass(frozen=True, slots=True)
class ConfirmationDialog:
    """Texts of a confirmation dialog (hang up, leave); shown by the default action."""

    title: str
    message: str
    cancel_text: str = "Cancel"
    confirm_text: str = "OK"

    def __post_init__(self) -> None:
        for name in ("title", "message", "cancel_text", "confirm_text"):
            _require_str("ConfirmationDialog", name, getattr(self, name))
        if not self.cancel_text or not self.confirm_text:
            raise ValueError("ConfirmationDialog button texts must not be empty")


@dataclass(frozen=True, slots=True)
class HangUpConfirmationEvent:
    """Passed to ``on_hang_up_confirmation``; the seed passes a ``BuildContext`` instead.

    ``dialog`` is the configured dialog, or ``None`` when the call is configured without
    one — then the default action approves at once.
    """

    call_id: str
    dialog: ConfirmationDialog | None = None

    def __post_init__(self) -> None:
        _require_str("HangUpConfirmationEvent", "call_id", self.call_id)


@dataclass(frozen=True, slots=True)
class LeaveConfirmationEvent:
    """Passed to ``on_leave_confirmation`` (``ZegoLiveAudioRoomLeaveConfirmationEvent``).

    ``dialog`` is ``None`` when no dialog is configured for the local role.
    """

    room_id: str
    dialog: ConfirmationDialog | None = None

    def __post_init__(self) -> None:
        _require_str("LeaveConfirmationEvent", "room_id", self.room_id)


@dataclass(frozen=True, slots=True)
class MicrophoneTurnOnByOthersEvent:
    """Passed to ``on_microphone_turn_on_by_others_confirmation``: who asks to unmute you."""

    requester: User

    def __post_init__(self) -> None:
        if not isinstance(self.requester, User):
            raise TypeError("MicrophoneTurnOnByOthersEvent.requester must be a User")


@dataclass(frozen=True, slots=True)
class InvitationUserInfo:
    """One invitee's state (``ZegoSignalingPluginInvitationUserInfo``).

    A busy refusal is ``REJECTED`` with ``extended_data`` carrying the reason, as in the kit.
    """

    user_id: str
    state: InvitationUserState
    extended_data: str = ""

    def __post_init__(self) -> None:
        if not _require_str("InvitationUserInfo", "user_id", self.user_id):
            raise ValueError("InvitationUserInfo.user_id must not be empty")
        _require_enum("InvitationUserInfo", "state", self.state, InvitationUserState)
        _require_str("InvitationUserInfo", "extended_data", self.extended_data)


class AudioRoomRole(StrEnum):
    """A member's role in a live audio room (``ZegoLiveAudioRoomRole``)."""

    HOST = "host"
    SPEAKER = "speaker"
    AUDIENCE = "audience"


class AudioRoomEndReason(StrEnum):
    """Why the audio room ended for the local user (``ZegoLiveAudioRoomEndReason``)."""

    LOCAL_LEAVE = "local_leave"
    KICK_OUT = "kick_out"


@dataclass(frozen=True, slots=True)
class AudioRoomEndEvent:
    """Passed to ``on_ended`` (``ZegoLiveAudioRoomEndEvent``)."""

    reason: AudioRoomEndReason
    kicker_user_id: str | None = None
    is_from_minimizing: bool = False

    def __post_init__(self) -> None:
        _require_enum("AudioRoomEndEvent", "reason", self.reason, AudioRoomEndReason)
        is_kick = self.reason is AudioRoomEndReason.KICK_OUT
        _check_end("AudioRoomEndEvent", self.kicker_user_id, is_kick, self.is_from_minimizing)


class MessageState(StrEnum):
    """Delivery state of an in-room message (``ZegoInRoomMessageState``)."""

    SENDING = "sending"
    SUCCESS = "success"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class InRoomMessage:
    """A chat message in a room (``ZegoInRoomMessage``).

    ``message_id`` is local until the server acknowledges it; a resend keeps it.
    """

    message_id: str
    sender: User
    text: str
    timestamp_ms: int
    state: MessageState = MessageState.SUCCESS

    def __post_init__(self) -> None:
        if not _require_str("InRoomMessage", "message_id", self.message_id):
            raise ValueError("InRoomMessage.message_id must not be empty")
        if not isinstance(self.sender, User):
            raise TypeError("InRoomMessage.sender must be a User")
        _require_str("InRoomMessage", "text", self.text)
        if isinstance(self.timestamp_ms, bool) or not isinstance(self.timestamp_ms, int):
            raise TypeError("InRoomMessage.timestamp_ms must be an int")
        if self.timestamp_ms < 0:
            raise ValueError("InRoomMessage.timestamp_ms must not be negative")
        _require_enum("InRoomMessage", "state", self.state, MessageState)


class MinimizeState(StrEnum):
    """Whether a call or room is shown as the small overlay (``ZegoCallMiniOverlayPageState``)."""

    IDLE = "idle"
    MINIMIZING = "minimizing"
