"""ICE servers for clients, with time-limited TURN credentials (the TURN REST scheme
coturn implements as ``use-auth-secret``): username ``"<expiry>:<user_id>"``, password
``base64(HMAC-SHA1(secret, username))``. The TURN secret is shared with the TURN server
only; a client gets credentials that name it and stop working at the expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from signaling.protocol import IceServerInfo


def turn_credentials(
    secret: str, user_id: str, ttl_s: int, now: float | None = None
) -> tuple[str, str]:
    """``(username, password)`` for ``user_id``, valid ``ttl_s`` seconds from ``now``."""
    expiry = int(time.time() if now is None else now) + ttl_s
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers_for(
    user_id: str,
    *,
    stun_uris: tuple[str, ...],
    turn_uris: tuple[str, ...],
    turn_secret: str,
    ttl_s: int,
) -> list[IceServerInfo]:
    """What a signed-in user is told to use: the STUN servers, and the TURN servers with
    credentials of their own (none when no TURN secret is configured)."""
    servers = [IceServerInfo(urls=list(stun_uris))] if stun_uris else []
    if turn_uris and turn_secret:
        username, password = turn_credentials(turn_secret, user_id, ttl_s)
        servers.append(IceServerInfo(urls=list(turn_uris), username=username, credential=password))
    return servers


__all__ = ["ice_servers_for", "turn_credentials"]
