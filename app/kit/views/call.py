"""What the call pages show: immutable view states the call services fill and widgets render.

This is the contract between the Qt-free services and ``widgets/``: a service builds a
new value whenever something changes and hands it to a page's ``render``; pages keep no
call state of their own beyond what the user is doing with the mouse (a dragged view,
an open panel). Video frames do not travel here: they are pushed to a page's
``set_frame`` at their own rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.kit.config.call import CallLayoutMode
from app.kit.types import User
from media.errors import AudioRoute

__all__ = [
    "SPEAKING_THRESHOLD",
    "CallView",
    "IncomingCallView",
    "OutgoingCallView",
    "OutgoingState",
    "TileConnection",
    "TileView",
    "format_duration",
    "level_from_dbfs",
]

#: A level above this counts as speaking when a service has no better voice detection.
SPEAKING_THRESHOLD = 0.12


def format_duration(seconds: int) -> str:
    """``mm:ss`` below an hour, ``h:mm:ss`` above: how call durations read everywhere."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def level_from_dbfs(dbfs: float, floor_dbfs: float = -60.0) -> float:
    """Map an RMS level in dBFS to the 0..1 ``speaking_level`` (``floor_dbfs`` and below → 0).

    Linear in dB, which matches how loud voices sound better than linear amplitude.
    """
    if floor_dbfs >= 0:
        raise ValueError("floor_dbfs must be negative")
    return min(1.0, max(0.0, 1.0 - dbfs / floor_dbfs))


class TileConnection(StrEnum):
    """How the media path to one participant is doing (shown as a hint on the tile)."""

    CONNECTED = "connected"
    CONNECTING = "connecting"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class TileView:
    """One participant's tile: who, what they send, how loud they are right now."""

    user_id: str
    name: str
    is_local: bool = False
    microphone_on: bool = True
    camera_on: bool = True
    #: Smoothed audio level, 0 (silence) … 1 (full scale); drives the sound-wave ring.
    speaking_level: float = 0.0
    is_speaking: bool = False
    #: Invited but not joined yet: the tile shows "Waiting…" and a cancel button.
    waiting: bool = False
    connection: TileConnection = TileConnection.CONNECTED
    #: They send their screen: shown whole (fitted), not cropped; the local tile says so.
    sharing_screen: bool = False

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ValueError("TileView.user_id must not be empty")
        if not 0.0 <= self.speaking_level <= 1.0:
            raise ValueError("TileView.speaking_level must be within 0..1")
        if not isinstance(self.connection, TileConnection):
            raise TypeError("TileView.connection must be a TileConnection")

    @property
    def shows_video(self) -> bool:
        """Whether the tile shows a picture: the camera's, or someone else's shared screen
        (the local tile never shows the local screen: a picture of itself, endlessly)."""
        screen = self.sharing_screen and not self.is_local
        return (self.camera_on or screen) and not self.waiting

    @property
    def display_name(self) -> str:
        """The name, or the id when the user has none."""
        return self.name or self.user_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CallView:
    """The whole call page: tiles in order (local first), bars' state, flags."""

    call_id: str
    title: str = ""
    is_video: bool = True
    layout: CallLayoutMode = CallLayoutMode.PICTURE_IN_PICTURE
    tiles: tuple[TileView, ...] = ()
    duration_s: int = 0
    microphone_on: bool = True
    camera_on: bool = True
    speaker_on: bool = True
    audio_route: AudioRoute = AudioRoute.SPEAKER
    minimized: bool = False
    reconnecting: bool = False
    #: Whether the local user may remove others (member list's remove action).
    can_remove_members: bool = False
    unread_messages: int = 0
    #: Whether the local user can turn the microphone on (an audio room's audience cannot:
    #: the overlay then shows no microphone button).
    microphone_available: bool = True
    #: Whether the local user shares their screen now (the share button's state).
    sharing_screen: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.layout, CallLayoutMode):
            raise TypeError("CallView.layout must be a CallLayoutMode")
        object.__setattr__(self, "tiles", tuple(self.tiles))
        ids = [tile.user_id for tile in self.tiles]
        if len(ids) != len(set(ids)):
            raise ValueError("CallView.tiles must not repeat a user")
        if self.duration_s < 0:
            raise ValueError("CallView.duration_s must not be negative")

    @property
    def local_tile(self) -> TileView | None:
        """The local user's tile, if the call has one yet."""
        return next((tile for tile in self.tiles if tile.is_local), None)

    @property
    def remote_tiles(self) -> tuple[TileView, ...]:
        """Everybody else, in the service's order."""
        return tuple(tile for tile in self.tiles if not tile.is_local)

    def tile(self, user_id: str) -> TileView | None:
        """The tile of ``user_id``, or ``None``."""
        return next((tile for tile in self.tiles if tile.user_id == user_id), None)

    def active_speaker(self) -> TileView | None:
        """Who the minimized overlay shows: the loudest joined remote, else the local user.

        A silent call still shows somebody: the first joined remote user.
        """
        joined = [tile for tile in self.remote_tiles if not tile.waiting]
        if joined:
            return max(joined, key=lambda tile: (tile.is_speaking, tile.speaking_level))
        return self.local_tile


class OutgoingState(StrEnum):
    """Where an outgoing one-to-one invitation stands, as the caller's page says it."""

    CALLING = "calling"
    RINGING = "ringing"
    DECLINED = "declined"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingCallView:
    """The caller's waiting page: whom, what kind of call, and the local toggles."""

    callees: tuple[User, ...]
    is_video: bool
    state: OutgoingState = OutgoingState.CALLING
    microphone_on: bool = True
    speaker_on: bool = True
    camera_on: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "callees", tuple(self.callees))
        if not self.callees:
            raise ValueError("OutgoingCallView.callees must not be empty")
        if not isinstance(self.state, OutgoingState):
            raise TypeError("OutgoingCallView.state must be an OutgoingState")


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingCallView:
    """An invitation being offered to the local user (banner and full page)."""

    call_id: str
    caller: User
    is_video: bool
    #: Everyone invited (the local user included); more than one makes it a group call.
    invitees: tuple[User, ...] = ()
    custom_data: str = ""
    camera_on: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "invitees", tuple(self.invitees))

    @property
    def is_group(self) -> bool:
        """A group invitation names more than one invitee."""
        return len(self.invitees) > 1
