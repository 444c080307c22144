"""A full mesh: one :class:`~media.peer.PeerLink` per remote user, for one local user.

The mesh shares each local track between links through a :class:`~media.relay.TrackRelay`
(one proxy per link), so switching the camera or microphone is one call for everyone.
It never stops the tracks it is given: the owner of a device track decides when the
light goes off. Signals that arrive for a user before :meth:`Mesh.add_peer` (the remote
side learnt of us first) are held briefly and replayed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from aiortc import RTCIceServer
from aiortc.mediastreams import MediaStreamTrack

from media.peer import CONNECT_TIMEOUT_S, PeerLink, SendSignal
from media.peer_types import MediaDirections, MediaKind, PeerState, SignalKind
from media.relay import OpusFanout, TrackRelay
from media.stats import LinkStats

logger = logging.getLogger(__name__)

OnRemoteTrack = Callable[[str, MediaKind, MediaStreamTrack], None]
OnPeerState = Callable[[str, PeerState], None]
OnPeerStats = Callable[[str, LinkStats], None]

LOSS_MEMORY = 0.8
"""What is left of a link's reported loss one stats interval later (FEC sizing)."""

# Early signals for users not yet added: enough for an offer and its candidates.
_EARLY_PER_USER = 16
_EARLY_USERS = 64
_EARLY_MAX_AGE_S = 30.0


