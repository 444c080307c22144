"""Configuration of calls, invitations and audio rooms, with the kits' presets.

Every config is a frozen dataclass validated when built, so a bad value fails where it
is written rather than inside a page. Start from a preset and change what differs::

    config = dataclasses.replace(CallConfig.group_video(), hang_up_confirmation=HANG_UP_DIALOG)

Sequences are stored as tuples; lists are accepted and copied.
"""

from __future__ import annotations

from app.kit.config.audio_room import (
    LEAVE_DIALOG,
    AudioRoomBottomBarConfig,
    AudioRoomConfig,
    AudioRoomMenuButton,
    LeaveConfirmationConfig,
    SeatAlignment,
    SeatRowConfig,
)
from app.kit.config.call import (
    HANG_UP_DIALOG,
    MAX_INVITATION_TIMEOUT_S,
    CallConfig,
    CallInvitationConfig,
    CallLayoutMode,
    CallMenuBarConfig,
    CallMenuButton,
    HangUpConfirmationConfig,
    RingtoneConfig,
    ViewCorner,
)

__all__ = [
    "HANG_UP_DIALOG",
    "LEAVE_DIALOG",
    "MAX_INVITATION_TIMEOUT_S",
    "AudioRoomBottomBarConfig",
    "AudioRoomConfig",
    "AudioRoomMenuButton",
    "CallConfig",
    "CallInvitationConfig",
    "CallLayoutMode",
    "CallMenuBarConfig",
    "CallMenuButton",
    "HangUpConfirmationConfig",
    "LeaveConfirmationConfig",
    "RingtoneConfig",
    "SeatAlignment",
    "SeatRowConfig",
    "ViewCorner",
]
