"""Where a kit signs in, and the sign-in both kits share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.kit.types import KitError, KitException
from signaling.client import SignalingClient, TokenSource
from signaling.errors import SignalingError

__all__ = ["ServerInfo", "connect"]


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
