"""Assembles a server: socket.io on aiohttp, the handlers, ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import PROTOCOL_VERSION, dump
from signaling.protocol_accounts import Registration, ServerInfo
from signaling.server import (
    handlers_invitations,
    handlers_media,
    handlers_roomdata,
    handlers_rooms,
    handlers_seat_requests,
    handlers_seats,
    handlers_session,
    handlers_sfu,
)
from signaling.server.accounts import AccountDb
from signaling.server.cluster import Cluster, keep_watch
from signaling.server.guard import GuardedServer
from signaling.server.http_accounts import AccountsApi
from signaling.server.http_idle import IdleConnectionSweeper
from signaling.server.hub import Hub, ServerConfig
from signaling.server.metrics import resident_bytes
from signaling.server.sfu import SfuBridge, SfuSettings
from signaling.server.timers import SharedTimers
from signaling.store import MemoryStore, Store

log = logging.getLogger("parley.server")

# engine.io closes a connection whose single message exceeds this; the 64 KiB request
# limit (``payload_too_large``) is checked per event below it, keeping the connection.
MAX_MESSAGE_BYTES = 1024 * 1024


#: The application's idle-connection sweeper (started by :func:`start_server`).
SWEEPER = web.AppKey("sweeper", IdleConnectionSweeper)


def build_app(
    config: ServerConfig,
    store: Store | None = None,
    accounts: AccountDb | None = None,
    cluster: Cluster | None = None,
    sfu: SfuSettings | None = None,
) -> tuple[web.Application, Hub]:
    """An aiohttp application serving the Parley protocol, and its hub; with
    ``accounts`` also the sign-in API (``/v1/login`` ...); with ``cluster`` one of
    several servers sharing a Redis (its store, timers and broadcasts); with ``sfu``
    audio rooms through that Janus (:mod:`signaling.server.sfu`)."""
    shared: dict[str, Any] = {}
    if cluster is not None and sfu is not None:
        # The bridge keeps each room's Janus handles in this process: a room whose
        # members sit on two servers would be two rooms in Janus.
        raise ValueError("an SFU is not yet supported with several servers (--redis)")
    if cluster is not None:
        if store is not None:
            raise ValueError("a server in a cluster uses the cluster's store")
        store = cluster.store
        shared["client_manager"] = cluster.manager
    sio = GuardedServer(
        **shared,
        sign_in_timeout_s=config.sign_in_timeout_s,
        max_queued_bytes=config.max_queued_bytes,
        async_mode="aiohttp",
        # None is "same origin only": no page is served here, so no browser page at all.
        # ([] would switch the check off.)
        cors_allowed_origins=list(config.allowed_origins) or None,
        max_http_buffer_size=MAX_MESSAGE_BYTES,
        logger=False,
        engineio_logger=False,
    )
    if cluster is not None:
        redis_store = cluster.store
        hub = Hub(sio, redis_store, config, lambda hub: SharedTimers(redis_store, hub.spawn))
        hub.shared = True
    else:
        hub = Hub(sio, store or MemoryStore(), config)
    hub.accounts = accounts
    handlers_session.register(hub)
    handlers_rooms.register(hub)
    handlers_invitations.register(hub)
    handlers_media.register(hub)
    handlers_roomdata.register(hub)
    seats = handlers_seats.register(hub)
    handlers_seat_requests.register(hub, seats)
    bridge = SfuBridge(hub, sfu) if sfu is not None else None
    hub.sfu = bridge is not None
    handlers_sfu.register(hub, bridge)
    sweeper = IdleConnectionSweeper(
        config.http_idle_timeout_s,
        on_close=lambda: hub.metrics.dropped_connections.update(["http_idle"]),
    )
    app = web.Application(middlewares=[sweeper.middleware])
    app[SWEEPER] = sweeper
    sio.attach(app)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def metrics(request: web.Request) -> web.Response:
        if config.metrics_token and not hmac.compare_digest(
            request.headers.get("Authorization", ""), f"Bearer {config.metrics_token}"
        ):
            raise web.HTTPUnauthorized(text="metrics: send Authorization: Bearer <token>\n")
        engine_sockets = len(sio.eio.sockets)
        gauges = {
            **await hub.store.stats(),
            "engineio_sockets": engine_sockets,
            "unauthenticated_sockets": max(0, engine_sockets - hub.metrics.connections),
            "queued_bytes": sio.eio.queued_bytes(),
            "http_connections": sweeper.open_connections,
            "asyncio_tasks": len(asyncio.all_tasks()),
            "resident_bytes": resident_bytes(),
        }
        text = hub.metrics.render(gauges)
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    async def server_info(request: web.Request) -> web.Response:
        """``GET /v1/server``: whether this server has accounts, and who may sign up."""
        info = ServerInfo(
            protocol=PROTOCOL_VERSION,
            accounts=accounts is not None,
            registration=config.registration if accounts else Registration.CLOSED,
        )
        return web.json_response({"ok": True, **dump(info)})

    api = AccountsApi(hub, accounts) if accounts is not None else None
    if api is not None:
        api.add_routes(app)

    async def on_startup(app: web.Application) -> None:
        if cluster is not None:
            await cluster.start()
            hub.spawn(keep_watch(hub, cluster))
        if bridge is not None:
            await bridge.start()
        hub.spawn(hub.timers.run())

    async def on_shutdown(app: web.Application) -> None:
        if api is not None:
            api.close()
        sweeper.stop()
        await hub.close()
        if bridge is not None:
            await bridge.close()
        if cluster is not None:
            await cluster.close()

    async def ice_servers(request: web.Request) -> web.Response:
        """``GET /v1/ice-servers`` with the socket's token as a Bearer token."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token:
                raise SignalingError(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>")
            identity = await hub.identify(token.strip())
        except SignalingError as exc:
            return web.json_response(exc.to_wire(), status=401)
        servers = [dump(s) for s in hub.ice_servers_for(identity.user_id)]
        return web.json_response({"ok": True, "ice_servers": servers})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/v1/server", server_info)
    app.router.add_get("/v1/ice-servers", ice_servers)
    app.router.add_get("/metrics", metrics)
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    return app, hub


@dataclass
class RunningServer:
    """A server listening on a port, for tests, benchmarks and the embedded local server."""

    host: str
    port: int
    hub: Hub
    runner: web.AppRunner = field(repr=False)
    #: Whether it serves TLS (``https``/``wss``).
    tls: bool = False
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Close every connection and release the port; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        # Without this aiohttp waits out its graceful-shutdown timeout for open websockets.
        await self.hub.sio.shutdown()
        if self.hub.shared:
            await self.hub.hand_over()
        await self.runner.cleanup()


async def start_server(
    config: ServerConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    store: Store | None = None,
    *,
    ssl_context: ssl.SSLContext | None = None,
    accounts: AccountDb | None = None,
    cluster: Cluster | None = None,
    sfu: SfuSettings | None = None,
) -> RunningServer:
    """Start listening (``port=0`` picks a free port) and return the running server;
    with ``ssl_context`` (:func:`signaling.tls.server_context`) it serves https/wss,
    with ``accounts`` the sign-in API, with ``cluster`` as one of several servers
    sharing a Redis (:mod:`signaling.server.cluster`), with ``sfu`` audio rooms
    through Janus."""
    app, hub = build_app(config, store, accounts, cluster, sfu)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    if runner.server is not None:
        app[SWEEPER].start(runner.server)
    site = web.TCPSite(runner, host, port, reuse_address=True, ssl_context=ssl_context)
    await site.start()
    addresses: list[Any] = list(runner.addresses)
    actual = int(addresses[0][1]) if addresses else port
    running = RunningServer(host, actual, hub, runner, tls=ssl_context is not None)
    log.info("parley-server listening on %s", running.url)
    return running
