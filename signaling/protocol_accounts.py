"""The sign-in API's bodies (``/v1/*`` over HTTPS, ``docs/protocol.md`` § Accounts):
validated by the server before it touches the database, and by the client on the way
back, like every socket payload."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from signaling.wire import Id, Name, UserInfo, WireModel

#: Longer passwords are refused (``bad_request``): hashing a megabyte is a cheap attack.
MAX_PASSWORD_LENGTH = 1024
MIN_PASSWORD_LENGTH = 8
#: A refresh token or invite code: 43 url-safe characters; anything much longer is not one.
MAX_OPAQUE_TOKEN_LENGTH = 128
#: The largest body a ``/v1`` endpoint reads; a larger one is ``payload_too_large`` (413).
MAX_BODY_BYTES = 8 * 1024

Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
NewPassword = Annotated[
    str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
]
OpaqueToken = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=MAX_OPAQUE_TOKEN_LENGTH, pattern=r"^[A-Za-z0-9_.~-]+$"
    ),
]


class Registration(StrEnum):
    """Who may create an account on a server."""

    OPEN = "open"  # anyone who can reach it
    INVITE = "invite"  # whoever holds an invite code from an admin
    CLOSED = "closed"  # only the admin (``parley-server user add``)


class LoginRequest(WireModel):
    """``POST /v1/login``."""

    user_id: Id
    password: Password


class SignUpRequest(WireModel):
    """``POST /v1/signup``: ``invite_code`` is needed unless registration is open."""

    user_id: Id
    name: Name
    password: NewPassword
    invite_code: OpaqueToken | None = None


class RefreshRequest(WireModel):
    """``POST /v1/refresh``: spends ``refresh_token``, answers a new pair."""

    refresh_token: OpaqueToken


class LogoutRequest(WireModel):
    """``POST /v1/logout``: ends the sign-in ``refresh_token`` belongs to; ``everywhere``
    ends every sign-in of its user (every device, access tokens included)."""

    refresh_token: OpaqueToken
    everywhere: bool = False


class TokenPair(WireModel):
    """What signing in, signing up and refreshing answer."""

    access_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    refresh_token: OpaqueToken
    #: Seconds the access token is valid from now.
    expires_in: Annotated[int, Field(gt=0)]
    user: UserInfo


class ServerInfo(WireModel):
    """``GET /v1/server``: what a sign-in page needs to know before asking anything."""

    protocol: int
    accounts: bool
    registration: Registration = Field(strict=False)


__all__ = [
    "MAX_BODY_BYTES",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "LoginRequest",
    "LogoutRequest",
    "RefreshRequest",
    "Registration",
    "ServerInfo",
    "SignUpRequest",
    "TokenPair",
]
