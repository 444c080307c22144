"""Where a kit signs in, and the sign-in both kits share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.kit.types import KitError, KitException
from signaling.client import SignalingClient, TokenSource
from signaling.errors import SignalingError

if TYPE_CHECKING:
    from app.kit.local_server import ServerHandle
    from app.kit.remote_account import RemoteSession

__all__ = ["ServerInfo", "SignInTarget", "connect"]


@dataclass(frozen=True)
class ServerInfo:
    """Where to sign in: the server's URL, the user's token (or a function making one)
    and the CA file to verify its certificate with (None: the system's trust store)."""

    url: str
    token: TokenSource
    ca_file: str | None = None


async def connect(
    server: ServerInfo, report: Callable[[KitError], Awaitable[None]]
) -> SignalingClient:
    """A signed-in client for ``server``; a refusal is reported (the kit's ``on_error``)
    and raised as :class:`KitException`."""
    client = SignalingClient(server.url, server.token, ca_file=server.ca_file)
    try:
        await client.connect()
    except SignalingError as exc:
        error = KitError(exc.code.value, exc.message)
        await report(error)
        raise KitException(error) from exc
    return client


class SignInTarget:
    """Where the account signs in: the server opened at start (the local one, or a
    remote one whose secret the environment gives), or a server's account signed in
    with a password (:meth:`use_remote`)."""

    def __init__(self, server: ServerHandle) -> None:
        self.server = server
        self._remote: RemoteSession | None = None

    @property
    def remote(self) -> RemoteSession | None:
        """The account signed in to, when it is not the opened server."""
        return self._remote

    def use_remote(self, session: RemoteSession | None) -> None:
        """Sign in to ``session``'s server from now on (None: the opened server)."""
        self._remote = session

    def server_info(self, user_id: str, name: str) -> ServerInfo:
        """The URL, the token source and the CA for signing in as ``user_id``."""
        remote = self._remote
        if remote is not None:
            return ServerInfo(remote.url, remote.tokens.access_token, remote.ca_file)
        server = self.server
        return ServerInfo(server.url, lambda: server.mint_token(user_id, name), server.ca_file)

    def make_client(self, user_id: str, name: str) -> SignalingClient:
        """A client for ``user_id``; it asks for a fresh token whenever it (re)connects
        (and, for an account, renews it when the server refuses it)."""
        info = self.server_info(user_id, name)
        remote = self._remote
        renew = remote.tokens.renew if remote is not None else None
        return SignalingClient(info.url, info.token, ca_file=info.ca_file, renew_token=renew)

    async def server_lost(self) -> object:
        """The connection dropped: the local server may need a new host (not a remote
        account's server)."""
        if self._remote is not None:
            return False
        return await self.server.take_over()
