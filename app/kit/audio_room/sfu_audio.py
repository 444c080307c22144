"""Audio of one audio room through the server's SFU: publish while seated, hear every speaker.

The server says so in the room's join snapshot (``media: "sfu"``). Then there are no
links to members: a seated member publishes one connection (:class:`~media.sfu.SfuAudio`),
and everyone receives the speakers on one connection the server offers. Whom the SFU
forwards follows the seats on the server, so :meth:`SfuRoomAudio.sync` only has to
start or stop publishing. After a reconnect, or when the SFU restarted, both
connections are made anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiortc import RTCIceServer

from app.kit.media import LocalMedia
from app.kit.tasks import TaskKeeper
from media.sfu import SfuAudio
from signaling.client import SignalingClient
from signaling.errors import SignalingError
from signaling.protocol_sfu import SfuOfferEvent

log = logging.getLogger("parley.audio_room")

__all__ = ["SfuRoomAudio"]


class SfuRoomAudio:
    """One member's audio in an audio room served by the SFU."""

    def __init__(
        self, client: SignalingClient, room_id: str, media: LocalMedia, tasks: TaskKeeper
    ) -> None:
        self.client = client
        self.room_id = room_id
        self.media = media
        self._tasks = tasks
        self.sfu = SfuAudio(
            lambda sdp: client.sfu_publish(room_id, sdp),
            on_remote_track=lambda user_id, _kind, track: media.play(user_id, track),
            on_remote_gone=self._gone,
        )
        # One sync at a time, as for the mesh: publishing follows the latest seat map.
        self._lock = asyncio.Lock()
        self._seated = False
        self._subscribed = False
        self._closed = False

    async def sync(self, members: set[str], speakers: set[str], local_seated: bool) -> None:
        """Publish while the local user sits on a seat (the SFU picks whom we hear)."""
        async with self._lock:
            if self._closed:
                return
            self._seated = local_seated
            if not self._subscribed:
                await self._subscribe()
            if local_seated and not self.sfu.publishing:
                try:
                    await self.sfu.start_publishing()
                except SignalingError as exc:
                    # The server's seat map may be a step behind ours; the next seat
                    # change syncs again.
                    log.info("%s: not publishing yet: %s", self.room_id, exc)
            elif not local_seated and self.sfu.publishing:
                await self.sfu.stop_publishing()
                with contextlib.suppress(SignalingError):
                    await self.client.sfu_unpublish(self.room_id)

    async def _subscribe(self) -> None:
        servers = await self.client.ice_servers()
        self.sfu.set_ice_servers(
            [
                RTCIceServer(
                    urls=s.urls, username=s.username or None, credential=s.credential or None
                )
                for s in servers
            ]
        )
        self.sfu.set_local_audio(self.media.audio)
        try:
            await self.client.sfu_subscribe(self.room_id)
            self._subscribed = True
        except SignalingError as exc:
            log.warning("%s: cannot receive through the SFU: %s", self.room_id, exc)

    async def handle_offer(self, event: SfuOfferEvent) -> None:
        """The server offers the receiving connection (anew): answer it."""
        streams = {s.mid: s.user_id for s in event.streams}
        # Not under the sync lock: a publish in flight must not hold up what we hear.
        if self._closed:
            return
        try:
            answer = await self.sfu.receive_offer(event.sdp, streams, fresh=event.fresh)
        except RuntimeError:  # closed meanwhile
            return
        with contextlib.suppress(SignalingError):
            await self.client.sfu_answer(self.room_id, event.offer_id, answer)

    async def restart(self) -> None:
        """Make both connections anew (after a reconnect, or the SFU restarted)."""
        async with self._lock:
            await self.sfu.reset()
            self._subscribed = False
        await self.sync(set(), set(), self._seated)

    def _gone(self, user_id: str) -> None:
        self._tasks.spawn(self.media.stop_playing(user_id), f"{self.room_id}: {user_id} stopped")

    async def remove(self, user_id: str) -> None:
        """A member left: stop playing them (the SFU already stopped forwarding)."""
        await self.media.stop_playing(user_id)

    async def close(self) -> None:
        """Close both connections, then the devices; idempotent."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self.sfu.close()
        await self.media.close()
