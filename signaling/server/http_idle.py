"""Closing HTTP connections that hold a socket without making a request.

aiohttp waits for a request head as long as the client likes: a slowloris client
(headers sent a byte at a time) or a silent TCP connection holds a file descriptor for
ever, and with an open-file limit of 1024 a thousand of them made ``/healthz`` and new
sign-ins time out. Here a connection gets ``timeout_s`` to deliver a complete request
head after it opens, and again after each response; one that does not is closed.

Only aiohttp's public surface is used: the server's ``connections``, a middleware that
sees each request's ``protocol`` while it runs, and ``RequestHandler.force_close``. A
sweep runs every ``timeout_s / 4`` (at least every second), so a connection is closed
between ``timeout_s`` and ``1.25 * timeout_s`` after its last activity. A websocket or
long-poll in progress is a request being handled: never idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web import RequestHandler

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class IdleConnectionSweeper:
    """Counts and closes connections idle for ``timeout_s`` with no request running."""

    def __init__(self, timeout_s: float, on_close: Callable[[], None] | None = None) -> None:
        self.timeout_s = timeout_s
        self.closed_total = 0
        self._on_close = on_close
        self._server: web.Server | None = None
        # When each connection was first seen or last finished a request; None while a
        # request is being handled on it.
        self._idle_since: dict[RequestHandler, float | None] = {}
        self._timer: asyncio.TimerHandle | None = None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Marks the connection busy while its request runs (install it on the app)."""
        protocol = request.protocol
        self._idle_since[protocol] = None
        try:
            return await handler(request)
        finally:
            if protocol in self._idle_since:
                self._idle_since[protocol] = asyncio.get_running_loop().time()

    def start(self, server: web.Server) -> None:
        """Sweep ``server``'s connections (the runner's, once set up) until :meth:`stop`."""
        self._server = server
        self._schedule()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._server = None
        self._idle_since.clear()

    def _schedule(self) -> None:
        interval = min(1.0, self.timeout_s / 4)
        self._timer = asyncio.get_running_loop().call_later(interval, self._sweep)

    def _sweep(self) -> None:
        server = self._server
        if server is None:
            return
        now = asyncio.get_running_loop().time()
        alive = set(server.connections)
        for gone in [c for c in self._idle_since if c not in alive]:
            del self._idle_since[gone]
        for connection in alive:
            since = self._idle_since.setdefault(connection, now)
            if since is not None and now - since >= self.timeout_s:
                del self._idle_since[connection]
                self.closed_total += 1
                connection.force_close()
                if self._on_close is not None:
                    self._on_close()
        self._schedule()

    @property
    def open_connections(self) -> int:
        """HTTP connections open now (websockets and long-polls included)."""
        return len(self._server.connections) if self._server is not None else 0


__all__ = ["IdleConnectionSweeper"]
