"""In-room messages (with bounded history), room properties and custom room commands."""

from __future__ import annotations

from typing import Any

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    DeletePropertiesRequest,
    MessageEvent,
    PropertiesChangedEvent,
    RoomCommandEvent,
    RoomCommandRequest,
    RoomRequest,
    SendMessageRequest,
    SetPropertyRequest,
    dump,
)
from signaling.server.handlers_rooms import message_info, require_member
from signaling.server.hub import Caller, Hub, now_ms


def register(hub: Hub) -> None:
    """Install the message, property and command handlers on ``hub``."""

    @hub.handle("message.send")
    async def send_message(hub: Hub, caller: Caller, req: SendMessageRequest) -> dict[str, Any]:
        await require_member(hub, req.room_id, caller.user_id)
        message = await hub.store.append_message(
            req.room_id, caller.user_id, caller.name, req.text, now_ms()
        )
        if message is None:
            raise SignalingError(ErrorCode.NOT_IN_ROOM, f"room {req.room_id!r} has ended")
        info = message_info(message)
        await hub.emit_room(
            req.room_id, "message.received", MessageEvent(message=info), skip_sid=caller.sid
        )
        return {"message": dump(info)}

    @hub.handle("room.properties.set")
    async def set_property(hub: Hub, caller: Caller, req: SetPropertyRequest) -> dict[str, Any]:
        await require_member(hub, req.room_id, caller.user_id)
        result = await hub.store.set_property(
            req.room_id,
            req.key,
            req.value,
            caller.user_id,
            req.expected,
            req.if_absent,
            req.delete_on_leave,
        )
        if not result.applied:
            if result.reason == "limit":
                raise SignalingError(ErrorCode.LIMIT_EXCEEDED, "too many properties in this room")
            if result.reason == "forbidden":
                raise SignalingError(
                    ErrorCode.FORBIDDEN,
                    f"{req.key!r} was set by someone else; in an audio room only the host"
                    " may change it",
                )
            if result.reason == "room":
                raise SignalingError(ErrorCode.NOT_IN_ROOM, f"room {req.room_id!r} has ended")
            raise SignalingError(
                ErrorCode.CONFLICT,
                f"{req.key!r} is {result.current!r}; not changed"
                if result.current is not None
                else f"{req.key!r} does not exist; not changed",
            )
        change = PropertiesChangedEvent(
            room_id=req.room_id, updated={req.key: req.value}, deleted=[], by=caller.user_id
        )
        await hub.emit_room(req.room_id, "room.properties_changed", change, skip_sid=caller.sid)
        return {}

    @hub.handle("room.properties.delete")
    async def delete_properties(
        hub: Hub, caller: Caller, req: DeletePropertiesRequest
    ) -> dict[str, Any]:
        await require_member(hub, req.room_id, caller.user_id)
        deleted = await hub.store.delete_properties(
            req.room_id, list(dict.fromkeys(req.keys)), caller.user_id
        )
        if deleted:
            change = PropertiesChangedEvent(
                room_id=req.room_id, updated={}, deleted=deleted, by=caller.user_id
            )
            await hub.emit_room(req.room_id, "room.properties_changed", change, skip_sid=caller.sid)
        return {"deleted": deleted}

    @hub.handle("room.properties.get")
    async def get_properties(hub: Hub, caller: Caller, req: RoomRequest) -> dict[str, Any]:
        room = await require_member(hub, req.room_id, caller.user_id)
        return {"properties": {key: prop.value for key, prop in room.properties.items()}}

    @hub.handle("room.command")
    async def command(hub: Hub, caller: Caller, req: RoomCommandRequest) -> dict[str, Any]:
        room = await require_member(hub, req.room_id, caller.user_id)
        event = RoomCommandEvent(room_id=req.room_id, sender=caller.user_id, command=req.command)
        if not req.to:
            await hub.emit_room(req.room_id, "room.command", event, skip_sid=caller.sid)
            return {}
        missing = [u for u in req.to if u not in room.members]
        if missing:
            raise SignalingError(ErrorCode.USER_NOT_FOUND, f"not in this room: {missing}")
        await hub.emit_users(dict.fromkeys(req.to), "room.command", event)
        return {}
