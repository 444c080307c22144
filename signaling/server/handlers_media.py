"""WebRTC relay and remote device state, only ever between members of one room."""

from __future__ import annotations

from typing import Any

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    DeviceControlEvent,
    DeviceControlRequest,
    DeviceExceptionEvent,
    DeviceExceptionRequest,
    DeviceStateChangedEvent,
    DeviceStateRequest,
    RtcSignalEvent,
    RtcSignalRequest,
    dump,
)
from signaling.server.handlers_rooms import require_host_powers, require_member
from signaling.server.hub import Caller, Hub
from signaling.store import Room


async def _target_sid(hub: Hub, room: Room, user_id: str) -> str:
    if user_id not in room.members:
        raise SignalingError(ErrorCode.USER_NOT_FOUND, f"{user_id!r} is not in this room")
    session = await hub.store.session_of(user_id)
    if session is None:
        raise SignalingError(ErrorCode.USER_NOT_FOUND, f"{user_id!r} is offline")
    return session.sid


def register(hub: Hub) -> None:
    """Install the relay and device handlers on ``hub``."""

    @hub.handle("rtc.signal")
    async def relay(hub: Hub, caller: Caller, req: RtcSignalRequest) -> dict[str, Any]:
        room = await require_member(hub, req.room_id, caller.user_id)
        if req.to == caller.user_id:
            raise SignalingError(ErrorCode.BAD_REQUEST, "cannot signal yourself")
        sid = await _target_sid(hub, room, req.to)
        event = RtcSignalEvent(
            room_id=req.room_id, sender=caller.user_id, kind=req.kind, payload=req.payload
        )
        await hub.sio.emit("rtc.signal", dump(event), to=sid)
        return {}

    @hub.handle("device.state")
    async def device_state(hub: Hub, caller: Caller, req: DeviceStateRequest) -> dict[str, Any]:
        await require_member(hub, req.room_id, caller.user_id)
        member = await hub.store.update_devices(
            req.room_id, caller.user_id, req.microphone, req.camera
        )
        if member is None:  # left between the check and the update
            raise SignalingError(ErrorCode.NOT_IN_ROOM, f"you are not in room {req.room_id!r}")
        event = DeviceStateChangedEvent(
            room_id=req.room_id,
            user_id=caller.user_id,
            microphone=member.microphone,
            camera=member.camera,
        )
        await hub.emit_room(req.room_id, "device.state_changed", event, skip_sid=caller.sid)
        return {"microphone": member.microphone, "camera": member.camera}

    @hub.handle("device.exception")
    async def device_exception(
        hub: Hub, caller: Caller, req: DeviceExceptionRequest
    ) -> dict[str, Any]:
        await require_member(hub, req.room_id, caller.user_id)
        event = DeviceExceptionEvent(
            room_id=req.room_id, user_id=caller.user_id, device=req.device, exception=req.exception
        )
        await hub.emit_room(req.room_id, "device.exception", event, skip_sid=caller.sid)
        return {}

    @hub.handle("device.control")
    async def device_control(hub: Hub, caller: Caller, req: DeviceControlRequest) -> dict[str, Any]:
        room = await require_member(hub, req.room_id, caller.user_id)
        if req.user_id == caller.user_id:
            raise SignalingError(ErrorCode.BAD_REQUEST, "use device.state for your own devices")
        require_host_powers(room, caller.user_id)
        sid = await _target_sid(hub, room, req.user_id)
        event = DeviceControlEvent(
            room_id=req.room_id, requester=caller.info, device=req.device, on=req.on
        )
        await hub.sio.emit("device.control", dump(event), to=sid)
        return {}
