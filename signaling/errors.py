"""Error codes of the wire protocol (documented in docs/errors.md) and the client's exception."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every code a ``{"ok": false, "error": {"code": ...}}`` answer can carry."""

    BAD_REQUEST = "bad_request"
    UNKNOWN_EVENT = "unknown_event"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    UNAUTHORIZED = "unauthorized"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REVOKED = "token_revoked"
    NOT_IN_ROOM = "not_in_room"
    FORBIDDEN = "forbidden"
    ROOM_NOT_FOUND = "room_not_found"
    USER_NOT_FOUND = "user_not_found"
    INVITATION_NOT_FOUND = "invitation_not_found"
    ALREADY_ANSWERED = "already_answered"
    CONFLICT = "conflict"
    LIMIT_EXCEEDED = "limit_exceeded"
    INTERNAL = "internal"
    # The sign-in API (/v1/login, /v1/signup, /v1/refresh).
    INVALID_CREDENTIALS = "invalid_credentials"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    USER_EXISTS = "user_exists"
    INVITE_INVALID = "invite_invalid"
    REGISTRATION_CLOSED = "registration_closed"
    # Client-side only: the request never got an answer.
    TIMEOUT = "timeout"
    NOT_CONNECTED = "not_connected"
    PROTOCOL = "protocol"


#: Codes of a refused sign-in that the same token will get again: do not retry with it.
REFUSED_TOKEN = frozenset(
    {ErrorCode.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED, ErrorCode.TOKEN_REVOKED}
)


class SignalingError(Exception):
    """A request failed; ``code`` is an :class:`ErrorCode` value, ``message`` is for people."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message

    def to_wire(self) -> dict[str, Any]:
        """The ``{"ok": false, ...}`` answer for this error."""
        return {"ok": False, "error": {"code": self.code.value, "message": self.message}}
