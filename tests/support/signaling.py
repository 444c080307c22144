"""Fixtures for signaling tests: a real parley-server on 127.0.0.1 port 0 and real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
import pytest_asyncio

from app.testing import SERVER_MARKER
from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.server.app import RunningServer, start_server
from signaling.server.cluster import Cluster, ClusterConfig
from signaling.server.hub import ServerConfig
from tests.support.redis_server import RedisServer, fresh_prefix

TEST_SECRET = "parley-test-secret-0123456789abcdef"

T = TypeVar("T")
ClientFactory = Callable[..., Awaitable["RecordingClient"]]


class RecordingClient(SignalingClient):
    """A real client that also keeps every event it saw, in order, for assertions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[object] = []
        self.subscribe(self.seen.append)

    def seen_of(self, event_type: type[T]) -> list[T]:
        return [e for e in self.seen if isinstance(e, event_type)]

    async def expect(
        self,
        event_type: type[T],
        predicate: Callable[[T], bool] = lambda _: True,
        timeout: float = 5.0,
    ) -> T:
        """The first matching event already seen, or else the next one to arrive."""
        for event in self.seen_of(event_type):
            if predicate(event):
                return event
        return await self.wait_for(event_type, predicate, timeout)


@pytest_asyncio.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[RunningServer]:
    """A real server on 127.0.0.1, port 0, with the suite's fixed secret (for minting
    tokens); ``@pytest.mark.parley_server(k=v)`` tunes it, as it does ``parley_server``.
    Parametrised with :data:`both_stores`, the same tests run again on a server keeping
    its state in a real Redis (as one of several would)."""
    marker = request.node.get_closest_marker(SERVER_MARKER)
    options = dict(marker.kwargs) if marker else {}
    config = ServerConfig(secret=TEST_SECRET, **options)
    cluster = None
    if getattr(request, "param", "memory") == "redis":
        redis_server: RedisServer = request.getfixturevalue("redis_server")
        cluster = Cluster(ClusterConfig(redis_server.url, fresh_prefix()))
    running = await start_server(config, "127.0.0.1", 0, cluster=cluster)
    try:
        yield running
    finally:
        await running.stop()


#: Run a test module's tests on an in-memory server and on a Redis-backed one:
#: ``pytestmark = both_stores``.
both_stores = pytest.mark.parametrize("server", ["memory", "redis"], indirect=True)


class Clients:
    """Connects real clients (tokens minted with the suite's secret) and closes them all."""

    def __init__(self) -> None:
        self._open: list[RecordingClient] = []

    async def connect(
        self, url: str, user_id: str, name: str | None = None, **options: Any
    ) -> RecordingClient:
        token = mint_token(TEST_SECRET, user_id, name or user_id.title())
        client = RecordingClient(url, token, **options)
        await client.connect()
        self._open.append(client)
        return client

    async def close(self) -> None:
        for client in self._open:
            await client.close()


@pytest_asyncio.fixture
async def make_client(server: RunningServer) -> AsyncIterator[ClientFactory]:
    clients = Clients()

    async def make(user_id: str, name: str | None = None, **options: Any) -> RecordingClient:
        return await clients.connect(server.url, user_id, name, **options)

    yield make
    await clients.close()
