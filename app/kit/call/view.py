"""The call page's view of a running call: tiles, bars and flags, built from the session.

Qt-free, so the rules are tested without a window: the local tile first, then the
members in the order they joined, then a waiting tile per invitee still ringing.
"""

from __future__ import annotations

from collections.abc import Callable

from app.kit.call.session import SCREEN_ATTRIBUTE, CallSession
from app.kit.views.call import CallView, TileConnection, TileView, level_from_dbfs
from media.errors import AudioRoute
from media.peer_types import PeerState

__all__ = ["call_view"]

_CONNECTION = {
    PeerState.NEW: TileConnection.CONNECTING,
    PeerState.CONNECTING: TileConnection.CONNECTING,
    PeerState.CONNECTED: TileConnection.CONNECTED,
    PeerState.RECONNECTING: TileConnection.RECONNECTING,
    PeerState.FAILED: TileConnection.FAILED,
    PeerState.CLOSED: TileConnection.FAILED,
}


def call_view(
    session: CallSession,
    *,
    name_of: Callable[[str], str | None] = lambda user_id: None,
    audio_route: AudioRoute = AudioRoute.SPEAKER,
    unread_messages: int = 0,
) -> CallView:
    """What the call page shows now; ``name_of`` names invitees (invitations carry IDs)."""
    media, me = session.media, session.me
    tiles = [
        TileView(
            user_id=me.id,
            name=me.name,
            is_local=True,
            microphone_on=media.microphone_on,
            camera_on=media.camera_on,
            sharing_screen=session.sharing_screen,
        )
    ]
    for user_id, member in session.members.items():
        # A member away after a reconnect is most likely re-joining: say so on the tile.
        connection = TileConnection.RECONNECTING if member.away else _CONNECTION[member.connection]
        tiles.append(
            TileView(
                user_id=user_id,
                name=member.user.name,
                microphone_on=member.microphone,
                camera_on=member.camera,
                speaking_level=level_from_dbfs(member.level_dbfs),
                is_speaking=member.speaking,
                connection=connection,
                sharing_screen=member.attributes.get(SCREEN_ATTRIBUTE) == "1",
            )
        )
    for user_id in sorted(session.pending_invitees - set(session.members) - {me.id}):
        tiles.append(
            TileView(
                user_id=user_id,
                name=name_of(user_id) or user_id,
                waiting=True,
                microphone_on=False,
                camera_on=False,
                connection=TileConnection.CONNECTING,
            )
        )
    config = session.config
    return CallView(
        call_id=session.call_id,
        title=config.title or ", ".join(tile.display_name for tile in tiles[1:]),
        is_video=session.is_video,
        layout=config.layout,
        tiles=tuple(tiles),
        duration_s=session.duration_s,
        microphone_on=media.microphone_on,
        camera_on=media.camera_on,
        speaker_on=session.speaker_on,
        audio_route=audio_route,
        minimized=session.minimized,
        unread_messages=unread_messages,
        reconnecting=session.reconnecting,
        can_remove_members=len(tiles) > 2,
        sharing_screen=session.sharing_screen,
    )
