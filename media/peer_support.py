"""Stateless helpers of :class:`media.peer.PeerLink`: signal payloads, senders, disposal.

Offers and answers are ``{"sdp": str, "type": "offer"|"answer"}`` (plus Parley's
``session``/``generation``); candidates are ``{"candidate", "sdpMid", "sdpMLineIndex"}``
as ``RTCIceCandidate.toJSON()`` gives them, where an empty candidate means the end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from aiortc import RTCIceCandidate, RTCIceServer, RTCPeerConnection, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from media.relay import SwitchableTrack
from media.voice_receive import voice_receive_of

logger = logging.getLogger("media.peer")

_DIRECTIONS = {
    (True, True): "sendrecv",
    (True, False): "sendonly",
    (False, True): "recvonly",
    (False, False): "inactive",
}


def has_turn(server: RTCIceServer) -> bool:
    """Whether ``server`` names a TURN server (``turn:`` or ``turns:``)."""
    urls = [server.urls] if isinstance(server.urls, str) else list(server.urls)
    return any(url.startswith(("turn:", "turns:")) for url in urls)


def sdp_direction(send: bool, receive: bool) -> str:
    """The SDP direction attribute for whether we send and whether we receive."""
    return _DIRECTIONS[(send, receive)]


def parse_candidate(payload: dict[str, Any]) -> RTCIceCandidate | None:
    """A browser-shaped candidate dict as aiortc's candidate; ``None`` = end-of-candidates.

    Raises ``ValueError`` when the candidate line cannot be parsed.
    """
    text = payload.get("candidate")
    if not isinstance(text, str):
        raise ValueError("candidate payload needs a 'candidate' string")
    text = text.strip().removeprefix("candidate:")
    if not text:
        return None
    try:
        candidate = candidate_from_sdp(text)
    except (AssertionError, ValueError, IndexError) as exc:
        raise ValueError(f"malformed ICE candidate: {text!r}") from exc
    candidate.sdpMid = payload.get("sdpMid")
    candidate.sdpMLineIndex = payload.get("sdpMLineIndex")
    if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
        # aiortc needs one of them; a bundled session has everything on m-line 0.
        candidate.sdpMLineIndex = 0
    return candidate


def require_sdp(payload: dict[str, Any], expected_type: str) -> str:
    """The ``sdp`` of an offer or answer payload; ``ValueError`` if it is not one."""
    sdp = payload.get("sdp")
    if not isinstance(sdp, str) or payload.get("type") != expected_type:
        raise ValueError(f"{expected_type} payload needs 'sdp' and type={expected_type!r}")
    return sdp


def attach(transceiver: RTCRtpTransceiver, track: MediaStreamTrack | None) -> None:
    """Point the sender at ``track`` through a switchable track, set once per sender."""
    current = transceiver.sender.track
    if isinstance(current, SwitchableTrack) and current.readyState == "live":
        current.switch(track)
    elif track is not None:
        transceiver.sender.replaceTrack(SwitchableTrack(transceiver.kind, track))


async def dispose_pc(pc: RTCPeerConnection) -> None:
    """Close ``pc`` and leave no task of it behind; its senders stop only the switchable
    tracks around our sources."""
    pc.remove_all_listeners()
    connections = _ice_connections(pc)
    for connection in connections:
        # aioice 0.13 (aioice/ice.py, Connection.connect): when the check list completed
        # just before close(), connect() resumes after close() has begun and starts the
        # consent task of a closed connection, which would sleep and re-check nothing
        # forever (close() cleared its pairs). Closing, nothing needs consent checks.
        connection.query_consent = NoConsentChecks
    await pc.close()
    for transceiver in pc.getTransceivers():
        path = voice_receive_of(transceiver.receiver)
        if path is not None:
            path.close()
    # connect() resumes within a turn of the loop of its check list completing, which
    # close() has awaited past; one more turn, then stop whatever consent task it started.
    await asyncio.sleep(0)
    await stop_consent_checks(connections)


async def stop_consent_checks(connections: list[Any]) -> None:
    """Cancel and await the consent task of each (closed) aioice connection, if any.

    Awaited here, a task that never ran its first step is closed properly: left pending
    when the loop stops, its coroutine would be reported as "never awaited".
    """
    tasks = [
        task
        for task in (getattr(c, "_query_consent_task", None) for c in connections)
        if isinstance(task, asyncio.Task) and not task.done()
    ]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


class NoConsentChecks(Coroutine[None, None, None]):
    """The consent checks of a closing connection: a coroutine that returns at once.

    Not ``async def``: its task may be started by a connect() that resumes in the loop's
    last turn and then never run (the loop closes first); a native coroutine is then
    reported as "never awaited", this one has nothing to report.
    """

    def send(self, value: None) -> None:
        """Finish at once: there is nothing to check."""
        raise StopIteration

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> None:
        """Raise what was thrown in (a task's cancellation) without running anything."""
        error = typ if isinstance(typ, BaseException) else (val or typ())
        raise error

    def close(self) -> None:
        """Nothing to release."""

    def __await__(self) -> Generator[None, None, None]:
        yield from ()


def _ice_connections(pc: RTCPeerConnection) -> list[Any]:
    """The aioice connections under ``pc``'s transports (private attributes, read softly)."""
    dtls = [t.sender.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        dtls.append(pc.sctp.transport)
    found: list[Any] = []
    for transport in dtls:
        ice = getattr(transport, "transport", None)
        connection = getattr(ice, "_connection", None)
        if connection is not None and connection not in found:
            found.append(connection)
    return found


async def add_candidate(pc: RTCPeerConnection, payload: dict[str, Any]) -> None:
    """Apply a browser-shaped candidate payload to ``pc``."""
    await pc.addIceCandidate(parse_candidate(payload))


def call_safely(callback: Callable[..., None], *args: object) -> None:
    """Call an app callback; log, never raise, if it fails."""
    # A failing app callback must not break the link's own bookkeeping.
    try:
        callback(*args)
    except Exception:
        logger.exception("peer link callback %r failed", callback)
