"""Enumerations shared by the wire protocol, the server and the client.

Names follow the call kit's seeds (``ZegoRoomStateChangedReason`` →
:class:`RoomStateChangedReason`), upper-cased as Python enum members.
"""

from __future__ import annotations

from enum import StrEnum


class RoomStateChangedReason(StrEnum):
    """Why a client's room (login) state changed; mirrors ``ZegoRoomStateChangedReason``."""

    LOGINING = "logining"
    LOGINED = "logined"
    LOGIN_FAILED = "login_failed"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    RECONNECT_FAILED = "reconnect_failed"
    KICK_OUT = "kick_out"
    LOGOUT = "logout"
    LOGOUT_FAILED = "logout_failed"


class CallType(StrEnum):
    """Kind of call an invitation asks for."""

    VOICE = "voice"
    VIDEO = "video"


class PresenceState(StrEnum):
    """What an online user is doing, as far as invitations are concerned."""

    IDLE = "idle"
    RINGING = "ringing"
    INVITING = "inviting"
    IN_CALL = "in_call"


class InvitationUserState(StrEnum):
    """Per-invitee state of a call invitation (the signaling plugin's user-state list).

    A busy refusal is ``REJECTED`` with ``extended_data`` ``{"reason": "busy"}``,
    as in the kit.
    """

    UNKNOWN = "unknown"
    INVITING = "inviting"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    OFFLINE = "offline"
    TIMEOUT = "timeout"
    QUIT = "quit"


class InvitationEndReason(StrEnum):
    """Why an invitation as a whole is over."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    CALLER_LEFT = "caller_left"
