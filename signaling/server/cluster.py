"""Several ``parley-server`` processes behind one address, sharing one Redis.

What is shared: the store (:class:`~signaling.store_redis.RedisStore`: sessions,
presence, rooms, seats, invitations, signed-out tokens), the timers
(:class:`~signaling.server.timers.SharedTimers`) and socket.io's broadcasts and
per-connection messages (python-socketio's ``AsyncRedisManager``). What stays in each
process: its own connections and their rate limits.

Each server writes a heartbeat; when one stops beating for ``silence_s`` (it was killed,
or lost its network), the first live server to notice claims it and ends its sessions
the way a dropped connection ends (members keep their place for the rejoin grace), so
nobody it held stays "online" forever. Its clients reconnect to another server and
re-join; their places are still theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import socketio
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from signaling.server.hub import Caller, Hub
from signaling.store_redis import RedisStore

log = logging.getLogger("parley.server")

#: Connections one server keeps to Redis at most.
MAX_REDIS_CONNECTIONS = 64


class ClusterError(RuntimeError):
    """The shared Redis cannot be used (unreachable, refused the password, ...)."""


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


@dataclass(frozen=True)
class ClusterConfig:
    """Where the shared Redis is, and how servers watch each other."""

    redis_url: str
    # Keys and the broadcast channel start with this: one Redis may serve several
    # deployments (or test runs) side by side.
    prefix: str = "parley:"
    heartbeat_s: float = 2.0
    # A server silent this long is taken for dead.
    silence_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                "--redis wants a redis://, rediss:// or unix:// URL, "
                f"not {redacted(self.redis_url)!r}"
            )
        if self.heartbeat_s <= 0:
            raise ValueError("the time a server may stay silent must be more than 0 s")
        if self.silence_s <= 2 * self.heartbeat_s:
            raise ValueError("silence_s must be more than twice heartbeat_s")


class _RedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """socket.io's Redis manager, but a message to one connection this server holds is
    delivered here without going through Redis (the manager publishes every message to
    every server, which then looks for the connection; most of Parley's messages go to
    one person)."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> Any:
        room = to or room
        if room is not None and callback is None and self.is_connected(room, namespace or "/"):
            kwargs["ignore_queue"] = True
        return await super().emit(
            event,
            data,
            namespace=namespace,
            room=room,
            skip_sid=skip_sid,
            callback=callback,
            **kwargs,
        )


class Cluster:
    """This process's connections to the shared Redis: the store and the broadcasts."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        # A burst of commands (thousands of people connecting at once) waits for one of
        # a bounded set of connections rather than failing ("Too many connections") or
        # opening thousands.
        pool = BlockingConnectionPool.from_url(
            config.redis_url, max_connections=MAX_REDIS_CONNECTIONS, timeout=30
        )
        self.redis = Redis(connection_pool=pool)
        self.store = RedisStore(self.redis, config.prefix)
        self.manager = _RedisManager(config.redis_url, channel=f"{config.prefix}socketio")

    async def start(self) -> None:
        """Subscribe to the broadcasts before serving: a message published before the
        subscription is there would be lost for this server."""
        try:
            await self.redis.ping()
        except RedisError as exc:
            await self.close()
            raise ClusterError(
                f"cannot use Redis at {redacted(self.config.redis_url)}: {exc}"
            ) from None
        manager = self.manager
        manager.initialize()
        # The server only initialises its manager on its first connection.
        manager.server.manager_initialized = True
        for _ in range(500):
            if manager.pubsub is not None and manager.pubsub.subscribed:
                return
            await asyncio.sleep(0.01)
        await self.close()
        raise ClusterError(f"could not subscribe to {redacted(self.config.redis_url)}")

    async def close(self) -> None:
        thread = getattr(self.manager, "thread", None)
        if thread is not None:
            thread.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await thread
        if self.manager.pubsub is not None:
            await self.manager.pubsub.aclose()
        if self.manager.redis is not None:
            await self.manager.redis.aclose()
        await self.redis.aclose()


async def keep_watch(hub: Hub, cluster: Cluster) -> None:
    """Beat this server's heartbeat; take over the sessions of servers gone silent."""
    store, config = cluster.store, cluster.config
    # Until the hub closes, not only until cancelled: redis-py can swallow the
    # CancelledError sent while a command is in flight.
    while not hub.closing:
        try:
            await store.heartbeat(hub.server_id)
            for server in await store.servers_silent_for(config.silence_s):
                if server != hub.server_id and await store.claim_dead_server(server):
                    await _take_over(hub, store, server)
        except Exception:
            log.warning("could not watch the other servers; trying again", exc_info=True)
        await asyncio.sleep(config.heartbeat_s)


async def _take_over(hub: Hub, store: RedisStore, server: str) -> None:
    sessions = await store.sessions_on(server)
    log.warning("server %s went silent: ending its %d sessions", server, len(sessions))
    for session in sessions:
        await hub.end_session(Caller(session.sid, session.user_id, session.name))
