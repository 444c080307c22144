"""Configuration of calls and of the invitation service, with the call kit's presets."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeAlias

from app.kit.config.validate import is_int, require, unique_enums
from app.kit.types import ConfirmationDialog

#: Texts of the hang-up dialog; the same shape as the leave dialog, hence one class.
HangUpConfirmationConfig: TypeAlias = ConfirmationDialog

#: The kit's default hang-up dialog; calls have none unless configured.
HANG_UP_DIALOG = ConfirmationDialog(title="Hang up", message="Do you want to hang up?")


class CallLayoutMode(StrEnum):
    """How a call page arranges video (``ZegoLayout``)."""

    #: One big remote view and a small draggable local view; a click swaps them.
    PICTURE_IN_PICTURE = "picture_in_picture"
    #: A grid, local user first.
    GALLERY = "gallery"


class ViewCorner(StrEnum):
    """Where the small view of picture-in-picture starts."""

    TOP_LEFT = "top_left"
    TOP_RIGHT = "top_right"
    BOTTOM_LEFT = "bottom_left"
    BOTTOM_RIGHT = "bottom_right"


class CallMenuButton(StrEnum):
    """Buttons of a call's menu bars (``ZegoCallMenuBarButtonName``)."""

    TOGGLE_MICROPHONE = "toggle_microphone"
    TOGGLE_CAMERA = "toggle_camera"
    SWITCH_CAMERA = "switch_camera"
    SWITCH_AUDIO_OUTPUT = "switch_audio_output"
    HANG_UP = "hang_up"
    CHAT = "chat"
    SHOW_MEMBER_LIST = "show_member_list"
    MINIMIZE = "minimize"
    #: A Parley addition: send the screen instead of the camera.
    SHARE_SCREEN = "share_screen"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallMenuBarConfig:
    """One menu bar of a call page; buttons beyond ``max_count`` go behind "More"."""

    buttons: tuple[CallMenuButton, ...]
    max_count: int = 5
    visible: bool = True
    #: Hide after ``hide_after_s`` without mouse movement; moving the mouse shows it again.
    hide_automatically: bool = True
    hide_after_s: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "buttons", unique_enums("CallMenuBarConfig", self.buttons, CallMenuButton)
        )
        require(is_int(self.max_count), "CallMenuBarConfig.max_count must be an int")
        require(self.max_count >= 1, "CallMenuBarConfig.max_count must be at least 1")
        require(self.hide_after_s > 0, "CallMenuBarConfig.hide_after_s must be positive")


_B = CallMenuButton
_VIDEO_BOTTOM = (
    _B.TOGGLE_CAMERA,
    _B.SWITCH_CAMERA,
    _B.HANG_UP,
    _B.TOGGLE_MICROPHONE,
    _B.SWITCH_AUDIO_OUTPUT,
    _B.CHAT,
    _B.SHARE_SCREEN,
)
_VOICE_BOTTOM = (
    _B.TOGGLE_MICROPHONE,
    _B.HANG_UP,
    _B.SWITCH_AUDIO_OUTPUT,
    _B.CHAT,
    _B.SHARE_SCREEN,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallConfig:
    """How a call starts and looks (``ZegoUIKitPrebuiltCallConfig``); use a preset."""

    turn_on_camera_when_joining: bool = True
    turn_on_microphone_when_joining: bool = True
    use_speaker_when_joining: bool = True
    #: On the desktop, "front" means the default camera.
    use_front_facing_camera: bool = True
    layout: CallLayoutMode = CallLayoutMode.PICTURE_IN_PICTURE
    small_view_corner: ViewCorner = ViewCorner.TOP_RIGHT
    top_menu_bar: CallMenuBarConfig = field(
        default_factory=lambda: CallMenuBarConfig(buttons=(_B.MINIMIZE,), max_count=3)
    )
    bottom_menu_bar: CallMenuBarConfig = field(
        default_factory=lambda: CallMenuBarConfig(buttons=_VIDEO_BOTTOM)
    )
    #: ``None``: hang up at once (a hook may still ask). Else the dialog's texts.
    hang_up_confirmation: HangUpConfirmationConfig | None = None
    show_duration: bool = True
    #: The top bar's title; empty means the kit's default (the other party's name).
    title: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.layout, CallLayoutMode):
            raise TypeError("CallConfig.layout must be a CallLayoutMode")
        if not isinstance(self.small_view_corner, ViewCorner):
            raise TypeError("CallConfig.small_view_corner must be a ViewCorner")
        confirmation = self.hang_up_confirmation
        if confirmation is not None and not isinstance(confirmation, ConfirmationDialog):
            raise TypeError("CallConfig.hang_up_confirmation must be a ConfirmationDialog")

    @classmethod
    def one_on_one_video(cls) -> CallConfig:
        """Two people, cameras on, picture-in-picture."""
        return cls()

    @classmethod
    def one_on_one_voice(cls) -> CallConfig:
        """Two people, cameras off, avatars in picture-in-picture."""
        return cls(
            turn_on_camera_when_joining=False,
            bottom_menu_bar=CallMenuBarConfig(buttons=_VOICE_BOTTOM),
        )

    @classmethod
    def group_video(cls) -> CallConfig:
        """Several people, cameras on, gallery, member list in the top bar."""
        return cls(
            layout=CallLayoutMode.GALLERY,
            top_menu_bar=CallMenuBarConfig(buttons=(_B.MINIMIZE, _B.SHOW_MEMBER_LIST), max_count=3),
        )

    @classmethod
    def group_voice(cls) -> CallConfig:
        """Several people, cameras off, gallery of avatars, member list in the top bar."""
        return cls(
            turn_on_camera_when_joining=False,
            layout=CallLayoutMode.GALLERY,
            top_menu_bar=CallMenuBarConfig(buttons=(_B.MINIMIZE, _B.SHOW_MEMBER_LIST), max_count=3),
            bottom_menu_bar=CallMenuBarConfig(buttons=_VOICE_BOTTOM),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RingtoneConfig:
    """Custom ringtones (WAV or OGG files); ``None`` uses the kit's own sounds."""

    incoming: Path | None = None
    outgoing: Path | None = None

    def __post_init__(self) -> None:
        for name in ("incoming", "outgoing"):
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, str | Path):
                    raise TypeError(f"RingtoneConfig.{name} must be a path")
                object.__setattr__(self, name, Path(value))


MAX_INVITATION_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CallInvitationConfig:
    """How the invitation service behaves (``ZegoCallInvitationConfig``)."""

    #: Seconds before an unanswered invitation times out on both sides.
    timeout_s: float = 60.0
    #: Allow inviting more people during a call.
    can_invite_in_call: bool = True
    #: Only whoever started the call may invite more people.
    only_initiator_can_invite: bool = False
    #: The call ends for everyone when its initiator leaves.
    end_call_when_initiator_leave: bool = False
    ringtone: RingtoneConfig = field(default_factory=RingtoneConfig)

    def __post_init__(self) -> None:
        require(
            isinstance(self.timeout_s, int | float) and not isinstance(self.timeout_s, bool),
            "CallInvitationConfig.timeout_s must be a number",
        )
        require(
            0 < self.timeout_s <= MAX_INVITATION_TIMEOUT_S,
            f"CallInvitationConfig.timeout_s must be in (0, {MAX_INVITATION_TIMEOUT_S:g}] seconds",
        )
