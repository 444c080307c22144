"""Events of a live audio room (``ZegoUIKitPrebuiltLiveAudioRoomEvents`` and its groups).

Where a hook replaces a default behaviour (a seat's menu, the member list's "more" menu,
the leave dialog, navigation on end), the field's comment says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from app.kit.events.hooks import ConfirmResult, DefaultAction, DefaultConfirmation, HookResult
from app.kit.types import (
    AudioRoomEndEvent,
    InRoomMessage,
    KitError,
    LeaveConfirmationEvent,
    MicrophoneTurnOnByOthersEvent,
    RoomState,
    User,
)
from media.errors import AudioRoute


@dataclass(kw_only=True, slots=True)
class AudioRoomSeatHostEvents:
    """Seat events a host receives (``ZegoLiveAudioRoomSeatHostEvents``)."""

    #: An audience member applied for a seat.
    on_taking_requested: Callable[[User], HookResult] | None = None
    #: An audience member withdrew their application.
    on_taking_request_canceled: Callable[[User], HookResult] | None = None
    #: An invitation to take a seat could not be delivered.
    on_taking_invitation_failed: Callable[[], HookResult] | None = None
    #: An invited audience member declined.
    on_taking_invitation_rejected: Callable[[], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class AudioRoomSeatAudienceEvents:
    """Seat events an audience member receives (``ZegoLiveAudioRoomSeatAudienceEvents``)."""

    #: The application for a seat could not be delivered.
    on_taking_request_failed: Callable[[], HookResult] | None = None
    #: The host declined the application.
    on_taking_request_rejected: Callable[[], HookResult] | None = None
    #: The host invited the local user to take a seat.
    on_taking_invitation_received: Callable[[], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class AudioRoomSeatEvents:
    """Seat events (``ZegoLiveAudioRoomSeatEvents``)."""

    #: The seats were closed (locked): taking one now needs the host's consent.
    on_closed: Callable[[], HookResult] | None = None
    #: The seats were opened (unlocked): anyone may take an empty seat.
    on_opened: Callable[[], HookResult] | None = None
    #: A seat was clicked (index, occupant or None). Replaces the default seat menu.
    on_clicked: Callable[[int, User | None], HookResult] | None = None
    #: Someone took, left or switched a seat (taken seats by index, untaken indexes).
    on_changed: Callable[[Mapping[int, User], Sequence[int]], HookResult] | None = None
    host: AudioRoomSeatHostEvents = field(default_factory=AudioRoomSeatHostEvents)
    audience: AudioRoomSeatAudienceEvents = field(default_factory=AudioRoomSeatAudienceEvents)


@dataclass(kw_only=True, slots=True)
class AudioRoomUserEvents:
    """Members entering, leaving and changing (``ZegoLiveAudioRoomUserEvents``)."""

    on_enter: Callable[[User], HookResult] | None = None
    on_leave: Callable[[User], HookResult] | None = None
    #: The member count or members' attributes changed; all current members.
    on_count_or_property_changed: Callable[[Sequence[User]], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class AudioRoomRoomEvents:
    """The room's connection state (``ZegoLiveAudioRoomRoomEvents``)."""

    on_state_changed: Callable[[RoomState], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class AudioRoomAudioVideoEvents:
    """Local audio (``ZegoLiveAudioRoomAudioVideoEvents``)."""

    on_microphone_state_changed: Callable[[bool], HookResult] | None = None
    on_audio_output_changed: Callable[[AudioRoute], HookResult] | None = None
    #: Someone (a host) asks to turn the local microphone on; True allows it. Without a
    #: hook the request is refused, as in the seed.
    on_microphone_turn_on_by_others_confirmation: (
        Callable[[MicrophoneTurnOnByOthersEvent], ConfirmResult] | None
    ) = None


@dataclass(kw_only=True, slots=True)
class AudioRoomMemberListEvents:
    """The member list (``ZegoLiveAudioRoomMemberListEvents``)."""

    #: A member's row was clicked.
    on_clicked: Callable[[User], HookResult] | None = None
    #: A row's "more" button was pressed. Replaces the default "more" menu.
    on_more_button_pressed: Callable[[User], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class AudioRoomInRoomMessageEvents:
    """In-room messages (``ZegoLiveAudioRoomInRoomMessageEvents``)."""

    #: A message the local user sent succeeded or failed; ``message.state`` says which.
    #: (The seed's text for it survives without its name; the kit calls it ``onLocalSend``.)
    on_local_send: Callable[[InRoomMessage], HookResult] | None = None
    on_clicked: Callable[[InRoomMessage], HookResult] | None = None
    on_long_press: Callable[[InRoomMessage], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class AudioRoomDurationEvents:
    """The room's duration (``ZegoLiveAudioRoomDurationEvents``)."""

    #: Every second, the time since the room started (from the server's start time).
    on_update: Callable[[timedelta], HookResult] | None = None


@dataclass(kw_only=True, slots=True)
class AudioRoomEvents:
    """All events of a live audio room (``ZegoUIKitPrebuiltLiveAudioRoomEvents``)."""

    #: Before leaving: return True to leave. ``default_action`` shows the configured
    #: dialog (by default to the host only; approves when none) and returns the answer.
    on_leave_confirmation: (
        Callable[[LeaveConfirmationEvent, DefaultConfirmation], ConfirmResult] | None
    ) = None
    #: The room ended for the local user. A hook MUST leave the page, or hide the overlay
    #: when ``event.is_from_minimizing`` — the easy way is to call ``default_action()``.
    on_ended: Callable[[AudioRoomEndEvent, DefaultAction], HookResult] | None = None
    #: An error in the room (including a hook of this object that raised).
    on_error: Callable[[KitError], HookResult] | None = None
    seat: AudioRoomSeatEvents = field(default_factory=AudioRoomSeatEvents)
    user: AudioRoomUserEvents = field(default_factory=AudioRoomUserEvents)
    room: AudioRoomRoomEvents = field(default_factory=AudioRoomRoomEvents)
    audio_video: AudioRoomAudioVideoEvents = field(default_factory=AudioRoomAudioVideoEvents)
    member_list: AudioRoomMemberListEvents = field(default_factory=AudioRoomMemberListEvents)
    in_room_message: AudioRoomInRoomMessageEvents = field(
        default_factory=AudioRoomInRoomMessageEvents
    )
    duration: AudioRoomDurationEvents = field(default_factory=AudioRoomDurationEvents)
