"""A member of a call or an audio room, as the local user's session knows them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aiortc.mediastreams import MediaStreamTrack

from app.kit.types import User
from media.levels import SILENCE_DBFS
from media.peer_types import PeerState
from signaling.protocol import MemberInfo

__all__ = ["Member"]


@dataclass(frozen=True)
class Member:
    """Someone in the room: who, their devices, the link to them and how loud they are."""

    user: User
    microphone: bool = False
    camera: bool = False
    #: In-room attributes (audio rooms: ``controller.room.set_user_attributes``).
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    joined_at_ms: int = 0
    connection: PeerState = PeerState.NEW
    level_dbfs: float = SILENCE_DBFS
    speaking: bool = False
    #: Their video as it arrives (calls); None until the first track.
    video: MediaStreamTrack | None = field(default=None, compare=False)
    #: Missing from the room after a reconnect: probably re-joining too, so kept (with
    #: the link to them) for a while instead of counted as gone.
    away: bool = False

    @classmethod
    def from_info(cls, info: MemberInfo) -> Member:
        """A member as the server describes them (join snapshot, ``room.user_entered``)."""
        return cls(
            User(info.user_id, info.name),
            microphone=info.microphone,
            camera=info.camera,
            attributes=MappingProxyType(dict(info.attributes)),
            joined_at_ms=info.joined_at_ms,
        )

    def refreshed(self, fresh: Member) -> Member:
        """``fresh`` (from the server) with what only the local side knows kept: the link,
        the level and the video."""
        return Member(
            fresh.user,
            microphone=fresh.microphone,
            camera=fresh.camera,
            attributes=fresh.attributes,
            joined_at_ms=fresh.joined_at_ms or self.joined_at_ms,
            connection=self.connection,
            level_dbfs=self.level_dbfs,
            speaking=self.speaking,
            video=self.video,
        )
