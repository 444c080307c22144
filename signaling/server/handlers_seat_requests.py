"""Requests to speak and host invitations to a seat, with their server-owned timeouts.

An audience member applies (``seat.apply``); the host and co-host hear about it
(``seat.application``); the application ends exactly once — accepted (the applicant is
seated in the same step), rejected, cancelled, timed out, voided by a room-wide lock
change, or because the applicant left or got a seat another way — and both sides get
``seat.application_ended``. Invitations run the other way (``seat.invite`` →
``seat.invited`` → accept or decline → ``seat.invitation_ended`` to both). Each end is one
store step, so an answer racing a timeout has exactly one winner.
"""

from __future__ import annotations

import uuid
from typing import Any

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol_audio import (
    SeatApplicationEvent,
    SeatInvitedEvent,
    SeatRoomRequest,
    SeatUserRequest,
)
from signaling.seat_ops import (
    AnswerApplication,
    AnswerInvitation,
    Apply,
    CancelApplication,
    Expire,
    Invite,
)
from signaling.server.handlers_seats import SeatService
from signaling.server.hub import Caller, Hub


def register(hub: Hub, service: SeatService) -> None:
    """Install the application and invitation handlers on ``hub``."""

    @hub.handle("seat.apply")
    async def apply_to_speak(hub: Hub, caller: Caller, req: SeatRoomRequest) -> dict[str, Any]:
        token = uuid.uuid4().hex
        await service.run(req.room_id, Apply(caller.user_id, caller.name, token), caller.user_id)
        timeout_s = hub.config.seat_application_timeout_s
        await service.start_timer(req.room_id, "application", caller.user_id, token, timeout_s)
        event = SeatApplicationEvent(room_id=req.room_id, user=caller.info, timeout_s=timeout_s)
        await hub.emit_users(await service.hosts(req.room_id), "seat.application", event)
        return {"timeout_s": timeout_s}

    @hub.handle("seat.apply_cancel")
    async def cancel(hub: Hub, caller: Caller, req: SeatRoomRequest) -> dict[str, Any]:
        await service.run(req.room_id, CancelApplication(caller.user_id), caller.user_id)
        return {}

    @hub.handle("seat.application_accept")
    async def accept(hub: Hub, caller: Caller, req: SeatUserRequest) -> dict[str, Any]:
        op = AnswerApplication(caller.user_id, req.user_id, accept=True)
        outcome = await service.run(req.room_id, op, caller.user_id)
        return {"index": outcome.index}

    @hub.handle("seat.application_reject")
    async def reject(hub: Hub, caller: Caller, req: SeatUserRequest) -> dict[str, Any]:
        op = AnswerApplication(caller.user_id, req.user_id, accept=False)
        await service.run(req.room_id, op, caller.user_id)
        return {}

    @hub.handle("seat.invite")
    async def invite(hub: Hub, caller: Caller, req: SeatUserRequest) -> dict[str, Any]:
        token = uuid.uuid4().hex
        op = Invite(caller.user_id, caller.name, req.user_id, token)
        await service.run(req.room_id, op, caller.user_id)
        timeout_s = hub.config.seat_invitation_timeout_s
        event = SeatInvitedEvent(room_id=req.room_id, inviter=caller.info, timeout_s=timeout_s)
        if not await hub.emit_user(req.user_id, "seat.invited", event):
            # Undelivered: withdraw it quietly; the error answer is the host's news.
            await hub.store.apply_seats(req.room_id, Expire("invitation", req.user_id, token), None)
            raise SignalingError(ErrorCode.USER_NOT_FOUND, f"{req.user_id!r} is offline")
        await service.start_timer(req.room_id, "invitation", req.user_id, token, timeout_s)
        return {"timeout_s": timeout_s}

    @hub.handle("seat.invite_accept")
    async def invite_accept(hub: Hub, caller: Caller, req: SeatRoomRequest) -> dict[str, Any]:
        op = AnswerInvitation(caller.user_id, accept=True)
        outcome = await service.run(req.room_id, op, caller.user_id)
        return {"index": outcome.index}

    @hub.handle("seat.invite_decline")
    async def invite_decline(hub: Hub, caller: Caller, req: SeatRoomRequest) -> dict[str, Any]:
        await service.run(
            req.room_id, AnswerInvitation(caller.user_id, accept=False), caller.user_id
        )
        return {}
