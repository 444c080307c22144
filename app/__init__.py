"""Parley's kit: events objects, configs, value types and the central event bus.

Everything an integrator needs is importable from here. This package (the parts
imported here) never imports Qt: services and tests can use it headless. The audio room
kit's entry points (``AudioRoomKit``, ``AudioRoomController``, ``AudioRoomSession``) are
imported on first use, because they bring the media stack (aiortc, PortAudio), which
the pytest plugin ``app.testing`` must not load before a suite has set up its devices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.audio_room_view import AudioRoomView, MemberRole, MemberView, SeatView
from app.bus import BusListener, EventBus, KitChannel
from app.config import (
    HANG_UP_DIALOG,
    LEAVE_DIALOG,
    AudioRoomBottomBarConfig,
    AudioRoomConfig,
    AudioRoomMenuButton,
    CallConfig,
    CallInvitationConfig,
    CallLayoutMode,
    CallMenuBarConfig,
    CallMenuButton,
    HangUpConfirmationConfig,
    LeaveConfirmationConfig,
    RingtoneConfig,
    SeatAlignment,
    SeatRowConfig,
    ViewCorner,
)
from app.events import (
    AudioRoomAudioVideoEvents,
    AudioRoomDurationEvents,
    AudioRoomEvents,
    AudioRoomInRoomMessageEvents,
    AudioRoomMemberListEvents,
    AudioRoomRoomEvents,
    AudioRoomSeatAudienceEvents,
    AudioRoomSeatEvents,
    AudioRoomSeatHostEvents,
    AudioRoomUserEvents,
    CallAudioVideoEvents,
    CallEvents,
    CallInvitationEvents,
    CallRoomEvents,
    CallUserEvents,
    ConfirmResult,
    DefaultAction,
    DefaultConfirmation,
    HookResult,
)
from app.types import (
    AudioRoomEndEvent,
    AudioRoomEndReason,
    AudioRoomRole,
    CallEndEvent,
    CallEndReason,
    CallUser,
    ConfirmationDialog,
    HangUpConfirmationEvent,
    InRoomMessage,
    InvitationUserInfo,
    KitError,
    KitException,
    LeaveConfirmationEvent,
    MessageState,
    MicrophoneTurnOnByOthersEvent,
    MinimizeState,
    RoomState,
    User,
)
from media.errors import AudioRoute, DeviceExceptionType
from signaling.enums import (
    CallType,
    InvitationEndReason,
    InvitationUserState,
    PresenceState,
    RoomStateChangedReason,
)

if TYPE_CHECKING:
    from app.audio_room_kit import AudioRoomController, AudioRoomKit
    from app.services.audio_room_session import AudioRoomSession

_LAZY = {
    "AudioRoomController": "app.audio_room_kit",
    "AudioRoomKit": "app.audio_room_kit",
    "AudioRoomSession": "app.services.audio_room_session",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'app' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "HANG_UP_DIALOG",
    "LEAVE_DIALOG",
    "AudioRoomAudioVideoEvents",
    "AudioRoomBottomBarConfig",
    "AudioRoomConfig",
    "AudioRoomController",
    "AudioRoomDurationEvents",
    "AudioRoomEndEvent",
    "AudioRoomEndReason",
    "AudioRoomEvents",
    "AudioRoomInRoomMessageEvents",
    "AudioRoomKit",
    "AudioRoomMemberListEvents",
    "AudioRoomMenuButton",
    "AudioRoomRole",
    "AudioRoomRoomEvents",
    "AudioRoomSeatAudienceEvents",
    "AudioRoomSeatEvents",
    "AudioRoomSeatHostEvents",
    "AudioRoomSession",
    "AudioRoomUserEvents",
    "AudioRoomView",
    "AudioRoute",
    "BusListener",
    "CallAudioVideoEvents",
    "CallConfig",
    "CallEndEvent",
    "CallEndReason",
    "CallEvents",
    "CallInvitationConfig",
    "CallInvitationEvents",
    "CallLayoutMode",
    "CallMenuBarConfig",
    "CallMenuButton",
    "CallRoomEvents",
    "CallType",
    "CallUser",
    "CallUserEvents",
    "ConfirmResult",
    "ConfirmationDialog",
    "DefaultAction",
    "DefaultConfirmation",
    "DeviceExceptionType",
    "EventBus",
    "HangUpConfirmationConfig",
    "HangUpConfirmationEvent",
    "HookResult",
    "InRoomMessage",
    "InvitationEndReason",
    "InvitationUserInfo",
    "InvitationUserState",
    "KitChannel",
    "KitError",
    "KitException",
    "LeaveConfirmationConfig",
    "LeaveConfirmationEvent",
    "MemberRole",
    "MemberView",
    "MessageState",
    "MicrophoneTurnOnByOthersEvent",
    "MinimizeState",
    "PresenceState",
    "RingtoneConfig",
    "RoomState",
    "RoomStateChangedReason",
    "SeatAlignment",
    "SeatRowConfig",
    "SeatView",
    "User",
    "ViewCorner",
]
