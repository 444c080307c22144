"""Presence and room membership: join, leave, remove, end-for-all, session clean-up."""

from __future__ import annotations

from typing import Any

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    EmptyRequest,
    JoinRoomRequest,
    KickedEvent,
    MemberInfo,
    MessageInfo,
    PropertiesChangedEvent,
    RemoveUserRequest,
    RoomEndedEvent,
    RoomRequest,
    RoomSnapshot,
    SeatMapInfo,
    UserEnteredEvent,
    UserInfo,
    UserLeftEvent,
    dump,
)
from signaling.protocol_audio import SeatChangedEvent
from signaling.seat_ops import Join
from signaling.server.hub import PRESENCE_ROOM, Caller, Hub, now_ms, room_channel
from signaling.server.timers import TimerArgs
from signaling.store import Member, Message, Room


def member_info(member: Member) -> MemberInfo:
    return MemberInfo(
        user_id=member.user_id,
        name=member.name,
        microphone=member.microphone,
        camera=member.camera,
        joined_at_ms=member.joined_at_ms,
        attributes=dict(member.attributes),
    )


def message_info(message: Message) -> MessageInfo:
    return MessageInfo(
        message_id=message.message_id,
        room_id=message.room_id,
        sender=UserInfo(user_id=message.sender_id, name=message.sender_name),
        text=message.text,
        timestamp_ms=message.timestamp_ms,
    )


def snapshot(room: Room, *, sfu: bool = False) -> RoomSnapshot:
    return RoomSnapshot(
        room_id=room.room_id,
        kind="audio_room" if room.kind == "audio_room" else "call",
        start_time_ms=room.start_time_ms,
        members=[member_info(m) for m in room.members.values()],
        properties={key: prop.value for key, prop in room.properties.items()},
        messages=[message_info(m) for m in room.messages],
        seat_map=room.audio.view() if room.audio else None,
        applications=[
            UserInfo(user_id=a.user_id, name=a.name) for a in room.audio.applications.values()
        ]
        if room.audio
        else [],
        media="sfu" if sfu and room.audio is not None else "mesh",
    )


async def emit_seat_map(hub: Hub, room_id: str, seat_map: SeatMapInfo) -> None:
    """Broadcast a seat map to every member (the one who changed it included)."""
    event = SeatChangedEvent(room_id=room_id, **seat_map.model_dump())
    for hook in hub.on_seats_changed:  # the SFU stops whoever stood up, before telling
        await hook(room_id, seat_map)
    await hub.emit_room(room_id, "seat.changed", event)


def require_host_powers(room: Room, user_id: str) -> None:
    """In an audio room, only the host (or the co-host without a host) may act on others."""
    if room.audio is not None and not room.audio.has_host_powers(user_id):
        raise SignalingError(
            ErrorCode.FORBIDDEN, "in an audio room only the host (or co-host without a host) may"
        )


async def require_member(hub: Hub, room_id: str, user_id: str) -> Room:
    """The room, if ``user_id`` is in it; otherwise ``not_in_room``."""
    room = await hub.store.room(room_id)
    if room is None or user_id not in room.members:
        raise SignalingError(ErrorCode.NOT_IN_ROOM, f"you are not in room {room_id!r}")
    return room


async def depart(
    hub: Hub,
    room_id: str,
    user_id: str,
    reason: str,
    *,
    epoch: int | None = None,
    sid: str | None = None,
    bar: bool = False,
) -> bool:
    """Take ``user_id`` out of a room and tell the others; False if they were not in it.

    ``sid`` names the connection to unsubscribe when it is not the user's current one
    (a session being replaced by a newer login); ``bar`` keeps them out (a kick).
    """
    member, dropped = await hub.store.leave_room(room_id, user_id, epoch, bar=bar)
    if member is None:
        return False
    if sid is None:
        session = await hub.store.session_of(user_id)
        sid = session.sid if session else None
    if sid is not None:
        await hub.sio.leave_room(sid, room_channel(room_id))
    user = UserInfo(user_id=member.user_id, name=member.name)
    left = UserLeftEvent(room_id=room_id, user=user, reason=reason)  # type: ignore[arg-type]
    await hub.emit_room(room_id, "room.user_left", left)
    if dropped:
        change = PropertiesChangedEvent(room_id=room_id, updated={}, deleted=dropped, by=user_id)
        await hub.emit_room(room_id, "room.properties_changed", change)
    for hook in hub.on_room_left:
        await hook(room_id, user_id)
    await _end_call_if_initiator_left(hub, room_id, user_id)
    await hub.presence_changed([user_id])
    return True


async def _end_call_if_initiator_left(hub: Hub, room_id: str, user_id: str) -> None:
    room = await hub.store.room(room_id)
    if room is None or room.call is None:
        return
    if not (room.call.end_call_when_initiator_leaves and room.call.initiator == user_id):
        return
    await hub.emit_room(
        room_id, "room.ended", RoomEndedEvent(room_id=room_id, reason="initiator_left")
    )
    dropped = await hub.store.drop_room(room_id)
    members = list(dropped.members) if dropped else []
    for member_id in members:
        session = await hub.store.session_of(member_id)
        if session is not None:
            await hub.sio.leave_room(session.sid, room_channel(room_id))
    await hub.presence_changed(members)


async def _depart_unless_back(hub: Hub, args: TimerArgs) -> None:
    """A dropped connection: the member keeps their place (in the call, on their seat)
    for ``rejoin_grace_s``, then leaves, unless they re-joined meanwhile (a new stay, with
    a new epoch, which this departure leaves alone). A Wi-Fi blip must not end a call."""
    await depart(
        hub,
        args["room_id"],
        args["user_id"],
        "disconnected",
        epoch=args["epoch"],
        sid=args["sid"],
    )