class Mesh:
    """Peer links to every remote user in a call or audio room."""

    def __init__(
        self,
        local_id: str,
        send_signal: SendSignal,
        *,
        on_remote_track: OnRemoteTrack | None = None,
        on_peer_state: OnPeerState | None = None,
        on_stats: OnPeerStats | None = None,
        ice_servers: Sequence[RTCIceServer] = (),
        stats_interval: float = 2.0,
        max_rebuilds: int = 3,
        encode_audio_once: bool = True,
        voice_receive: bool = True,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        """``encode_audio_once`` shares one Opus encoder between all links (see
        :class:`~media.relay.OpusFanout`); turn it off to let each link encode.
        ``voice_receive=False`` keeps aiortc's own audio receive path on every link
        (benchmarks measure Parley's against it). ``connect_timeout`` is each link's
        (:class:`~media.peer.PeerLink`; 0 leaves it to aioice)."""
        self.local_id = local_id
        self._send_signal = send_signal
        self._on_remote_track = on_remote_track
        self._on_peer_state = on_peer_state
        self._on_stats = on_stats
        self._ice_servers = list(ice_servers)
        self._stats_interval = stats_interval
        self._max_rebuilds = max_rebuilds
        self._voice_receive = voice_receive
        self._connect_timeout = connect_timeout
        self._links: dict[str, PeerLink] = {}
        # One relay per kind for the mesh's life, so switching sources keeps every
        # subscriber (and, for the shared encoder, continuous RTP timestamps).
        self._relays: dict[MediaKind, TrackRelay] = {
            MediaKind.AUDIO: OpusFanout() if encode_audio_once else TrackRelay("audio"),
            MediaKind.VIDEO: TrackRelay("video"),
        }
        self._early: dict[str, list[tuple[float, SignalKind, dict[str, Any]]]] = {}
        self._loss_out: dict[str, float] = {}
        self._closed = False

    @property
    def ice_servers(self) -> list[RTCIceServer]:
        """The STUN/TURN servers links created from now on use."""
        return list(self._ice_servers)

    def set_ice_servers(self, servers: Sequence[RTCIceServer]) -> None:
        """Use ``servers`` for links created from now on (fresh TURN credentials);
        links already up keep theirs."""
        self._ice_servers = list(servers)

    @property
    def peers(self) -> Mapping[str, PeerLink]:
        """The live links by remote user id (read-only view)."""
        return MappingProxyType(self._links)

    def local_track(self, kind: MediaKind) -> MediaStreamTrack | None:
        """The local source track of ``kind`` being sent, if any."""
        return self._relays[kind].source

    def preview(self, kind: MediaKind = MediaKind.VIDEO) -> MediaStreamTrack:
        """A new reader of the local ``kind`` track (the self-view), beside the links.

        The local source is already read by the relay; a second reader of the source
        itself would steal frames from the links. Stop the proxy to unsubscribe; it ends
        by itself when the mesh closes. Audio previews would be Opus packets when the
        mesh encodes once, so only video is offered then.
        """
        if self._closed:
            raise RuntimeError("mesh is closed")
        relay = self._relays[kind]
        if isinstance(relay, OpusFanout):
            raise ValueError("the audio relay carries encoded packets, not frames")
        return relay.subscribe()

    async def add_peer(
        self,
        user_id: str,
        *,
        send_audio: bool = True,
        send_video: bool = True,
        recv_audio: bool = True,
        recv_video: bool = True,
    ) -> PeerLink:
        """Connect to ``user_id``; an existing link to that user is returned unchanged."""
        if self._closed:
            raise RuntimeError("mesh is closed")
        existing = self._links.get(user_id)
        if existing is not None:
            return existing
        directions = MediaDirections(send_audio, send_video, recv_audio, recv_video)
        link = PeerLink(
            self.local_id,
            user_id,
            self._send_signal,
            directions=directions,
            ice_servers=self._ice_servers,
            on_track=self._link_track,
            on_state=lambda uid, state: self._link_state(link, uid, state),
            on_stats=self._link_stats,
            stats_interval=self._stats_interval,
            max_rebuilds=self._max_rebuilds,
            voice_receive=self._voice_receive,
            connect_timeout=self._connect_timeout,
        )
        self._links[user_id] = link
        for kind in MediaKind:
            relay = self._relays[kind]
            if relay.source is not None and directions.sends(kind):
                await link.set_track(kind, relay.subscribe())
        await link.start()
        for _, signal, payload in self._early.pop(user_id, []):
            await self._deliver(link, signal, payload)
        return link

    async def remove_peer(self, user_id: str) -> None:
        """Close the link to ``user_id`` (the remote side sees it close); idempotent."""
        self._early.pop(user_id, None)
        self._loss_out.pop(user_id, None)
        link = self._links.pop(user_id, None)
        if link is not None:
            await link.close()

    async def set_peer_directions(
        self,
        user_id: str,
        *,
        send_audio: bool | None = None,
        send_video: bool | None = None,
        recv_audio: bool | None = None,
        recv_video: bool | None = None,
    ) -> None:
        """Change what we send to and receive from ``user_id`` (``None`` keeps a flag).

        An audience member who takes a seat starts sending audio this way; the link
        renegotiates, it is not rebuilt. ``KeyError`` for an unknown user.
        """
        link = self._links[user_id]
        old = link.directions
        new = MediaDirections(
            old.send_audio if send_audio is None else send_audio,
            old.send_video if send_video is None else send_video,
            old.recv_audio if recv_audio is None else recv_audio,
            old.recv_video if recv_video is None else recv_video,
        )
        for kind in MediaKind:
            source = self._relays[kind].source
            if new.sends(kind) and not old.sends(kind) and source is not None:
                await link.set_track(kind, self._relays[kind].subscribe())
        await link.set_directions(new)
        for kind in MediaKind:
            if old.sends(kind) and not new.sends(kind):
                await link.set_track(kind, None)

    async def set_local_audio(self, track: MediaStreamTrack | None) -> None:
        """Send ``track`` as our audio to every link that sends audio; ``None`` stops."""
        await self.set_local_track(MediaKind.AUDIO, track)

    async def set_local_video(self, track: MediaStreamTrack | None) -> None:
        """Send ``track`` as our video; switching cameras does not renegotiate."""
        await self.set_local_track(MediaKind.VIDEO, track)

    async def set_local_track(self, kind: MediaKind, track: MediaStreamTrack | None) -> None:
        """Replace the local track of ``kind`` on all links.

        Replacing one track with another keeps every session as negotiated; going from
        no track to a track (camera on) or back renegotiates.
        """
        if self._closed:
            return
        relay = self._relays[kind]
        had_track = relay.source is not None
        if relay.source is track:
            return
        relay.switch(track)
        if had_track == (track is not None):
            return  # a switch: the links keep their proxies and sessions
        links = [link for link in self._links.values() if link.directions.sends(kind)]
        await asyncio.gather(
            *(link.set_track(kind, relay.subscribe() if track else None) for link in links)
        )

    async def handle_signal(
        self, from_user: str, kind: SignalKind | str, payload: dict[str, Any]
    ) -> None:
        """Route a signal from ``from_user`` to its link (or hold it until added).

        Malformed signals are logged and dropped: a remote peer cannot break the mesh.
        """
        if self._closed:
            return
        try:
            signal = SignalKind(kind)
        except ValueError:
            logger.warning("unknown signal %r from %s dropped", kind, from_user)
            return
        link = self._links.get(from_user)
        if link is None:
            self._hold_early(from_user, signal, payload)
            return
        await self._deliver(link, signal, payload)

    async def close(self) -> None:
        """Close every link and relay; idempotent. Local source tracks keep running."""
        self._closed = True
        self._early.clear()
        links, self._links = list(self._links.values()), {}
        await asyncio.gather(*(link.close() for link in links))
        for relay in self._relays.values():
            relay.switch(None)
            await relay.close()

    # -- internals -------------------------------------------------------------------

    async def _deliver(self, link: PeerLink, kind: SignalKind, payload: dict[str, Any]) -> None:
        try:
            await link.handle_signal(kind, payload)
        except ValueError:
            logger.warning("malformed %s from %s dropped", kind.value, link.remote_id)

    def _hold_early(self, user_id: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        now = time.monotonic()
        for uid in [u for u, items in self._early.items() if now - items[-1][0] > _EARLY_MAX_AGE_S]:
            del self._early[uid]
        if user_id not in self._early and len(self._early) >= _EARLY_USERS:
            logger.warning("signal from unknown user %s dropped", user_id)
            return
        held = self._early.setdefault(user_id, [])
        if kind is SignalKind.OFFER:
            # A newer offer supersedes everything held before it.
            held.clear()
        held.append((now, kind, payload))
        del held[:-_EARLY_PER_USER]

    def _link_stats(self, user_id: str, stats: LinkStats) -> None:
        # One encoder feeds every link, so its FEC is sized for the worst receiver. One
        # receiver report covers about a second: at a few percent loss many say 0, and
        # FEC switched off then would leave the next losses nothing to be rebuilt from,
        # so a reported loss is remembered and fades (halving in about three reports).
        if user_id in self._links:
            remembered = self._loss_out.get(user_id, 0.0) * LOSS_MEMORY
            self._loss_out[user_id] = max(stats.packet_loss_out, remembered)
        audio = self._relays[MediaKind.AUDIO]
        if isinstance(audio, OpusFanout):
            audio.set_expected_loss(max(self._loss_out.values(), default=0.0))
        if self._on_stats is not None:
            self._on_stats(user_id, stats)

    def _link_track(self, user_id: str, track: MediaStreamTrack) -> None:
        if self._on_remote_track is not None:
            self._on_remote_track(user_id, MediaKind(track.kind), track)

    def _link_state(self, link: PeerLink, user_id: str, state: PeerState) -> None:
        if state.is_final and self._links.get(user_id) is link:
            # The remote side hung up or the link gave up: it is gone from the mesh.
            del self._links[user_id]
        if self._on_peer_state is not None:
            self._on_peer_state(user_id, state)
