"""A hand-made Engine.IO 4 / Socket.IO 5 client over one websocket, written from the
wire format in docs/protocol.md, not from any Socket.IO library: it sends exactly the
frames a test gives it, so attacks can send what no well-behaved client would.

Frames, as text: ``0{…}`` open (server), ``1`` close, ``2``/``3`` ping/pong, ``40{auth}`` connect,
``42<id>[event, payload]`` a request, ``43<id>[answer]`` its answer, ``44{…}`` connect
error, ``41`` disconnect.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp

ANSWER = re.compile(r"^43(\d+)(\[.*)$", re.S)


class RawSocket:
    """One raw connection; ``frames`` keeps what the server sent (pings answered)."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self._session = session
        self.ws = ws
        self.frames: list[str | bytes] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._next_id = 1

    @classmethod
    async def open(cls, url: str, token: str | None = None, origin: str | None = None) -> RawSocket:
        """Open the websocket (as a page of ``origin`` would, if given); with ``token``,
        also sign in (``40{"token": …}``)."""
        session = aiohttp.ClientSession()
        headers = {"Origin": origin} if origin else {}
        try:
            ws = await session.ws_connect(
                f"{url}/socket.io/?EIO=4&transport=websocket", headers=headers
            )
        except BaseException:
            await session.close()
            raise
        sock = cls(session, ws)
        try:
            await sock.wait_for(lambda f: isinstance(f, str) and f.startswith("0{"))
            if token is not None:
                await sock.send("40" + json.dumps({"token": token}))
                connected = await sock.wait_for(
                    lambda f: isinstance(f, str) and f.startswith(("40{", "44"))
                )
                assert isinstance(connected, str)
                assert connected.startswith("40{"), f"sign-in refused: {connected}"
        except BaseException:
            await sock.close()
            raise
        return sock

    async def send(self, frame: str | bytes) -> None:
        """Send one frame as it is."""
        if isinstance(frame, bytes):
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_str(frame)

    async def request(self, event: object, *args: object, timeout: float = 5.0) -> Any:
        """Send ``42<id>[event, *args]`` and return the first value of its answer."""
        request_id = self.take_id()
        await self.send(f"42{request_id}" + json.dumps([event, *args]))
        return await self.answer(request_id, timeout)

    def take_id(self) -> int:
        """A request id not used yet on this connection."""
        request_id, self._next_id = self._next_id, self._next_id + 1
        return request_id

    async def answer(self, request_id: int, timeout: float = 5.0) -> Any:
        """The first value of the answer to request ``request_id``."""
        frame = await self.wait_for(lambda f: _answer_id(f) == request_id, timeout)
        assert isinstance(frame, str)
        match = ANSWER.match(frame)
        assert match is not None
        values = json.loads(match.group(2))
        return values[0] if values else None

    async def wait_for(self, matches: Any, timeout: float = 5.0) -> str | bytes:
        """The first frame (already received or to come) for which ``matches`` is true."""
        async with asyncio.timeout(timeout), self._arrived:
            while True:
                for frame in self.frames:
                    if matches(frame):
                        return frame
                if self._reader.done():
                    raise ConnectionError(f"closed before a matching frame: {self.frames[-5:]}")
                await self._arrived.wait()

    async def closed(self, timeout: float = 5.0) -> None:
        """Return once the server has closed the connection."""
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)

    @property
    def is_closed(self) -> bool:
        return self._reader.done()

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    data: str | bytes = message.data
                    if data == "2":  # the server's ping
                        await self.ws.send_str("3")
                        continue
                    if data == "1":  # engine.io's close: the server is done with us
                        break
                elif message.type == aiohttp.WSMsgType.BINARY:
                    data = message.data
                else:
                    break
                async with self._arrived:
                    self.frames.append(data)
                    self._arrived.notify_all()
        finally:
            async with self._arrived:
                self._arrived.notify_all()

    async def close(self) -> None:
        """Close the websocket (no goodbye packet) and the HTTP session; idempotent."""
        await self.ws.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self._session.close()


def _answer_id(frame: str | bytes) -> int | None:
    if not isinstance(frame, str):
        return None
    match = ANSWER.match(frame)
    return int(match.group(1)) if match else None