def register(hub: Hub) -> None:
    """Install the presence and room handlers on ``hub``."""

    @hub.handle("presence.list")
    async def list_presence(hub: Hub, caller: Caller, req: EmptyRequest) -> dict[str, Any]:
        return {"users": await hub.presence_list()}

    @hub.handle("presence.subscribe")
    async def subscribe(hub: Hub, caller: Caller, req: EmptyRequest) -> dict[str, Any]:
        await hub.sio.enter_room(caller.sid, PRESENCE_ROOM)
        return {"users": await hub.presence_list()}

    @hub.handle("presence.unsubscribe")
    async def unsubscribe(hub: Hub, caller: Caller, req: EmptyRequest) -> dict[str, Any]:
        await hub.sio.leave_room(caller.sid, PRESENCE_ROOM)
        return {}

    @hub.handle("room.join")
    async def join(hub: Hub, caller: Caller, req: JoinRoomRequest) -> dict[str, Any]:
        existing = await hub.store.room(req.room_id)
        if existing is not None and existing.kind != req.kind:
            raise SignalingError(
                ErrorCode.CONFLICT, f"room {req.room_id!r} is a {existing.kind}, not a {req.kind}"
            )
        rejoin = existing is not None and caller.user_id in existing.members
        if not rejoin:
            if existing is not None and len(existing.members) >= hub.config.max_room_members:
                raise SignalingError(ErrorCode.LIMIT_EXCEEDED, "the room is full")
            if len(await hub.store.rooms_of(caller.user_id)) >= hub.config.max_rooms_per_user:
                raise SignalingError(ErrorCode.LIMIT_EXCEEDED, "you are in too many rooms")
        member = Member(
            user_id=caller.user_id,
            name=caller.name,
            microphone=req.microphone,
            camera=req.camera,
            joined_at_ms=now_ms(),
            epoch=0,
        )
        audio = Join(caller.user_id, req.role, req.seats) if req.kind == "audio_room" else None
        room = await hub.store.join_room(req.room_id, req.kind, member, now_ms(), audio)
        # Taken now: the room is shared state, and the emits below let other requests run.
        answer = snapshot(room, sfu=hub.sfu)
        await hub.sio.enter_room(caller.sid, room_channel(req.room_id))
        entered = UserEnteredEvent(
            room_id=req.room_id, member=member_info(room.members[caller.user_id])
        )
        await hub.emit_room(req.room_id, "room.user_entered", entered, skip_sid=caller.sid)
        if answer.seat_map is not None and (req.role == "host" or req.seats is not None):
            # The joiner may have become host or laid the seats out; an unchanged map is
            # sent again with the same version, which clients ignore.
            await emit_seat_map(hub, req.room_id, answer.seat_map)
        await hub.presence_changed([caller.user_id])
        return {"room": dump(answer)}

    @hub.handle("room.leave")
    async def leave(hub: Hub, caller: Caller, req: RoomRequest) -> dict[str, Any]:
        if not await depart(hub, req.room_id, caller.user_id, "left"):
            raise SignalingError(ErrorCode.NOT_IN_ROOM, f"you are not in room {req.room_id!r}")
        return {}

    @hub.handle("room.remove_user")
    async def remove_user(hub: Hub, caller: Caller, req: RemoveUserRequest) -> dict[str, Any]:
        room = await require_member(hub, req.room_id, caller.user_id)
        require_host_powers(room, caller.user_id)
        target = room.members.get(req.user_id)
        if target is None:
            raise SignalingError(ErrorCode.USER_NOT_FOUND, f"{req.user_id!r} is not in the room")
        if req.user_id == caller.user_id:
            raise SignalingError(ErrorCode.BAD_REQUEST, "use room.leave to leave a room yourself")
        session = await hub.store.session_of(req.user_id)
        # The epoch makes this the kick of that stay: a rejoin in between is left alone.
        if not await depart(hub, req.room_id, req.user_id, "removed", epoch=target.epoch, bar=True):
            raise SignalingError(ErrorCode.CONFLICT, f"{req.user_id!r} left or rejoined meanwhile")
        if session is not None:
            kicked = KickedEvent(room_id=req.room_id, kicker_id=caller.user_id)
            await hub.sio.emit("room.kicked", dump(kicked), to=session.sid)
        return {}

    async def on_session_end(caller: Caller, replaced: bool) -> None:
        for room_id in await hub.store.rooms_of(caller.user_id):
            room = await hub.store.room(room_id)
            member = room.members.get(caller.user_id) if room else None
            if replaced or member is None or hub.config.rejoin_grace_s <= 0:
                # Signed in elsewhere: that login does not know these rooms, gone now.
                await depart(hub, room_id, caller.user_id, "disconnected", sid=caller.sid)
            else:
                args = {
                    "room_id": room_id,
                    "user_id": member.user_id,
                    "epoch": member.epoch,
                    "sid": caller.sid,
                }
                # Keyed by the stay: each dropped stay gets its own grace.
                key = f"{room_id}\n{member.user_id}\n{member.epoch}"
                await hub.timers.start("rejoin_grace", key, hub.config.rejoin_grace_s, args)

    hub.on_session_end.append(on_session_end)
    hub.timers.on("rejoin_grace", lambda args: _depart_unless_back(hub, args))


__all__ = [
    "depart",
    "emit_seat_map",
    "member_info",
    "message_info",
    "register",
    "require_host_powers",
    "require_member",
    "snapshot",
]
