"""Value types shared by peer links and the mesh: signal kinds, media kinds, states."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SignalKind(StrEnum):
    """What a signal between two peer links carries."""

    OFFER = "offer"
    ANSWER = "answer"
    CANDIDATE = "candidate"
    RENEGOTIATE = "renegotiate"


class MediaKind(StrEnum):
    """The kinds of media a link carries (aiortc's ``track.kind`` values)."""

    AUDIO = "audio"
    VIDEO = "video"


class PeerState(StrEnum):
    """A link's state; aiortc's string ``connectionState`` plus ``RECONNECTING``."""

    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    CLOSED = "closed"

    @property
    def is_final(self) -> bool:
        """Whether the link is gone for good."""
        return self in (PeerState.FAILED, PeerState.CLOSED)


@dataclass(frozen=True)
class MediaDirections:
    """Which kinds a link may send to and receive from one remote user.

    An audio room's audience receives audio and sends nothing; a voice call sends and
    receives audio and may add video later.
    """

    send_audio: bool = True
    send_video: bool = True
    recv_audio: bool = True
    recv_video: bool = True

    def sends(self, kind: MediaKind) -> bool:
        """Whether ``kind`` may be sent."""
        return self.send_audio if kind is MediaKind.AUDIO else self.send_video

    def receives(self, kind: MediaKind) -> bool:
        """Whether ``kind`` is wanted from the remote user."""
        return self.recv_audio if kind is MediaKind.AUDIO else self.recv_video
