"""Events of a call (``ZegoUIKitPrebuiltCallEvents`` and its groups).

Assign hooks at construction or afterwards; every hook is optional. Notification hooks
may be plain functions or coroutines. See ``docs/api.md`` for when each one fires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.kit.events.hooks import ConfirmResult, DefaultAction, DefaultConfirmation, HookResult
from app.kit.types import CallEndEvent, HangUpConfirmationEvent, KitError, RoomState, User
from media.errors import AudioRoute, DeviceExceptionType

__all__ = ["CallAudioVideoEvents", "CallEvents", "CallRoomEvents", "CallUserEvents"]


@dataclass(kw_only=True, slots=True)
class CallUserEvents:
    """Users entering and leaving the call (``ZegoCallUserEvents``)."""

    #: A remote user joined the call.
    on_enter: Callable[[User], HookResult] | None = None
    #: A remote user left the call.
    on_leave: Callable[[User], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class CallRoomEvents:
    """The call room's connection state (``ZegoCallRoomEvents``)."""

    #: Logging in, logged in, reconnecting, kicked out … see ``RoomStateChangedReason``.
    on_state_changed: Callable[[RoomState], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class CallAudioVideoEvents:
    """Local devices and remote device failures (``ZegoCallAudioVideoEvents``)."""

    #: The local camera was turned on (True) or off (False).
    on_camera_state_changed: Callable[[bool], HookResult] | None = None
    #: The local camera switched; True for the front/default camera. On the desktop the
    #: "front" camera is the first (default) one.
    on_front_facing_camera_state_changed: Callable[[bool], HookResult] | None = None
    #: The local microphone was turned on (True) or off (False).
    on_microphone_state_changed: Callable[[bool], HookResult] | None = None
    #: The local audio output changed.
    on_audio_output_changed: Callable[[AudioRoute], HookResult] | None = None
    #: The local camera failed; ``None`` when the cause is not known.
    on_local_camera_exception_occurred: (
        Callable[[DeviceExceptionType | None], HookResult] | None
    ) = None
    #: The local microphone failed; ``None`` when the cause is not known.
    on_local_microphone_exception_occurred: (
        Callable[[DeviceExceptionType | None], HookResult] | None
    ) = None
    #: A remote user's camera failed.
    on_remote_camera_exception_occurred: (
        Callable[[User, DeviceExceptionType | None], HookResult] | None
    ) = None
    #: A remote user's microphone failed.
    on_remote_microphone_exception_occurred: (
        Callable[[User, DeviceExceptionType | None], HookResult] | None
    ) = None


@dataclass(kw_only=True, slots=True)
class CallEvents:
    """All events of a call (``ZegoUIKitPrebuiltCallEvents``).

    ``on_hang_up_confirmation`` and ``on_call_end`` replace the kit's behaviour and get
    it as ``default_action``, exactly as in the seed.
    """

    #: An error in the call (including a hook of this object that raised).
    on_error: Callable[[KitError], HookResult] | None = None
    #: Before hanging up: return True to hang up, False to stay. ``default_action`` shows
    #: the configured dialog (or approves when none is configured) and returns the answer.
    on_hang_up_confirmation: (
        Callable[[HangUpConfirmationEvent, DefaultConfirmation], ConfirmResult] | None
    ) = None
    #: The call ended. A hook MUST leave the call page itself — the easy way is to call
    #: ``default_action()`` — or the user stays on it.
    on_call_end: Callable[[CallEndEvent, DefaultAction], HookResult] | None = None
    user: CallUserEvents = field(default_factory=CallUserEvents)
    room: CallRoomEvents = field(default_factory=CallRoomEvents)
    audio_video: CallAudioVideoEvents = field(default_factory=CallAudioVideoEvents)
