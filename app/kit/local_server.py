"""Start or reuse the embedded local server, or point at a remote one (no Qt).

``parley`` works with no configuration: the first instance on a machine starts a
parley-server inside its own process on 127.0.0.1:8719, later instances find it through
``GET /healthz`` and reuse it. Every instance of one user reads the same secret from
``$XDG_CONFIG_HOME/parley/local-secret`` (0600), so each mints valid tokens for it.

When the hosting instance quits, the others lose the server and their clients report
``RECONNECTING``. :meth:`ServerHandle.take_over` then tries to bind the same port: whoever
binds first hosts, the others see its ``/healthz`` and simply reconnect to it. Room and
presence state start empty on the new host; clients sign in again and re-join their rooms.

``PARLEY_LOCAL_PORT`` moves the local server (tests). ``PARLEY_SERVER_URL`` (``--server``)
names a server with accounts: the sign-in page offers it under *A server* and asks for a
password (``app.kit.remote_account``). With ``PARLEY_SECRET`` as well (integrators, tests)
the app mints its own tokens for that server instead, as the local server's windows do.

Importing this module is cheap (the standard library only): the window reads
:class:`ServerMode` before anything else. The network stack (aiohttp, the server,
PyJWT: ~0.3 s) is imported by the functions that use it, once the window is on screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from app.kit.listeners import Listeners, Unsubscribe

if TYPE_CHECKING:
    from signaling.server.app import RunningServer

log = logging.getLogger("parley.local_server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8719
ENV_PORT = "PARLEY_LOCAL_PORT"
ENV_SERVER_URL = "PARLEY_SERVER_URL"
ENV_SECRET = "PARLEY_SECRET"
ENV_CA_FILE = "PARLEY_CA_FILE"
SECRET_FILE_NAME = "local-secret"
_PROBE_TIMEOUT_S = 1.0


class ServerError(Exception):
    """The server cannot be started, reused or reached; the message says why and what to do."""


class ServerMode(StrEnum):
    """How this instance reaches its server."""

    HOSTING = "hosting"  # the server runs inside this process
    SHARED = "shared"  # another local Parley instance hosts it
    REMOTE = "remote"  # a remote or self-hosted parley-server


class ServerPhase(StrEnum):
    """Where opening the server stands, as the sign-in page and the status line show it."""

    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class ServerStatus:
    """The server as the window shows it: opening, open (how, where) or failed (why)."""

    phase: ServerPhase
    remote: bool = False
    mode: ServerMode | None = None
    url: str = ""
    error: str = ""
    #: Open, unencrypted (http/ws) and not on this machine: what crosses the network
    #: can be read on the way; the window says so.
    unencrypted: bool = False


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Parley's per-user config directory (``$XDG_CONFIG_HOME/parley``)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "parley"


def load_or_create_secret(path: Path) -> str:
    """The local secret stored at ``path``, created (0600, 48 random chars) if absent."""
    from signaling.secret_file import load_or_create_secret as load

    try:
        return load(path)
    except ValueError as exc:
        raise ServerError(str(exc)) from None


async def probe_parley(host: str, port: int, timeout_s: float = _PROBE_TIMEOUT_S) -> bool:
    """Whether a Parley server answers ``GET /healthz`` with ``{"ok": true}`` there."""
    import aiohttp

    url = f"http://{_url_host(host)}:{port}/healthz"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.get(url) as response,
        ):
            if response.status != 200:
                return False
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    return isinstance(body, dict) and body.get("ok") is True


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True)
class ServerSettings:
    """Where the server is: a local port, or a remote URL with the secret of its tokens."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    remote_url: str | None = None
    remote_secret: str | None = None
    #: A server whose accounts the sign-in page offers (``--server`` without a secret).
    account_url: str | None = None
    secret_path: Path | None = None
    #: A CA file (PEM) to verify a remote server's certificate with, instead of the
    #: system's trust store (a self-hosted server with its own CA).
    ca_file: str | None = None

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        server_url: str | None = None,
        ca_file: str | None = None,
    ) -> ServerSettings:
        """Settings from the environment; ``server_url`` (``--server``) and ``ca_file``
        (``--ca-file``) win over it."""
        env = os.environ if environ is None else environ
        try:
            port = int(env.get(ENV_PORT, DEFAULT_PORT))
        except ValueError:
            raise ServerError(f"{ENV_PORT} must be a port number") from None
        url = server_url or env.get(ENV_SERVER_URL) or None
        secret = env.get(ENV_SECRET) or None
        return cls(
            port=port,
            remote_url=url if secret else None,
            remote_secret=secret if url else None,
            account_url=None if secret else url,
            secret_path=config_dir(env) / SECRET_FILE_NAME,
            ca_file=ca_file or env.get(ENV_CA_FILE) or None,
        )


