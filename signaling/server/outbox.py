"""A bound on what the server queues for one connection that does not read.

Engine.IO queues every outgoing packet of a connection in an unbounded ``asyncio.Queue``
that its writer drains as fast as the client reads. A client that sends requests and
never reads its answers (over a websocket or by never polling) made that queue grow by
~11 MB a second, kept after it left. Here each connection's queue counts its bytes;
past ``max_queued_bytes`` the connection is a slow reader: nothing more is queued for
it, ``on_overflow`` is told (the server drops the connection) and the memory goes with
the connection.

This replaces Engine.IO's ``create_queue``, a documented extension point; the queue
relies only on ``asyncio.Queue`` calling ``put_nowait``/``get_nowait`` from
``put``/``get``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import engineio
from aiohttp import web

#: Default bound: room snapshots are up to ~250 KB; a reader this far behind is gone.
MAX_QUEUED_BYTES = 4 * 1024 * 1024


def _size(item: object) -> int:
    data = getattr(item, "data", None)
    if isinstance(data, str | bytes):
        return len(data) + 16  # the packet's own small overhead
    return 16


class BoundedQueue(asyncio.Queue[Any]):
    """An outgoing packet queue that knows how many bytes it holds and refuses more than
    its limit (the ``None`` that ends Engine.IO's writer always gets through)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.bytes = 0
        self.overflowed = False
        self.on_overflow: Callable[[], None] | None = None

    def put_nowait(self, item: Any) -> None:
        if item is not None:
            size = _size(item)
            if self.overflowed:
                return
            if self.bytes + size > self.limit:
                self.overflowed = True
                if self.on_overflow is not None:
                    self.on_overflow()
                return
            self.bytes += size
        super().put_nowait(item)

    def discard(self) -> None:
        """Drop everything queued (the connection is gone): the memory is freed now,
        not when the last task holding the socket lets go of it (a ping timer holds it
        for up to 25 s)."""
        self.overflowed = True
        while not self.empty():
            super().get_nowait()
            self.task_done()
        self.bytes = 0
        self.put_nowait(None)  # wake a writer still waiting, so that it ends

    def get_nowait(self) -> Any:
        item = super().get_nowait()
        if item is not None:
            self.bytes = max(0, self.bytes - _size(item))
        return item


class BoundedEngineServer(engineio.AsyncServer):  # type: ignore[misc]  # untyped base
    """Engine.IO's server with :class:`BoundedQueue` outboxes."""

    def __init__(self, *, max_queued_bytes: int = MAX_QUEUED_BYTES, **kwargs: Any) -> None:
        self.max_queued_bytes = max_queued_bytes
        # The latest HTTP request of each connection (its websocket, or its last poll):
        # dropping a connection aborts that request's TCP connection.
        self._requests: dict[str, web.Request] = {}
        super().__init__(**kwargs)

    def create_queue(self, *args: Any, **kwargs: Any) -> BoundedQueue:
        return BoundedQueue(self.max_queued_bytes)

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        request = args[0] if args else None
        sid = request.query.get("sid") if isinstance(request, web.Request) else None
        if isinstance(request, web.Request) and sid in self.sockets:
            self._requests[str(sid)] = request
        return await super().handle_request(*args, **kwargs)

    def remember(self, eio_sid: str, request: object) -> None:
        """The request that opened connection ``eio_sid`` (from its environ)."""
        if isinstance(request, web.Request):
            self._requests.setdefault(eio_sid, request)

    def forget(self, eio_sid: str) -> None:
        """Connection ``eio_sid`` is gone."""
        self._requests.pop(eio_sid, None)

    async def drop(self, eio_sid: str) -> None:
        """Close a connection at once, without sending what is queued for it: its TCP
        connection is aborted (a writer blocked on a full socket buffer is released) and
        the Engine.IO socket closed and forgotten, with its queue."""
        request = self._requests.pop(eio_sid, None)
        transport = request.transport if request is not None else None
        if transport is not None:
            transport.abort()
        socket = self.sockets.get(eio_sid)
        if socket is not None:
            await socket.close(wait=False, abort=True)
            self.sockets.pop(eio_sid, None)
            if isinstance(socket.queue, BoundedQueue):
                socket.queue.discard()

    def outbox(self, eio_sid: str) -> BoundedQueue | None:
        """The outgoing queue of a connection, if it is open."""
        socket = self.sockets.get(eio_sid)
        queue = getattr(socket, "queue", None)
        return queue if isinstance(queue, BoundedQueue) else None

    def queued_bytes(self) -> int:
        """Bytes queued for every connection together."""
        return sum(q.bytes for sid in list(self.sockets) if (q := self.outbox(sid)) is not None)


__all__ = ["MAX_QUEUED_BYTES", "BoundedEngineServer", "BoundedQueue"]
