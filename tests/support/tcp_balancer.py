"""A TCP load balancer for tests: what sits in front of several servers in a deployment.

Each new connection goes to the next backend in turn that accepts it (a dead one is
skipped), and stays there; when its backend goes away, the client's side is closed too,
so the client reconnects, and lands on a live server.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpBalancer:
    """Round-robin over ``backends`` (host, port), listening on 127.0.0.1, port 0."""

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = list(backends)
        self._next = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        #: Which backend each accepted connection went to, in order.
        self.routed: list[tuple[str, int]] = []

    async def start(self) -> str:
        """Listen; returns the URL clients connect to."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(len(self.backends)):
            backend = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                up_reader, up_writer = await asyncio.open_connection(*backend)
            except OSError:
                continue
            self.routed.append(backend)
            await self._splice(reader, writer, up_reader, up_writer)
            return
        writer.close()

    async def _splice(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()

        tasks = [
            asyncio.ensure_future(pump(reader, up_writer)),
            asyncio.ensure_future(pump(up_reader, writer)),
        ]
        for task in tasks:
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)
        # Either side ending ends both: a dead backend closes its clients' connections.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for stream in (writer, up_writer):
            stream.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