class ServerHandle:
    """The server this instance signs in to, and the means to mint its users' tokens."""

    def __init__(
        self,
        url: str,
        secret: str,
        mode: ServerMode,
        running: RunningServer | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        ca_file: str | None = None,
    ) -> None:
        self.url = url
        #: The CA file clients verify this server's certificate with (None: the system's).
        self.ca_file = ca_file
        self._secret = secret
        self._mode = mode
        self._running = running
        self._host = host
        self._port = port
        self._take_over_lock = asyncio.Lock()
        self._mode_listeners: Listeners[[ServerMode]] = Listeners("server modes")

    @property
    def mode(self) -> ServerMode:
        """Hosting here, shared with another instance, or remote."""
        return self._mode

    def subscribe(self, listener: Callable[[ServerMode], None]) -> Unsubscribe:
        """Call ``listener`` when this instance starts hosting after a take-over."""
        return self._mode_listeners.subscribe(listener)

    def mint_token(self, user_id: str, name: str) -> str:
        """A fresh token for ``user_id`` on this server; ``ValueError`` for a bad id or name."""
        from signaling.auth import mint_token

        return mint_token(self._secret, user_id, name)

    async def take_over(self, *, attempts: int = 20, interval_s: float = 0.5) -> bool:
        """After the hosting instance quit: host the server here unless someone else does.

        Returns True when this instance now hosts it. Retries for a while because the
        port stays busy until the old host has closed its listening socket.
        """
        if self._mode is not ServerMode.SHARED:
            return False
        async with self._take_over_lock:
            for _ in range(attempts):
                if not self._is_shared():
                    return False
                if await probe_parley(self._host, self._port):
                    return False  # another instance won the race; our client reconnects to it
                with contextlib.suppress(OSError):
                    self._running = await _start(self._secret, self._host, self._port)
                    self._set_mode(ServerMode.HOSTING)
                    log.info("took over hosting the local server on port %d", self._port)
                    return True
                await asyncio.sleep(interval_s)
        return False

    def _is_shared(self) -> bool:
        # A method, so mypy does not keep the narrowing across awaits that may change it.
        return self._mode is ServerMode.SHARED

    def _set_mode(self, mode: ServerMode) -> None:
        self._mode = mode
        self._mode_listeners.emit(mode)

    async def stop(self) -> None:
        """Stop the server if this instance hosts it (other instances lose it). Idempotent."""
        running, self._running = self._running, None
        if running is not None:
            await running.stop()


async def _start(secret: str, host: str, port: int) -> RunningServer:
    from signaling.server.app import start_server
    from signaling.server.hub import ServerConfig

    return await start_server(ServerConfig(secret=secret), host, port)


async def open_server(settings: ServerSettings) -> ServerHandle:
    """Reuse a local Parley server, else start one here; or use the remote one configured."""
    from signaling.auth import check_secret

    if settings.remote_url:
        if not settings.remote_secret:
            raise ServerError(
                f"to use {settings.remote_url}, set {ENV_SECRET} to that server's secret"
            )
        try:
            check_secret(settings.remote_secret)
        except ValueError as exc:
            raise ServerError(f"{ENV_SECRET}: {exc}") from None
        if settings.ca_file:
            from signaling.tls import TlsError, client_context

            try:
                client_context(settings.ca_file)  # a bad file is told now, not at sign-in
            except TlsError as exc:
                raise ServerError(str(exc)) from None
        return ServerHandle(
            settings.remote_url.rstrip("/"),
            settings.remote_secret,
            ServerMode.REMOTE,
            ca_file=settings.ca_file,
        )
    path = settings.secret_path or config_dir() / SECRET_FILE_NAME
    secret = load_or_create_secret(path)
    host, port = settings.host, settings.port
    url = f"http://{_url_host(host)}:{port}"
    if await probe_parley(host, port):
        return ServerHandle(url, secret, ServerMode.SHARED, host=host, port=port)
    try:
        running = await _start(secret, host, port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise ServerError(f"cannot start the local server on {host}:{port}: {exc}") from None
        # Another instance may have bound it between our probe and our bind.
        if await probe_parley(host, port):
            return ServerHandle(url, secret, ServerMode.SHARED, host=host, port=port)
        raise ServerError(
            f"port {port} on {host} is taken by another program that is not a Parley server; "
            f"stop it, or choose another port with {ENV_PORT}"
        ) from None
    return ServerHandle(
        running.url, secret, ServerMode.HOSTING, running, host=host, port=running.port
    )
