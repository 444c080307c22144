"""The events objects integrators fill with hooks: call, call invitation, audio room."""

from __future__ import annotations

from app.kit.events.audio_room import (
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
)
from app.kit.events.call import CallAudioVideoEvents, CallEvents, CallRoomEvents, CallUserEvents
from app.kit.events.hooks import (
    ConfirmResult,
    DefaultAction,
    DefaultConfirmation,
    HookResult,
    hook_paths,
)
from app.kit.events.invitation import CallInvitationEvents

__all__ = [
    "AudioRoomAudioVideoEvents",
    "AudioRoomDurationEvents",
    "AudioRoomEvents",
    "AudioRoomInRoomMessageEvents",
    "AudioRoomMemberListEvents",
    "AudioRoomRoomEvents",
    "AudioRoomSeatAudienceEvents",
    "AudioRoomSeatEvents",
    "AudioRoomSeatHostEvents",
    "AudioRoomUserEvents",
    "CallAudioVideoEvents",
    "CallEvents",
    "CallInvitationEvents",
    "CallRoomEvents",
    "CallUserEvents",
    "ConfirmResult",
    "DefaultAction",
    "DefaultConfirmation",
    "HookResult",
    "hook_paths",
]
