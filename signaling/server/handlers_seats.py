"""Audio-room seats: take, leave, switch, lock, remove, mute, co-host, user attributes.

Every seat change is one :meth:`Store.apply_seats` call (one compare-and-set step); this
module turns its :class:`~signaling.seats.Outcome` into pushes: ``seat.changed`` to every
member when the map changed, and the ``*_ended`` events of requests to speak and seat
invitations that the change ended. Those requests, and the timers that end them, live in
:mod:`signaling.server.handlers_seat_requests`, on the same :class:`SeatService`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    DeviceControlEvent,
    DeviceStateChangedEvent,
    UserInfo,
    dump,
)
from signaling.protocol_audio import (
    CohostRequest,
    SeatApplicationEndedEvent,
    SeatInvitationEndedEvent,
    SeatLockRequest,
    SeatRemovedEvent,
    SeatRoomRequest,
    SeatSwitchRequest,
    SeatTakeRequest,
    SeatUserRequest,
    UserAttributesChangedEvent,
    UserAttributesRequest,
)
from signaling.seat_ops import (
    Expire,
    LeaveSeat,
    Lock,
    MemberGone,
    Operation,
    RemoveFromSeat,
    SetCohost,
    Switch,
    Take,
)
from signaling.seats import Ended, Outcome, PendingKind
from signaling.server.handlers_rooms import emit_seat_map, require_host_powers, require_member
from signaling.server.hub import Caller, Hub
from signaling.server.timers import TimerArgs


class SeatService:
    """Runs seat operations, publishes their outcome and owns the pending-request timers."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # Keyed by the pending request's token: a request ends exactly once, by any route.
        hub.timers.on("seat_request", self._expire)

    async def run(self, room_id: str, op: Operation, actor: str | None) -> Outcome:
        """Apply ``op`` in one store step, then tell everyone concerned."""
        outcome = await self.hub.store.apply_seats(room_id, op, actor)
        await self.publish(room_id, outcome)
        return outcome

    async def publish(self, room_id: str, outcome: Outcome) -> None:
        if outcome.seat_map is not None:
            await emit_seat_map(self.hub, room_id, outcome.seat_map)
        for ended in outcome.ended:
            await self.hub.timers.cancel("seat_request", ended.pending.token)
            await self._announce_end(room_id, ended)

    async def hosts(self, room_id: str) -> list[str]:
        """Who hears about requests to speak: the host and the co-host, whoever is present."""
        room = await self.hub.store.room(room_id)
        if room is None or room.audio is None:
            return []
        return [u for u in (room.audio.host_id, room.audio.cohost_id) if u is not None]

    async def _announce_end(self, room_id: str, ended: Ended) -> None:
        pending = ended.pending
        user = UserInfo(user_id=pending.user_id, name=pending.name)
        if ended.kind == "application":
            application = SeatApplicationEndedEvent(
                room_id=room_id,
                user=user,
                # The operations give applications application reasons only.
                reason=ended.reason,  # type: ignore[arg-type]
                by=ended.by,
                index=ended.index,
            )
            recipients = [pending.user_id, *await self.hosts(room_id)]
            await self.hub.emit_users(
                dict.fromkeys(recipients), "seat.application_ended", application
            )
            return
        inviter = pending.inviter_id or pending.user_id
        invitation = SeatInvitationEndedEvent(
            room_id=room_id,
            user=user,
            inviter=inviter,
            reason=ended.reason,  # type: ignore[arg-type]
            index=ended.index,
        )
        recipients = [pending.user_id, inviter]
        await self.hub.emit_users(dict.fromkeys(recipients), "seat.invitation_ended", invitation)

    # --- timers -------------------------------------------------------------------

    async def start_timer(
        self, room_id: str, kind: PendingKind, user_id: str, token: str, delay_s: float
    ) -> None:
        """End the pending request ``token`` after ``delay_s`` unless it ends sooner."""
        args = {"room_id": room_id, "kind": kind, "user_id": user_id, "token": token}
        await self.hub.timers.start("seat_request", token, delay_s, args)

    async def _expire(self, args: TimerArgs) -> None:
        op = Expire(args["kind"], args["user_id"], args["token"])
        # A refusal means the room has ended meanwhile: nobody is left to tell.
        with contextlib.suppress(SignalingError):
            await self.run(args["room_id"], op, None)

    # --- room life ----------------------------------------------------------------

    async def on_room_left(self, room_id: str, user_id: str) -> None:
        """A member who leaves frees their seat and roles and ends their pending requests."""
        room = await self.hub.store.room(room_id)
        if room is None or room.audio is None:
            return  # a call, or the last member left and the room is gone
        # A refusal means the room ended between the two steps.
        with contextlib.suppress(SignalingError):
            await self.run(room_id, MemberGone(user_id), None)


