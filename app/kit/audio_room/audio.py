"""Audio of one audio room: a mesh where seated speakers send and everyone listens.

Every member has one peer link to every other member. A link sends audio only while the
local user sits on a seat, and receives only from remote members who sit on one; an
audience member taking a seat widens their links in place (``set_peer_directions``), so
nobody reconnects. A received track keeps playing when its speaker leaves the seat: the
link stops carrying audio, and aiortc reports a track once per transceiver, so the same
track must still be there when they sit down again. Video is never sent nor received.
The mesh and the media are the session's (:class:`~app.kit.room.session.RoomSession`).
"""

from __future__ import annotations

import asyncio
import logging

from app.kit.media import LocalMedia
from media.mesh import Mesh

log = logging.getLogger("parley.audio_room")

__all__ = ["RoomAudio"]


class RoomAudio:
    """The directions of one audio-room member's links (on the session's mesh)."""

    def __init__(self, mesh: Mesh, media: LocalMedia) -> None:
        self.mesh = mesh
        self.media = media
        # Seat changes arrive in bursts; one sync at a time keeps each link's directions
        # in step with the latest seat map rather than an interleaving of two.
        self._lock = asyncio.Lock()
        self._closed = False

    async def sync(self, members: set[str], speakers: set[str], local_seated: bool) -> None:
        """Make the links match: one per member, sending while seated, hearing speakers."""
        async with self._lock:
            if self._closed:
                return
            for user_id in list(self.mesh.peers):
                if user_id not in members:
                    await self._drop(user_id)
            for user_id in sorted(members):
                hear = user_id in speakers
                link = self.mesh.peers.get(user_id)
                if link is None:
                    await self.mesh.add_peer(
                        user_id,
                        send_audio=local_seated,
                        send_video=False,
                        recv_audio=hear,
                        recv_video=False,
                    )
                elif (link.directions.send_audio, link.directions.recv_audio) != (
                    local_seated,
                    hear,
                ):
                    await self.mesh.set_peer_directions(
                        user_id, send_audio=local_seated, recv_audio=hear
                    )

    async def remove(self, user_id: str) -> None:
        """A member left: close their link and stop playing them."""
        async with self._lock:
            await self._drop(user_id)

    async def _drop(self, user_id: str) -> None:
        await self.mesh.remove_peer(user_id)
        await self.media.stop_playing(user_id)

    async def close(self) -> None:
        """Close every link (after a sync under way), then the devices; idempotent."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self.mesh.close()
        await self.media.close()
