"""The gate in front of the handlers: Socket.IO packets the protocol does not have are
refused before python-socketio dispatches them.

python-socketio (5.x) would otherwise run the server's own ``connect``/``disconnect``
handlers for ordinary events of those names (reserved names are kept only from the
catch-all handler), buffer any number of declared binary attachments, and leave
undecodable packets unanswered with a traceback in the log each time. Parley's protocol
is JSON text only: requests are ``42<id>["event", {payload}]`` (docs/protocol.md).

A refused request that carries an id is answered (``bad_request`` or
``unknown_event``); every refusal is reported to ``on_refused`` (the hub counts it,
charges the sender's rate limit and logs a few). Binary packets close the connection.

This overrides ``_handle_eio_message``, a private method of python-socketio's
``AsyncServer``; the version is locked (requirements.lock) and tests/integration/
signaling/test_attacks.py fails if an upgrade changes what it relies on.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import socketio
from socketio import packet

from signaling.errors import ErrorCode, SignalingError
from signaling.server.outbox import MAX_QUEUED_BYTES, BoundedEngineServer

#: Event names python-socketio gives to its own handlers: the connection handlers, and
#: "*" (the catch-all, which an event of that name would call with the wrong arguments).
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error", "*"})
# "2" (EVENT), an optional namespace, then the request id: what a reply needs, read
# from a packet whose JSON could not be decoded.
_EVENT_ID = re.compile(r"2(?:(/[^,]*),)?(\d{1,20})(?!\d)")


class Refusal(StrEnum):
    """Why a packet was refused (the ``reason`` label of the refused-packets metric)."""

    BINARY = "binary"
    MALFORMED = "malformed"
    EVENT_NAME = "event_name"
    RESERVED = "reserved"
    UNEXPECTED = "unexpected"
    #: Not a packet: a connection that did not sign in in time (closed).
    SIGN_IN_TIMEOUT = "sign_in_timeout"
    #: Not a packet: a connection that does not read what it is sent (dropped).
    SLOW_READER = "slow_reader"


OnRefused = Callable[[str, Refusal], Awaitable[None]]


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]  # untyped base
    """python-socketio's server behind the gate; ``on_refused(sid, reason)`` is told of
    each refusal (``sid`` is the Socket.IO sid, or ``""`` before sign-in).

    A connection must sign in (a CONNECT the server accepts) within
    ``sign_in_timeout_s``; one that does not is closed: otherwise any number of sockets
    could be held open without a token, each answering pings.
    """

    def __init__(
        self,
        *,
        sign_in_timeout_s: float = 10.0,
        max_queued_bytes: int = MAX_QUEUED_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(max_queued_bytes=max_queued_bytes, **kwargs)
        self.eio: BoundedEngineServer
        self.on_refused: OnRefused | None = None
        self.sign_in_timeout_s = sign_in_timeout_s
        self._deadlines: dict[str, asyncio.TimerHandle] = {}

    def _engineio_server_class(self) -> type[BoundedEngineServer]:
        return BoundedEngineServer

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        self.eio.remember(eio_sid, environ.get("aiohttp.request"))
        outbox = self.eio.outbox(eio_sid)
        if outbox is not None:
            outbox.on_overflow = lambda: self.start_background_task(
                self._refuse, eio_sid, Refusal.SLOW_READER, close=True
            )
        await super()._handle_eio_connect(eio_sid, environ)
        loop = asyncio.get_running_loop()
        self._deadlines[eio_sid] = loop.call_later(
            self.sign_in_timeout_s, self._sign_in_due, eio_sid
        )

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        deadline = self._deadlines.pop(eio_sid, None)
        if deadline is not None:
            deadline.cancel()
        self.eio.forget(eio_sid)
        await super()._handle_eio_disconnect(eio_sid, reason)

    def _sign_in_due(self, eio_sid: str) -> None:
        self._deadlines.pop(eio_sid, None)
        if self.manager.sid_from_eio_sid(eio_sid, "/") is None:
            self.start_background_task(self._refuse, eio_sid, Refusal.SIGN_IN_TIMEOUT, close=True)

    async def disconnect(
        self, sid: str, namespace: str | None = None, ignore_queue: bool = False
    ) -> None:
        """End the session, and close its connection: python-socketio only sends the
        client a DISCONNECT packet, and a client that ignores it would keep a connection
        without a session open for as long as it answers pings."""
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace or "/")
        await super().disconnect(sid, namespace, ignore_queue)
        if eio_sid is not None and (namespace or "/") == "/":
            # In the background: engine.io's close waits until the client has been sent
            # what was queued before it (the DISCONNECT, an answer, session.kicked).
            self.start_background_task(self.eio.disconnect, eio_sid)

    def stop_deadlines(self) -> None:
        """Forget every pending sign-in deadline (the server is stopping)."""
        for deadline in self._deadlines.values():
            deadline.cancel()
        self._deadlines.clear()

    async def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        if isinstance(data, bytes):
            await self._refuse(eio_sid, Refusal.BINARY, close=True)
            return
        try:
            pkt = self.packet_class(encoded_packet=data)
        except (ValueError, TypeError, RecursionError):
            # Truncated or nested too deep for the JSON decoder, or an integer too long
            # to convert: answer it if an id can be read.
            await self._refuse(eio_sid, Refusal.MALFORMED, answer_to=_event_id(data))
            return
        kind = pkt.packet_type
        if kind in (packet.BINARY_EVENT, packet.BINARY_ACK):
            await self._refuse(eio_sid, Refusal.BINARY, close=True)
        elif kind == packet.CONNECT:
            # A second one on a connected socket is refused by python-socketio itself.
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        elif kind == packet.EVENT:
            await self._event(eio_sid, pkt)
        elif kind == packet.ACK:
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)
        else:  # CONNECT_ERROR or a type that does not exist: clients never send these
            await self._refuse(eio_sid, Refusal.UNEXPECTED)

    async def _event(self, eio_sid: str, pkt: packet.Packet) -> None:
        answer_to = (pkt.namespace, pkt.id) if pkt.id is not None else None
        data = pkt.data
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, str):
            await self._refuse(eio_sid, Refusal.EVENT_NAME, answer_to=answer_to)
        elif name in RESERVED_EVENTS:
            await self._refuse(
                eio_sid,
                Refusal.RESERVED,
                answer_to=answer_to,
                error=SignalingError(ErrorCode.UNKNOWN_EVENT, f"unknown event {name!r}"),
            )
        else:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, data)

    async def _refuse(
        self,
        eio_sid: str,
        reason: Refusal,
        *,
        answer_to: tuple[str | None, int] | None = None,
        error: SignalingError | None = None,
        close: bool = False,
    ) -> None:
        sid = self.manager.sid_from_eio_sid(eio_sid, "/") or ""
        if self.on_refused is not None:
            await self.on_refused(sid, reason)
        if answer_to is not None and sid:
            namespace, request_id = answer_to
            error = error or SignalingError(
                ErrorCode.BAD_REQUEST, f"not a request this server understands ({reason})"
            )
            reply = self.packet_class(
                packet.ACK, namespace=namespace, id=request_id, data=[error.to_wire()]
            )
            await self._send_packet(eio_sid, reply)
        if close:
            # Not awaited here: engine.io's close waits for this very message's handling.
            # Dropped, not closed politely: nothing queued is worth waiting for.
            self.start_background_task(self.eio.drop, eio_sid)


def _event_id(data: str) -> tuple[str | None, int] | None:
    """The namespace and id of an EVENT packet from its text, when the rest is unreadable."""
    match = _EVENT_ID.match(data)
    return (match.group(1), int(match.group(2))) if match else None