async def _audio_room_target(hub: Hub, caller: Caller, room_id: str, user_id: str) -> str:
    """Checks for acting on a seated speaker; returns the target's session id."""
    room = await require_member(hub, room_id, caller.user_id)
    if room.audio is None:
        raise SignalingError(ErrorCode.BAD_REQUEST, f"{room_id!r} is not an audio room")
    require_host_powers(room, caller.user_id)
    if user_id == caller.user_id:
        raise SignalingError(ErrorCode.BAD_REQUEST, "use device.state for your own microphone")
    if user_id not in room.members:
        raise SignalingError(ErrorCode.USER_NOT_FOUND, f"{user_id!r} is not in the room")
    if room.audio.seat_of(user_id) is None:
        raise SignalingError(ErrorCode.CONFLICT, f"{user_id!r} is not on a seat")
    session = await hub.store.session_of(user_id)
    if session is None:
        raise SignalingError(ErrorCode.USER_NOT_FOUND, f"{user_id!r} is offline")
    return session.sid


def register(hub: Hub) -> SeatService:
    """Install the seat handlers on ``hub``; returns the service the request handlers share."""
    service = SeatService(hub)
    hub.on_room_left.append(service.on_room_left)

    @hub.handle("seat.take")
    async def take(hub: Hub, caller: Caller, req: SeatTakeRequest) -> dict[str, Any]:
        outcome = await service.run(req.room_id, Take(caller.user_id, req.index), caller.user_id)
        return {"index": outcome.index}

    @hub.handle("seat.leave")
    async def leave(hub: Hub, caller: Caller, req: SeatRoomRequest) -> dict[str, Any]:
        await service.run(req.room_id, LeaveSeat(caller.user_id), caller.user_id)
        return {}

    @hub.handle("seat.switch")
    async def switch(hub: Hub, caller: Caller, req: SeatSwitchRequest) -> dict[str, Any]:
        outcome = await service.run(req.room_id, Switch(caller.user_id, req.to), caller.user_id)
        return {"index": outcome.index}

    @hub.handle("seat.lock")
    async def lock(hub: Hub, caller: Caller, req: SeatLockRequest) -> dict[str, Any]:
        op = Lock(caller.user_id, req.index, req.locked)
        await service.run(req.room_id, op, caller.user_id)
        return {}

    @hub.handle("seat.remove")
    async def remove(hub: Hub, caller: Caller, req: SeatUserRequest) -> dict[str, Any]:
        op = RemoveFromSeat(caller.user_id, req.user_id)
        outcome = await service.run(req.room_id, op, caller.user_id)
        if outcome.index is not None:
            removed = SeatRemovedEvent(room_id=req.room_id, index=outcome.index, by=caller.user_id)
            await hub.emit_user(req.user_id, "seat.removed", removed)
        return {}

    @hub.handle("seat.mute")
    async def mute(hub: Hub, caller: Caller, req: SeatUserRequest) -> dict[str, Any]:
        sid = await _audio_room_target(hub, caller, req.room_id, req.user_id)
        # Forced: the server records the microphone as off for everyone at once; the
        # target's client is told to stop sending (it cannot refuse).
        member = await hub.store.update_devices(req.room_id, req.user_id, False, None)
        if member is None:
            raise SignalingError(ErrorCode.USER_NOT_FOUND, f"{req.user_id!r} left the room")
        state = DeviceStateChangedEvent(
            room_id=req.room_id, user_id=req.user_id, microphone=False, camera=member.camera
        )
        await hub.emit_room(req.room_id, "device.state_changed", state)
        control = DeviceControlEvent(
            room_id=req.room_id, requester=caller.info, device="microphone", on=False
        )
        await hub.sio.emit("device.control", dump(control), to=sid)
        return {}

    @hub.handle("seat.ask_unmute")
    async def ask_unmute(hub: Hub, caller: Caller, req: SeatUserRequest) -> dict[str, Any]:
        sid = await _audio_room_target(hub, caller, req.room_id, req.user_id)
        # Only a request: the speaker's client asks its user, and refuses by default.
        control = DeviceControlEvent(
            room_id=req.room_id, requester=caller.info, device="microphone", on=True
        )
        await hub.sio.emit("device.control", dump(control), to=sid)
        return {}

    @hub.handle("cohost.set")
    async def set_cohost(hub: Hub, caller: Caller, req: CohostRequest) -> dict[str, Any]:
        await service.run(req.room_id, SetCohost(caller.user_id, req.user_id), caller.user_id)
        return {}

    @hub.handle("room.user_attributes.set")
    async def set_attributes(
        hub: Hub, caller: Caller, req: UserAttributesRequest
    ) -> dict[str, Any]:
        member = await hub.store.set_user_attributes(req.room_id, caller.user_id, req.attributes)
        attributes = dict(member.attributes)
        event = UserAttributesChangedEvent(
            room_id=req.room_id, user_id=caller.user_id, attributes=attributes
        )
        await hub.emit_room(req.room_id, "room.user_attributes_changed", event, skip_sid=caller.sid)
        return {"attributes": attributes}

    return service
