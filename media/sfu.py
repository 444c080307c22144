"""Audio through an SFU: one connection to publish while seated, one to hear every speaker.

The other end is the server's SFU (Janus, through the signaling server); this module
knows neither: it is given how to publish an offer (``publish``: an SDP offer in, the
answer out) and is handed the SFU's offers for the receiving connection
(:meth:`SfuAudio.receive_offer`), each with the speaker each ``mid`` carries.

- **Publishing** sends the local audio through the shared Opus encoder with in-band FEC
  (:class:`~media.relay.OpusFanout`, as the mesh does); it is a connection of its own, so
  taking or leaving a seat never touches what the member hears.
- **Receiving** is one connection whose audio sections the SFU adds and retires as
  speakers come and go; every section gets Parley's receive path (adaptive playout,
  concealment, FEC) before its first packet. A section the SFU gives to another speaker
  later is reported again under that speaker's id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from media import ice
from media.peer_support import dispose_pc
from media.peer_types import MediaKind
from media.relay import OpusFanout
from media.voice_receive import install_voice_receive

__all__ = ["SfuAudio"]

Publish = Callable[[str], Awaitable[str]]
OnRemoteTrack = Callable[[str, MediaKind, MediaStreamTrack], None]
OnRemoteGone = Callable[[str], None]


class SfuAudio:
    """A member's audio through an SFU: publish while seated, hear every speaker."""

    def __init__(
        self,
        publish: Publish,
        *,
        on_remote_track: OnRemoteTrack | None = None,
        on_remote_gone: OnRemoteGone | None = None,
        ice_servers: Sequence[RTCIceServer] = (),
    ) -> None:
        self._publish = publish
        self._on_remote_track = on_remote_track
        self._on_remote_gone = on_remote_gone
        self._ice_servers = list(ice_servers)
        self._fanout = OpusFanout()
        self._sender: RTCPeerConnection | None = None
        self._receiver: RTCPeerConnection | None = None
        #: Which speaker each received ``mid`` carries now.
        self._speakers: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    # --- observation -------------------------------------------------------------

    @property
    def publishing(self) -> bool:
        """Whether the publishing connection exists (it may still be connecting)."""
        return self._sender is not None

    @property
    def speakers(self) -> Mapping[str, str]:
        """``mid`` → speaker id of what is received now."""
        return dict(self._speakers)

    @property
    def fanout(self) -> OpusFanout:
        """The encoder the published audio goes through (benchmarks count its packets)."""
        return self._fanout

    def set_ice_servers(self, servers: Sequence[RTCIceServer]) -> None:
        """STUN and TURN servers for connections made from now on."""
        self._ice_servers = list(servers)

    def set_local_audio(self, track: MediaStreamTrack | None) -> None:
        """The local audio to publish (the microphone slot); kept across publishing."""
        self._fanout.switch(track)

    # --- publishing --------------------------------------------------------------

    async def start_publishing(self) -> None:
        """Open the publishing connection; ``publish`` failing (not seated) raises it."""
        async with self._lock:
            if self._closed or self._sender is not None:
                return
            pc = self._new_pc()
            pc.addTransceiver(self._fanout.subscribe(), direction="sendonly")
            await pc.setLocalDescription(await pc.createOffer())
            self._sender = pc
            try:
                answer = await self._publish(pc.localDescription.sdp)
                await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            except BaseException:
                self._sender = None
                await dispose_pc(pc)
                raise

    async def stop_publishing(self) -> None:
        """Close the publishing connection (the SFU stops forwarding it at once)."""
        async with self._lock:
            pc, self._sender = self._sender, None
        if pc is not None:
            await dispose_pc(pc)

    # --- receiving ---------------------------------------------------------------

    async def receive_offer(self, sdp: str, streams: Mapping[str, str], *, fresh: bool) -> str:
        """Apply the SFU's offer for the receiving connection; the SDP answer.

        ``streams`` maps each live ``mid`` to its speaker; ``fresh`` replaces the
        connection (the SFU made a new one).
        """
        async with self._lock:
            if self._closed:
                raise RuntimeError("the SFU audio is closed")
            if fresh and self._receiver is not None:
                old, self._receiver = self._receiver, None
                self._retire(set(self._speakers.values()))
                await dispose_pc(old)
            if self._receiver is None:
                self._receiver = self._new_pc()
            pc = self._receiver
            await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
            for transceiver in pc.getTransceivers():
                if transceiver.kind == "audio":
                    # Before any RTP: packets flow only once the answer is applied.
                    install_voice_receive(transceiver.receiver, transceiver.receiver.track)
            await pc.setLocalDescription(await pc.createAnswer())
            self._map_speakers(pc, streams)
            return pc.localDescription.sdp

    def _map_speakers(self, pc: RTCPeerConnection, streams: Mapping[str, str]) -> None:
        before = dict(self._speakers)
        self._speakers = {mid: user for mid, user in streams.items()}
        still = set(self._speakers.values())
        self._retire({user for user in before.values() if user not in still})
        for transceiver in pc.getTransceivers():
            user = self._speakers.get(transceiver.mid or "")
            if user is None or before.get(transceiver.mid or "") == user:
                continue
            if self._on_remote_track is not None:
                self._on_remote_track(user, MediaKind.AUDIO, transceiver.receiver.track)

    def _retire(self, users: set[str]) -> None:
        for user in users:
            if self._on_remote_gone is not None:
                self._on_remote_gone(user)
        self._speakers = {mid: u for mid, u in self._speakers.items() if u not in users}

    async def reset(self) -> None:
        """The SFU lost the room's media: close both connections (publish again after)."""
        async with self._lock:
            sender, self._sender = self._sender, None
            receiver, self._receiver = self._receiver, None
            self._retire(set(self._speakers.values()))
        for pc in (sender, receiver):
            if pc is not None:
                await dispose_pc(pc)

    async def close(self) -> None:
        """Close both connections and the encoder; idempotent."""
        if self._closed:
            return
        await self.reset()
        self._closed = True
        await self._fanout.close()

    def _new_pc(self) -> RTCPeerConnection:
        ice.install()
        config = RTCConfiguration(
            iceServers=list(self._ice_servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
        )
        return RTCPeerConnection(config)
