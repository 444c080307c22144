"""Events the client makes itself (not pushed by the server): room and connection states."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from signaling.enums import RoomStateChangedReason


class ConnectionState(StrEnum):
    """The client's link to the server."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    KICKED = "kicked"
    CLOSED = "closed"


@dataclass(frozen=True)
class RoomStateChanged:
    """A joined room's state, as the kit's ``ZegoUIKitRoomState``."""

    room_id: str
    reason: RoomStateChangedReason
    error_code: int = 0
    extended_data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ConnectionStateChanged:
    state: ConnectionState
    detail: str = ""


@dataclass(frozen=True)
class ProtocolViolation:
    """The server pushed something that is not valid protocol; it was dropped."""

    event: str
    detail: str


# Numeric error codes for RoomStateChanged.error_code (the kit carries an int there).
ERROR_CODE_NUMBERS: Mapping[str, int] = MappingProxyType(
    {
        "bad_request": 1001,
        "unknown_event": 1002,
        "payload_too_large": 1003,
        "rate_limited": 1004,
        "unauthorized": 1101,
        "token_expired": 1102,
        "token_revoked": 1103,
        "not_in_room": 1201,
        "forbidden": 1202,
        "room_not_found": 1203,
        "user_not_found": 1204,
        "invitation_not_found": 1301,
        "already_answered": 1302,
        "conflict": 1401,
        "limit_exceeded": 1402,
        "internal": 1500,
        "invalid_credentials": 1801,
        "too_many_attempts": 1802,
        "user_exists": 1803,
        "invite_invalid": 1804,
        "registration_closed": 1805,
        "timeout": 1601,
        "not_connected": 1602,
        "protocol": 1603,
        "kicked": 1701,
        "logged_in_elsewhere": 1702,
    }
)
