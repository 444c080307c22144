"""Clients that send and never read: a websocket over a plain TCP socket with a tiny
receive buffer, a long-polling session that never polls, and bare HTTP connections that
never finish a request. Written from RFC 6455 and docs/protocol.md; nothing here uses a
Socket.IO or websocket library, so nothing reads for us behind our back."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from urllib.parse import urlsplit

import aiohttp


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


async def _connect(url: str, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        # Before connecting, so the advertised window stays small.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, _address(url))
    return sock


class DeafWebSocket:
    """Signs in over a websocket, then only writes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._next_id = 1

    @classmethod
    async def open(cls, url: str, token: str) -> DeafWebSocket:
        sock = await _connect(url, receive_buffer=4096)
        loop = asyncio.get_running_loop()
        host, port = _address(url)
        key = base64.b64encode(os.urandom(16)).decode()
        head = (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(sock, head.encode())
        deaf = cls(sock)
        response = await deaf._read_until(b"\r\n\r\n")
        assert response.startswith(b"HTTP/1.1 101"), response
        assert (await deaf._read_frame()).startswith("0{")  # Engine.IO open
        await deaf.send("40" + json.dumps({"token": token}))
        assert (await deaf._read_frame()).startswith("40{")  # signed in; deaf from here
        return deaf

    async def request(self, event: str, payload: object) -> None:
        """Send a request; its answer is never read."""
        await self.send(f"42{self._next_id}" + json.dumps([event, payload]))
        self._next_id += 1

    async def send(self, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        if len(data) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(data))
        elif len(data) < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(data))
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, len(data))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        await asyncio.get_running_loop().sock_sendall(self.sock, header + mask + masked)

    def close(self) -> None:
        self.sock.close()

    async def _read_exactly(self, count: int) -> bytes:
        loop = asyncio.get_running_loop()
        data = b""
        while len(data) < count:
            chunk = await loop.sock_recv(self.sock, count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    async def _read_until(self, end: bytes) -> bytes:
        data = b""
        while not data.endswith(end):
            data += await self._read_exactly(1)
        return data

    async def _read_frame(self) -> str:
        _flags, second = await self._read_exactly(2)  # one text frame, unfragmented
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self._read_exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._read_exactly(8))
        return (await self._read_exactly(length)).decode()


class DeafPolling:
    """Signs in over Engine.IO long-polling, then only POSTs, never GETs."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url
        self._next_id = 1

    @classmethod
    async def open(cls, url: str, token: str) -> DeafPolling:
        session = aiohttp.ClientSession()
        try:
            base = f"{url}/socket.io/?EIO=4&transport=polling"
            async with session.get(base) as response:
                opened = json.loads((await response.text())[1:])
            deaf = cls(session, f"{base}&sid={opened['sid']}")
            await deaf.post("40" + json.dumps({"token": token}))
            async with session.get(deaf.url) as response:  # the last read it will do
                assert "40{" in await response.text()
        except BaseException:
            await session.close()
            raise
        return deaf

    async def request(self, event: str, payload: object) -> int:
        """Send a request; its answer is never polled. Returns the HTTP status."""
        status = await self.post(f"42{self._next_id}" + json.dumps([event, payload]))
        self._next_id += 1
        return status

    async def post(self, body: str) -> int:
        async with self.session.post(self.url, data=body.encode()) as response:
            await response.read()
            return response.status

    async def close(self) -> None:
        await self.session.close()


async def idle_connection(url: str, partial_head: bytes = b"") -> socket.socket:
    """A TCP connection to the server that sends ``partial_head`` (say, half a request
    head) and then nothing."""
    sock = await _connect(url)
    if partial_head:
        await asyncio.get_running_loop().sock_sendall(sock, partial_head)
    return sock


async def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """Whether the server closes ``sock`` within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    if not await loop.sock_recv(sock, 65536):
                        return True
                except ConnectionError:
                    return True
    except TimeoutError:
        return False
