"""The ``sfu.*`` requests of audio rooms served through Janus (``--sfu``/``--janus-url``)."""

from __future__ import annotations

from typing import Any

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol_sfu import SfuAnswerRequest, SfuPublishRequest, SfuRoomRequest
from signaling.server.handlers_rooms import require_member
from signaling.server.hub import Caller, Hub
from signaling.server.sfu import SfuBridge

__all__ = ["register"]


def register(hub: Hub, bridge: SfuBridge | None) -> None:
    """Install the ``sfu.*`` handlers; without a bridge they answer that there is no SFU."""

    def sfu() -> SfuBridge:
        if bridge is None:
            raise SignalingError(ErrorCode.BAD_REQUEST, "this server has no SFU: use rtc.signal")
        return bridge

    @hub.handle("sfu.publish")
    async def publish(hub: Hub, caller: Caller, req: SfuPublishRequest) -> dict[str, Any]:
        return {"sdp": await sfu().publish(req.room_id, caller.user_id, req.sdp)}

    @hub.handle("sfu.unpublish")
    async def unpublish(hub: Hub, caller: Caller, req: SfuRoomRequest) -> dict[str, Any]:
        await require_member(hub, req.room_id, caller.user_id)
        await sfu().unpublish(req.room_id, caller.user_id)
        return {}

    @hub.handle("sfu.subscribe")
    async def subscribe(hub: Hub, caller: Caller, req: SfuRoomRequest) -> dict[str, Any]:
        room = await require_member(hub, req.room_id, caller.user_id)
        if room.audio is None:
            raise SignalingError(ErrorCode.BAD_REQUEST, "only audio rooms go through the SFU")
        await sfu().subscribe(req.room_id, caller.user_id)
        return {}

    @hub.handle("sfu.answer")
    async def answer(hub: Hub, caller: Caller, req: SfuAnswerRequest) -> dict[str, Any]:
        sfu().answer(req.room_id, caller.user_id, req.offer_id, req.sdp)
        return {}

    if bridge is not None:
        hub.on_room_left.append(bridge.member_left)
        hub.on_seats_changed.append(bridge.seats_changed)
