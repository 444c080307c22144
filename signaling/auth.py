"""Identity tokens: HS256 JWTs with claims ``sub`` (user id), ``name``, ``exp``, ``iat``
and ``jti`` (the last two are what sign-out revokes by)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt
from pydantic import TypeAdapter, ValidationError

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import Id, Name

ALGORITHM = "HS256"
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_LENGTH = 32
DEFAULT_TTL_S = 24 * 3600
_id_adapter: TypeAdapter[str] = TypeAdapter(Id)
_name_adapter: TypeAdapter[str] = TypeAdapter(Name)


@dataclass(frozen=True)
class Identity:
    """Who a verified token says the client is."""

    user_id: str
    name: str
    #: The token's ``jti`` ("" when it has none: only "sign out everywhere" revokes it).
    token_id: str = ""
    #: The token's ``iat`` in Unix seconds (0 when it has none).
    issued_at: float = 0.0
    #: The token's ``exp`` in Unix seconds.
    expires_at: float = 0.0


def check_secret(secret: str) -> None:
    """Raise ``ValueError`` for a secret too short to sign HS256 tokens safely."""
    if len(secret.encode()) < MIN_SECRET_LENGTH:
        raise ValueError(f"the secret must be at least {MIN_SECRET_LENGTH} bytes long")


def mint_token(secret: str, user_id: str, name: str, ttl_s: int = DEFAULT_TTL_S) -> str:
    """A signed token for ``user_id``; raises ``ValueError`` for an invalid id, name or ttl."""
    check_secret(secret)
    if ttl_s <= 0:
        raise ValueError("ttl must be positive")
    try:
        _id_adapter.validate_python(user_id)
        name = _name_adapter.validate_python(name)  # normalised: what the server will use
    except ValidationError as exc:
        raise ValueError(f"invalid user id or name: {exc.errors()[0]['msg']}") from exc
    now = time.time()
    claims = {
        "sub": user_id,
        "name": name,
        # To the millisecond, so a token minted just after a "sign out everywhere" is
        # not revoked by it.
        "iat": round(now, 3),
        "exp": int(now) + ttl_s,
        "jti": secrets.token_hex(16),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: object) -> Identity:
    """The identity in ``token``, or :class:`SignalingError` saying clearly why not."""
    if not isinstance(token, str) or not token:
        raise SignalingError(ErrorCode.UNAUTHORIZED, "no token: send auth={'token': <jwt>}")
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise SignalingError(ErrorCode.TOKEN_EXPIRED, "token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise SignalingError(ErrorCode.UNAUTHORIZED, f"invalid token: {exc}") from exc
    # PyJWT compares a numeric string as a number; RFC 7519 NumericDate is a JSON number.
    for claim in ("exp", "iat", "nbf"):
        value = claims.get(claim, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SignalingError(ErrorCode.UNAUTHORIZED, f"invalid token: {claim} is not a number")
    token_id = claims.get("jti", "")
    if not isinstance(token_id, str) or len(token_id) > 128:
        raise SignalingError(ErrorCode.UNAUTHORIZED, "invalid token: jti is not a short string")
    user_id, name = claims.get("sub"), claims.get("name", claims.get("sub"))
    try:
        return Identity(
            _id_adapter.validate_python(user_id),
            _name_adapter.validate_python(name),
            token_id,
            float(claims.get("iat", 0)),
            float(claims["exp"]),
        )
    except ValidationError as exc:
        raise SignalingError(
            ErrorCode.UNAUTHORIZED, "token carries an invalid user id or name"
        ) from exc
