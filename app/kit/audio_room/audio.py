"""Audio of one audio room: a mesh where seated speakers send and everyone listens.

Every member has one peer link to every other member. A link sends audio only while the
local user sits on a seat, and receives only from remote members who sit on one; an
audience member taking a seat widens their links in place (``set_peer_directions``), so
nobody reconnects. A received track keeps playing when its speaker leaves the seat: the
link stops carrying audio, and aiortc reports a track once per transceiver, so the same
track must still be there when they sit down again. Video is never sent nor received.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiortc.mediastreams import MediaStreamTrack

from app.kit.media import LocalMedia
from media.mesh import Mesh
from media.peer import SendSignal
from media.peer_types import MediaKind, PeerState, SignalKind

log = logging.getLogger("parley.audio_room")

__all__ = ["RoomAudio"]


class RoomAudio:
    """The mesh and the playback of one member of an audio room."""

    def __init__(
        self,
        me_id: str,
        media: LocalMedia,
        send_signal: SendSignal,
        *,
        on_peer_state: Callable[[str, PeerState], None] | None = None,
    ) -> None:
        self.media = media
        self.mesh = Mesh(
            me_id,
            send_signal,
            on_remote_track=self._on_remote_track,
            on_peer_state=on_peer_state,
        )
        # Seat changes arrive in bursts; one sync at a time keeps each link's directions
        # in step with the latest seat map rather than an interleaving of two.
        self._lock = asyncio.Lock()
        self._closed = False

    async def start(self) -> None:
        """Start playback and offer the microphone slot to links that send."""
        await self.media.start()
        await self.mesh.set_local_audio(self.media.audio)

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

    async def handle_signal(self, sender: str, kind: str, payload: dict[str, Any]) -> None:
        await self.mesh.handle_signal(sender, SignalKind(kind), payload)

    def _on_remote_track(self, user_id: str, kind: MediaKind, track: MediaStreamTrack) -> None:
        if kind is MediaKind.AUDIO and not self._closed:
            self.media.play(user_id, track)

    async def close(self) -> None:
        """Close every link, then the devices and playback; idempotent."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self.mesh.close()
        await self.media.close()
