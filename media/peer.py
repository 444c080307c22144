"""One WebRTC peer connection to one remote user, with fixed offer roles and self-repair.

The lexicographically smaller user id always offers, so two sides never offer at once
(no glare). The answerer asks for a new offer with a ``renegotiate`` signal. Signals
leave through the ``send_signal`` callback the app supplies and come back through
:meth:`PeerLink.handle_signal`; their payloads are JSON-able dicts in the browser's
shape (``{"sdp", "type"}``, ``{"candidate", "sdpMid", "sdpMLineIndex"}``). Offers and
answers also carry ``session``/``generation`` so a rebuilt connection is recognised.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.exceptions import InvalidStateError
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy, RTCIceTransportPolicy

from media import ice
from media.peer_support import (
    add_candidate,
    attach,
    call_safely,
    dispose_pc,
    has_turn,
    parse_candidate,
    require_sdp,
    sdp_direction,
)
from media.peer_types import MediaDirections, MediaKind, PeerState, SignalKind
from media.relay import CountingTrack
from media.stats import LinkStats, StatsSampler
from media.voice_receive import install_voice_receive

logger = logging.getLogger(__name__)

SendSignal = Callable[[str, SignalKind, dict[str, Any]], Awaitable[None]]
OnTrack = Callable[[str, MediaStreamTrack], None]
OnState = Callable[[str, PeerState], None]
OnStats = Callable[[str, LinkStats], None]

#: How long a new connection may take to come up (gathering included: with no trickle
#: ICE, candidates are all gathered before the offer) before the offerer replaces it.
CONNECT_TIMEOUT_S = 10.0

_PC_STATES = {
    "new": PeerState.NEW,
    "connecting": PeerState.CONNECTING,
    "connected": PeerState.CONNECTED,
    "failed": PeerState.FAILED,
    "closed": PeerState.CLOSED,
}


class PeerLink:
    """One ``RTCPeerConnection`` to ``remote_id``, rebuilt when it fails.

    The link owns the local tracks given to :meth:`set_track`: it stops a track when it
    is replaced and when the link closes (as aiortc's senders do).
    """

    def __init__(
        self,
        local_id: str,
        remote_id: str,
        send_signal: SendSignal,
        *,
        directions: MediaDirections | None = None,
        ice_servers: Sequence[RTCIceServer] = (),
        on_track: OnTrack | None = None,
        on_state: OnState | None = None,
        on_stats: OnStats | None = None,
        stats_interval: float = 2.0,
        max_rebuilds: int = 3,
        rebuild_backoff: float = 0.5,
        voice_receive: bool = True,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        """``voice_receive=False`` keeps aiortc's own audio jitter buffer and decoder
        (benchmarks compare against it); by default Opus audio is received through
        :mod:`media.voice_receive`. A connection that is not up ``connect_timeout``
        seconds after it was made is replaced (see :data:`CONNECT_TIMEOUT_S`)."""
        if local_id == remote_id:
            raise ValueError("a peer link needs two different user ids")
        self.local_id = local_id
        self.remote_id = remote_id
        self.directions = directions or MediaDirections()
        self._send_signal = send_signal
        self._ice_servers = list(ice_servers)
        self._on_track = on_track
        self._on_state = on_state
        self._on_stats = on_stats
        self._stats_interval = stats_interval
        self._max_rebuilds = max_rebuilds
        self._rebuild_backoff = rebuild_backoff
        self._voice_receive = voice_receive
        self._connect_timeout = connect_timeout
        self._connect_timer: asyncio.TimerHandle | None = None
        #: Gather relay candidates only (after a connection timed out with TURN known).
        self.relay_only = False

        self._tracks: dict[MediaKind, MediaStreamTrack | None] = dict.fromkeys(MediaKind)
        self._pc: RTCPeerConnection | None = None
        self._lock = asyncio.Lock()
        self._state = PeerState.NEW
        self._session = uuid.uuid4().hex
        self._generation = 0
        self._remote_key: tuple[object, object] | None = None
        self._pending_negotiation = False
        self._pending_candidates: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._rebuilds = 0
        self._started = False
        self._closing = False
        self._closed = asyncio.Event()
        self._closing_task: asyncio.Task[None] | None = None
        self._video_frames_in = 0
        self._unreported: dict[MediaKind, MediaStreamTrack] = {}
        self._sampler = StatsSampler()
        self.offers_sent = 0
        """Offers this link has sent (tests check that replacing a track sends none)."""
        self.renegotiations_requested = 0
        """``renegotiate`` signals this link has sent as answerer."""

    # -- public API ------------------------------------------------------------------

    @property
    def is_offerer(self) -> bool:
        """Whether this side makes the offers (its user id sorts first)."""
        return self.local_id < self.remote_id

    @property
    def state(self) -> PeerState:
        """The link's connection state."""
        return self._state

    @property
    def closing(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closing

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has finished."""
        return self._closed.is_set()

    def track(self, kind: MediaKind) -> MediaStreamTrack | None:
        """The local track currently attached for ``kind``."""
        return self._tracks[kind]

    async def start(self) -> None:
        """Create the peer connection; the offerer sends its first offer."""
        if self._started or self._closing:
            return
        self._started = True
        ice.install()
        self._pc = self._new_pc()
        self._spawn(self._run_stats())
        if self.is_offerer:
            await self._negotiate()

    async def ask_for_new_connection(self) -> None:
        """As the answerer of a link made again, ask the offerer to replace its connection.

        The offerer's old connection may not have noticed that ours closed (a closed
        DTLS session is not always reported) and would renegotiate on it, which a new
        connection cannot answer. An offerer's link made again needs no such request:
        its first offer carries a new ``session``, which makes the other side replace
        its connection (see ``docs/protocol.md`` § Peer links).
        """
        if self.is_offerer or self._closing:
            return
        self.renegotiations_requested += 1
        await self._send(SignalKind.RENEGOTIATE, {"reason": "restart"})

    async def set_track(self, kind: MediaKind, track: MediaStreamTrack | None) -> None:
        """Attach, replace or remove the local track of ``kind``.

        Replacing a track keeps the negotiated session (``replaceTrack``); starting or
        stopping to send a kind renegotiates.
        """
        if self._closing:
            if track is not None:
                track.stop()
            return
        old = self._tracks[kind]
        if old is track:
            return
        was_sending = self._sending(kind)
        self._tracks[kind] = track
        now_sending = self._sending(kind)
        async with self._lock:
            if self._pc is not None:
                for transceiver in self._pc.getTransceivers():
                    if transceiver.kind == kind.value:
                        attach(transceiver, track if now_sending else None)
        # Stopped after the switch, so a sender waiting on it moves to the new track.
        if old is not None:
            old.stop()
        if self._started and was_sending != now_sending:
            await self._request_negotiation("tracks")

    async def set_directions(self, directions: MediaDirections) -> None:
        """Change what this link sends and receives (an audience member takes a seat).

        Renegotiates when a negotiated direction changes; a remote track that arrived
        while its kind was not wanted is reported once it is.
        """
        if self._closing or directions == self.directions:
            return
        before = {kind: self._direction(kind) for kind in MediaKind}
        self.directions = directions
        after = {kind: self._direction(kind) for kind in MediaKind}
        async with self._lock:
            if self._pc is not None:
                for transceiver in self._pc.getTransceivers():
                    kind = MediaKind(transceiver.kind)
                    attach(transceiver, self._tracks[kind] if self._sending(kind) else None)
        for kind, track in list(self._unreported.items()):
            if directions.receives(kind):
                del self._unreported[kind]
                self._report_track(track)
        if self._started and before != after:
            await self._request_negotiation("directions")

    async def handle_signal(self, kind: SignalKind | str, payload: dict[str, Any]) -> None:
        """Apply a signal from the remote user; ``ValueError`` if kind or payload is bad."""
        kind = SignalKind(kind)
        if self._closing:
            return
        try:
            if kind is SignalKind.OFFER:
                await self._on_offer(payload)
            elif kind is SignalKind.ANSWER:
                await self._on_answer(payload)
            elif kind is SignalKind.CANDIDATE:
                await self._on_candidate(payload)
            elif not self.is_offerer:
                logger.warning("%s: renegotiate ignored (this side answers)", self)
            elif payload.get("reason") == "restart":
                await self._rebuild()
            else:
                await self._negotiate()
        except InvalidStateError:
            # The connection was closed or replaced while the signal was applied.
            if not self._closing:
                raise

    async def close(self, final_state: PeerState = PeerState.CLOSED) -> None:
        """Close the connection, stop owned tracks and tasks; idempotent.

        A close, once begun, runs to its end even if its caller is cancelled: a close
        cut short would leave every later caller (and aiortc's own ``pc.close()``)
        waiting forever for a connection that never finishes closing.
        """
        if self._closing_task is None:
            self._closing = True
            self._closing_task = asyncio.get_running_loop().create_task(
                self._close(final_state), name=f"close {self!r}"
            )
        await asyncio.shield(self._closing_task)

    async def _close(self, final_state: PeerState) -> None:
        self._disarm_connect_timer()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Under the lock, so an offer or answer being applied finishes on a live pc.
        async with self._lock:
            pc, self._pc = self._pc, None
            if pc is not None:
                await dispose_pc(pc)
        for kind, track in self._tracks.items():
            if track is not None:
                track.stop()
            self._tracks[kind] = None
        self._set_state(final_state)
        self._closed.set()

    def __repr__(self) -> str:
        return f"PeerLink({self.local_id!r}->{self.remote_id!r}, {self._state.value})"

    # -- negotiation -----------------------------------------------------------------

    def _sending(self, kind: MediaKind) -> bool:
        return self.directions.sends(kind) and self._tracks[kind] is not None

    def _direction(self, kind: MediaKind) -> str:
        return sdp_direction(self._sending(kind), self.directions.receives(kind))

    def _sync_transceivers(self, pc: RTCPeerConnection, *, add_missing: bool) -> None:
        """Point each transceiver at the wanted direction and local track."""
        for kind in MediaKind:
            direction = self._direction(kind)
            track = self._tracks[kind] if self._sending(kind) else None
            found: list[RTCRtpTransceiver] = [
                t for t in pc.getTransceivers() if t.kind == kind.value and not t.stopped
            ]
            if not found and add_missing and direction != "inactive":
                found = [pc.addTransceiver(kind.value, direction=direction)]
            for transceiver in found:
                transceiver.direction = direction
                attach(transceiver, track)

    async def _request_negotiation(self, reason: str) -> None:
        if self.is_offerer:
            await self._negotiate()
        else:
            self.renegotiations_requested += 1
            await self._send(SignalKind.RENEGOTIATE, {"reason": reason})

    async def _negotiate(self) -> None:
        """Offerer: send an offer for the current wishes, or queue one if busy."""
        async with self._lock:
            pc = self._pc
            if pc is None or self._closing:
                return
            if pc.signalingState != "stable":
                self._pending_negotiation = True
                return
            self._sync_transceivers(pc, add_missing=True)
            if not pc.getTransceivers():
                return
            await pc.setLocalDescription(await pc.createOffer())
            self.offers_sent += 1
            payload = {
                "sdp": pc.localDescription.sdp,
                "type": "offer",
                "session": self._session,
                "generation": self._generation,
            }
        await self._send(SignalKind.OFFER, payload)

    async def _on_offer(self, payload: dict[str, Any]) -> None:
        sdp = require_sdp(payload, "offer")
        if self.is_offerer:
            logger.warning("%s: unexpected offer ignored (this side offers)", self)
            return
        key = (payload.get("session"), payload.get("generation"))
        async with self._lock:
            if self._closing:
                return
            if self._pc is None:
                raise RuntimeError(f"{self}: start() the link before handing it signals")
            # A new session or generation means the offerer rebuilt its connection.
            if self._remote_key is not None and key[0] is not None and key != self._remote_key:
                await self._replace_pc()
            pc = self._pc
            assert pc is not None
            self._remote_key = key
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            self._sync_transceivers(pc, add_missing=False)
            await pc.setLocalDescription(await pc.createAnswer())
            await self._flush_candidates(pc)
            answer: dict[str, Any] = {"sdp": pc.localDescription.sdp, "type": "answer"}
            answer.update(session=key[0], generation=key[1])
        await self._send(SignalKind.ANSWER, answer)

    async def _on_answer(self, payload: dict[str, Any]) -> None:
        sdp = require_sdp(payload, "answer")
        async with self._lock:
            pc = self._pc
            if pc is None or pc.signalingState != "have-local-offer":
                logger.info("%s: stale answer ignored", self)
                return
            if payload.get("generation", self._generation) != self._generation:
                logger.info("%s: answer for an older connection ignored", self)
                return
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            await self._flush_candidates(pc)
            pending, self._pending_negotiation = self._pending_negotiation, False
        if pending:
            await self._negotiate()

    async def _on_candidate(self, payload: dict[str, Any]) -> None:
        parse_candidate(payload)  # reject a malformed candidate now, not when it is applied
        async with self._lock:
            pc = self._pc
            if pc is None or pc.remoteDescription is None:
                self._pending_candidates.append(payload)
                return
            await add_candidate(pc, payload)

    async def _flush_candidates(self, pc: RTCPeerConnection) -> None:
        pending, self._pending_candidates = self._pending_candidates, []
        for payload in pending:
            await add_candidate(pc, payload)

    # -- connection lifecycle --------------------------------------------------------

    def _new_pc(self) -> RTCPeerConnection:
        # MAX_BUNDLE: every kind shares one transport, so a kind added mid-call does not
        # gather and check a second set of candidates.
        config = RTCConfiguration(
            iceServers=list(self._ice_servers),
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            iceTransportPolicy=(
                RTCIceTransportPolicy.RELAY if self.relay_only else RTCIceTransportPolicy.ALL
            ),
        )
        pc = RTCPeerConnection(config)
        pc.on("connectionstatechange", lambda: self._on_pc_state(pc))
        pc.on("track", lambda track: self._on_pc_track(pc, track))
        self._arm_connect_timer(pc)
        return pc

    def _arm_connect_timer(self, pc: RTCPeerConnection) -> None:
        """aioice reports a connection whose candidate pairs all fail only after ~64 s;
        the offerer gives it ``connect_timeout`` seconds and then makes a new one (the
        answerer's follows the new offer), relayed when a TURN server is known."""
        self._disarm_connect_timer()
        if self.is_offerer and self._connect_timeout > 0:
            self._connect_timer = asyncio.get_running_loop().call_later(
                self._connect_timeout, self._on_connect_timeout, pc
            )

    def _disarm_connect_timer(self) -> None:
        if self._connect_timer is not None:
            self._connect_timer.cancel()
            self._connect_timer = None

    def _on_connect_timeout(self, pc: RTCPeerConnection) -> None:
        self._connect_timer = None
        if pc is not self._pc or self._closing or pc.connectionState == "connected":
            return
        relay = any(has_turn(server) for server in self._ice_servers)
        logger.info(
            "%s: not connected after %.0f s; %s",
            self,
            self._connect_timeout,
            "trying the TURN relay alone" if relay else "making a new connection",
        )
        self.relay_only = self.relay_only or relay
        self._spawn(self._rebuild())

    async def _replace_pc(self) -> None:
        """Swap in a fresh connection; the caller holds the lock."""
        old, self._pc = self._pc, None
        if old is not None:
            await dispose_pc(old)
        if self.is_offerer:
            self._generation += 1
        self._remote_key = None
        self._unreported.clear()
        self._pending_negotiation = False
        self._pending_candidates.clear()
        self._sampler.reset()
        self._pc = self._new_pc()

    def _on_pc_state(self, pc: RTCPeerConnection) -> None:
        if pc is not self._pc or self._closing:
            return
        state = _PC_STATES.get(pc.connectionState, PeerState.CONNECTING)
        if state is PeerState.CONNECTED:
            self._disarm_connect_timer()
            self._rebuilds = 0
            self._sampler.reset()
            self._set_state(state)
        elif state is PeerState.FAILED:
            self._spawn(self._rebuild())
        elif state is PeerState.CLOSED:
            # aiortc closes itself when the remote side closed DTLS: the peer hung up.
            self._spawn(self.close())
        elif self._state is not PeerState.RECONNECTING:
            self._set_state(state)

    async def _rebuild(self) -> None:
        """Replace a failed connection, with bounded retries and back-off."""
        if self._closing:
            return
        if self._rebuilds >= self._max_rebuilds:
            logger.warning("%s: giving up after %d rebuilds", self, self._rebuilds)
            await self.close(final_state=PeerState.FAILED)
            return
        self._rebuilds += 1
        self._set_state(PeerState.RECONNECTING)
        await asyncio.sleep(self._rebuild_backoff * 2 ** (self._rebuilds - 1))
        async with self._lock:
            if self.closing:  # close() may have run during the back-off
                return
            await self._replace_pc()
        await self._request_negotiation("restart")

    def _on_pc_track(self, pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
        if pc is not self._pc:
            return
        if track.kind == MediaKind.AUDIO.value and self._voice_receive:
            # Before any RTP can arrive: the track event comes with the remote
            # description, media only after ICE and DTLS.
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track:
                    install_voice_receive(transceiver.receiver, track)
        kind = MediaKind(track.kind)
        if not self.directions.receives(kind):
            # Kept, in case set_directions() asks for this kind later.
            self._unreported[kind] = track
            return
        self._unreported.pop(kind, None)
        self._report_track(track)

    def _report_track(self, track: MediaStreamTrack) -> None:
        if track.readyState != "live" or self._on_track is None:
            return
        if track.kind == MediaKind.VIDEO.value:
            track = CountingTrack(track, self._count_video_frame)
        call_safely(self._on_track, self.remote_id, track)

    def _count_video_frame(self) -> None:
        self._video_frames_in += 1

    async def _run_stats(self) -> None:
        while True:
            await asyncio.sleep(self._stats_interval)
            pc = self._pc
            if pc is None or pc.connectionState != "connected" or self._on_stats is None:
                continue
            try:
                report = await pc.getStats()
                stats = self._sampler.sample(report, self._video_frames_in, time.monotonic())
            except Exception:
                # A connection torn down mid-read; the next round reads the new one.
                logger.debug("%s: reading stats failed", self, exc_info=True)
                continue
            call_safely(self._on_stats, self.remote_id, stats)

    # -- helpers ---------------------------------------------------------------------

    def _set_state(self, state: PeerState) -> None:
        if state is self._state:
            return
        self._state = state
        if self._on_state is not None:
            call_safely(self._on_state, self.remote_id, state)

    async def _send(self, kind: SignalKind, payload: dict[str, Any]) -> None:
        try:
            await self._send_signal(self.remote_id, kind, payload)
        except Exception:
            # Signaling trouble is the signaling client's to report; the link stays up.
            logger.exception("%s: sending %s failed", self, kind.value)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: task failed", self, exc_info=task.exception())
