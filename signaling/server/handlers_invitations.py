"""Call invitations. The server owns their state and their timeout timers.

Every answer (accept, decline, cancel, timeout, an invitee or the caller going away) is a
compare-and-set on the invitee's state in the store, so exactly one of racing answers
wins and the losers get ``already_answered``. An invitation ends when no invitee is left
to answer; its end reason is ``accepted`` if anyone accepted.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from signaling.enums import InvitationEndReason, InvitationUserState
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    AnswerInvitationRequest,
    CancelInvitationRequest,
    DeclineInvitationRequest,
    InvitationAcceptedEvent,
    InvitationCancelledEvent,
    InvitationDeclinedEvent,
    InvitationEndedEvent,
    InvitationReceivedEvent,
    InvitationTimeoutEvent,
    InvitationUserStateEvent,
    InviteeState,
    SendInvitationRequest,
    UserInfo,
    dump,
)
from signaling.server.hub import Caller, Hub, now_ms
from signaling.server.timers import TimerArgs
from signaling.store import CallOptions, Invitation, Invitee

BUSY_DATA = '{"reason": "busy"}'


class InvitationService:
    """Invitation handlers plus the timers that time invitations out."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.timers.on("invitation_timeout", self._time_out)
        hub.timers.on("unjoined_call", self._forget_if_unjoined)

    # --- helpers --------------------------------------------------------------------

    @staticmethod
    def _caller_info(inv: Invitation) -> UserInfo:
        return UserInfo(user_id=inv.caller_id, name=inv.caller_name)

    @staticmethod
    def _user_info(invitee: Invitee) -> UserInfo:
        return UserInfo(user_id=invitee.user_id, name=invitee.name)

    async def _lookup(self, invitation_id: str) -> Invitation:
        inv = await self.hub.store.invitation(invitation_id)
        if inv is None:
            raise SignalingError(
                ErrorCode.INVITATION_NOT_FOUND, "no such invitation, or it has already ended"
            )
        return inv

    async def _answer(
        self, caller: Caller, invitation_id: str, state: InvitationUserState, data: str
    ) -> tuple[Invitation, Invitee]:
        inv = await self._lookup(invitation_id)
        if caller.user_id not in inv.invitees:
            raise SignalingError(ErrorCode.FORBIDDEN, "this invitation is not addressed to you")
        invitee = await self.hub.store.transition_invitee(
            invitation_id, caller.user_id, state, data
        )
        if invitee is None:
            current = inv.invitees[caller.user_id].state
            raise SignalingError(ErrorCode.ALREADY_ANSWERED, f"already {current.value}")
        # No longer ringing before anyone hears the answer.
        await self.hub.presence_changed([caller.user_id])
        return inv, invitee

    async def _current(self, inv: Invitation) -> Invitation:
        """``inv`` as the store has it now (answers since it was read), or as it was
        last read once it has ended and is gone. The store hands out copies: a shared
        store has no other way, and the memory store must not be relied on for more."""
        return await self.hub.store.invitation(inv.invitation_id) or inv

    async def _publish_states(self, inv: Invitation, changed: list[Invitee]) -> None:
        """Tell the caller and every invitee still involved how the changed invitees stand."""
        if not changed:
            return
        inv = await self._current(inv)
        changed_ids = {i.user_id for i in changed}
        event = InvitationUserStateEvent(
            invitation_id=inv.invitation_id,
            call_id=inv.call_id,
            users=[
                InviteeState(user_id=i.user_id, state=i.state, extended_data=i.extended_data)
                for i in changed
            ],
        )
        others = [
            i.user_id
            for i in inv.invitees.values()
            if i.state in (InvitationUserState.RECEIVED, InvitationUserState.ACCEPTED)
            and i.user_id not in changed_ids
        ]
        await self.hub.emit_users([inv.caller_id, *others], "invitation.user_state", event)

    async def _finish_if_done(self, inv: Invitation, hint: InvitationEndReason) -> None:
        inv = await self._current(inv)
        if inv.pending() or not inv.active:
            return
        if not await self.hub.store.finish_invitation(inv.invitation_id):
            return
        await self.hub.timers.cancel("invitation_timeout", inv.invitation_id)
        accepted = any(i.state is InvitationUserState.ACCEPTED for i in inv.invitees.values())
        reason = InvitationEndReason.ACCEPTED if accepted else hint
        if accepted:
            # Accepting is a promise to join, not a join: a call still empty a while later
            # (the app was killed between accept and join) is forgotten then.
            await self.hub.timers.start(
                "unjoined_call",
                inv.call_id,
                self.hub.config.unjoined_call_timeout_s,
                {"call_id": inv.call_id},
            )
        else:
            # The call record made for this invitation goes unless someone is in the call.
            await self.hub.store.drop_room_if_empty(inv.call_id)
        ended = InvitationEndedEvent(
            invitation_id=inv.invitation_id, call_id=inv.call_id, reason=reason
        )
        # Idle again before they hear it ended (a presence.list right after agrees).
        await self.hub.presence_changed([inv.caller_id, *inv.invitees])
        await self.hub.emit_users([inv.caller_id, *inv.invitees], "invitation.ended", ended)

    async def _forget_if_unjoined(self, args: TimerArgs) -> None:
        await self.hub.store.drop_room_if_empty(args["call_id"])

    # --- requests -------------------------------------------------------------------

    async def send(self, hub: Hub, caller: Caller, req: SendInvitationRequest) -> dict[str, Any]:
        invitee_ids = list(dict.fromkeys(req.invitees))
        if caller.user_id in invitee_ids:
            raise SignalingError(ErrorCode.BAD_REQUEST, "you cannot invite yourself")
        call_id = req.call_id or uuid.uuid4().hex
        room = await hub.store.room(call_id)
        if room is not None:
            if room.kind != "call":
                raise SignalingError(ErrorCode.CONFLICT, f"{call_id!r} is not a call")
            # A call nobody has joined yet (its caller is joining) is the initiator's
            # alone: an invitee must join before inviting anyone.
            initiator = room.call.initiator if room.call else None
            if caller.user_id not in room.members and caller.user_id != initiator:
                raise SignalingError(ErrorCode.NOT_IN_ROOM, "join the call before inviting to it")
            if (
                room.call
                and room.call.only_initiator_can_invite
                and room.call.initiator != caller.user_id
            ):
                raise SignalingError(
                    ErrorCode.FORBIDDEN, "only the initiator may invite to this call"
                )
            present = [u for u in invitee_ids if u in room.members]
            if present:
                raise SignalingError(ErrorCode.BAD_REQUEST, f"already in the call: {present}")
        options = CallOptions(
            initiator=caller.user_id,
            only_initiator_can_invite=req.only_initiator_can_invite,
            end_call_when_initiator_leaves=req.end_call_when_initiator_leaves,
        )
        await hub.store.ensure_call(call_id, options, now_ms())
        inv = Invitation(
            invitation_id=uuid.uuid4().hex,
            call_id=call_id,
            caller_id=caller.user_id,
            caller_name=caller.name,
            call_type=req.call_type,
            custom_data=req.custom_data,
            timeout_s=req.timeout_s,
            # Names are filled in from the sessions by the store, in the same step.
            invitees={u: Invitee(u, u, InvitationUserState.INVITING) for u in invitee_ids},
        )
        inv = await hub.store.create_invitation(inv)
        for invitee in inv.invitees.values():
            outcome = {
                InvitationUserState.OFFLINE: "offline",
                InvitationUserState.REJECTED: "busy",
            }.get(invitee.state)
            if outcome:
                hub.metrics.invitations[outcome] += 1
        await hub.timers.start(
            "invitation_timeout",
            inv.invitation_id,
            req.timeout_s,
            {"invitation_id": inv.invitation_id},
        )
        # Inviting and ringing before anyone hears of it (a presence.list agrees).
        await hub.presence_changed([inv.caller_id, *inv.invitees])
        # Pushes go out after the acknowledgement, so the caller knows the ids first.
        hub.spawn(self._deliver(inv))
        return {
            "invitation_id": inv.invitation_id,
            "call_id": call_id,
            "users": [
                dump(InviteeState(user_id=i.user_id, state=i.state, extended_data=i.extended_data))
                for i in inv.invitees.values()
            ],
        }

    async def _deliver(self, inv: Invitation) -> None:
        await asyncio.sleep(0)
        unreachable = []
        for invitee in inv.invitees.values():
            if invitee.state is InvitationUserState.RECEIVED:
                await self._deliver_one(inv, invitee.user_id)
            elif invitee.state is InvitationUserState.REJECTED:
                busy = InvitationDeclinedEvent(
                    invitation_id=inv.invitation_id,
                    call_id=inv.call_id,
                    callee=self._user_info(invitee),
                    custom_data="",
                    busy=True,
                )
                await self.hub.emit_user(inv.caller_id, "invitation.declined", busy)
                unreachable.append(invitee)
            else:
                unreachable.append(invitee)
        await self._publish_states(inv, unreachable)
        await self._finish_if_done(inv, InvitationEndReason.DECLINED)

    async def accept(
        self, hub: Hub, caller: Caller, req: AnswerInvitationRequest
    ) -> dict[str, Any]:
        inv, invitee = await self._answer(
            caller, req.invitation_id, InvitationUserState.ACCEPTED, req.custom_data
        )
        hub.metrics.invitations["accepted"] += 1
        accepted = InvitationAcceptedEvent(
            invitation_id=inv.invitation_id,
            call_id=inv.call_id,
            callee=self._user_info(invitee),
            custom_data=req.custom_data,
        )
        await hub.emit_user(inv.caller_id, "invitation.accepted", accepted)
        await self._publish_states(inv, [invitee])
        await self._finish_if_done(inv, InvitationEndReason.ACCEPTED)
        return {"call_id": inv.call_id, "call_type": inv.call_type.value}

    async def decline(
        self, hub: Hub, caller: Caller, req: DeclineInvitationRequest
    ) -> dict[str, Any]:
        data = BUSY_DATA if req.busy else req.custom_data
        inv, invitee = await self._answer(
            caller, req.invitation_id, InvitationUserState.REJECTED, data
        )
        hub.metrics.invitations["busy" if req.busy else "declined"] += 1
        declined = InvitationDeclinedEvent(
            invitation_id=inv.invitation_id,
            call_id=inv.call_id,
            callee=self._user_info(invitee),
            custom_data=req.custom_data,
            busy=req.busy,
        )
        await hub.emit_user(inv.caller_id, "invitation.declined", declined)
        await self._publish_states(inv, [invitee])
        await self._finish_if_done(inv, InvitationEndReason.DECLINED)
        return {}

    async def cancel(
        self, hub: Hub, caller: Caller, req: CancelInvitationRequest
    ) -> dict[str, Any]:
        inv = await self._lookup(req.invitation_id)
        if inv.caller_id != caller.user_id:
            raise SignalingError(ErrorCode.FORBIDDEN, "only the caller may cancel an invitation")
        unknown = [u for u in req.invitees if u not in inv.invitees]
        if unknown:
            raise SignalingError(ErrorCode.USER_NOT_FOUND, f"not invited: {unknown}")
        cancelled = await self._cancel(
            inv, req.invitees or list(inv.invitees), req.custom_data, False
        )
        if req.invitees and not cancelled:
            raise SignalingError(ErrorCode.ALREADY_ANSWERED, "those invitees already answered")
        return {"cancelled": [i.user_id for i in cancelled]}

    async def _cancel(
        self, inv: Invitation, targets: list[str], custom_data: str, caller_left: bool
    ) -> list[Invitee]:
        cancelled = []
        for user_id in targets:
            invitee = await self.hub.store.transition_invitee(
                inv.invitation_id, user_id, InvitationUserState.CANCELLED
            )
            if invitee is not None:
                cancelled.append(invitee)
        # Idle again before they hear of it (a presence.list right after agrees).
        await self.hub.presence_changed([i.user_id for i in cancelled])
        event = InvitationCancelledEvent(
            invitation_id=inv.invitation_id,
            call_id=inv.call_id,
            caller=self._caller_info(inv),
            custom_data=custom_data,
            caller_left=caller_left,
        )
        for invitee in cancelled:
            self.hub.metrics.invitations["caller_left" if caller_left else "cancelled"] += 1
            await self.hub.emit_user(invitee.user_id, "invitation.cancelled", event)
        await self._publish_states(inv, cancelled)
        reason = InvitationEndReason.CALLER_LEFT if caller_left else InvitationEndReason.CANCELLED
        await self._finish_if_done(inv, reason)
        return cancelled

    async def _time_out(self, args: TimerArgs) -> None:
        invitation_id: str = args["invitation_id"]
        inv = await self.hub.store.invitation(invitation_id)
        if inv is None:
            return
        timed_out = []
        for invitee in inv.pending():
            changed = await self.hub.store.transition_invitee(
                invitation_id, invitee.user_id, InvitationUserState.TIMEOUT
            )
            if changed is not None:
                timed_out.append(changed)
        if timed_out:
            self.hub.metrics.invitations["timeout"] += len(timed_out)
            callees = [self._user_info(i) for i in timed_out]
            for invitee in timed_out:
                event = InvitationTimeoutEvent(
                    invitation_id=inv.invitation_id,
                    call_id=inv.call_id,
                    caller=self._caller_info(inv),
                    callees=[self._user_info(invitee)],
                    call_type=inv.call_type,
                )
                await self.hub.emit_user(invitee.user_id, "invitation.timeout", event)
            to_caller = InvitationTimeoutEvent(
                invitation_id=inv.invitation_id,
                call_id=inv.call_id,
                caller=self._caller_info(inv),
                callees=callees,
                call_type=inv.call_type,
            )
            await self.hub.emit_user(inv.caller_id, "invitation.timeout", to_caller)
            await self._publish_states(inv, timed_out)
        await self._finish_if_done(inv, InvitationEndReason.TIMEOUT)

    # --- session and room life ------------------------------------------------------

    async def on_session_start(self, caller: Caller) -> None:
        """A user who signs in while invitations ring for them gets them (again)."""
        for inv in await self.hub.store.invitations_of(caller.user_id):
            invitee = inv.invitees.get(caller.user_id)
            if invitee is not None and invitee.state is InvitationUserState.RECEIVED:
                await self._deliver_one(inv, caller.user_id)

    async def _deliver_one(self, inv: Invitation, user_id: str) -> None:
        received = InvitationReceivedEvent(
            invitation_id=inv.invitation_id,
            call_id=inv.call_id,
            caller=self._caller_info(inv),
            call_type=inv.call_type,
            invitees=[self._user_info(i) for i in inv.invitees.values()],
            custom_data=inv.custom_data,
            timeout_s=inv.timeout_s,
        )
        await self.hub.emit_user(user_id, "invitation.received", received)

    async def on_session_end(self, caller: Caller, replaced: bool) -> None:
        """The caller going away cancels their ringing invitations; an invitee becomes offline."""
        for inv in await self.hub.store.invitations_of(caller.user_id):
            if inv.caller_id == caller.user_id:
                await self._cancel(inv, list(inv.invitees), "", caller_left=True)
            elif not replaced:
                invitee = await self.hub.store.transition_invitee(
                    inv.invitation_id, caller.user_id, InvitationUserState.OFFLINE
                )
                if invitee is not None:
                    self.hub.metrics.invitations["offline"] += 1
                    await self._publish_states(inv, [invitee])
                    await self._finish_if_done(inv, InvitationEndReason.DECLINED)

    async def on_room_left(self, room_id: str, user_id: str) -> None:
        """A caller hanging up a group call before everyone answered cancels the rest."""
        for inv in await self.hub.store.invitations_of(user_id):
            if inv.caller_id == user_id and inv.call_id == room_id:
                await self._cancel(inv, list(inv.invitees), "", caller_left=True)


def register(hub: Hub) -> InvitationService:
    """Install the invitation handlers on ``hub``."""
    service = InvitationService(hub)
    hub.handle("invitation.send")(service.send)
    hub.handle("invitation.accept")(service.accept)
    hub.handle("invitation.decline")(service.decline)
    hub.handle("invitation.cancel")(service.cancel)
    hub.on_session_start.append(service.on_session_start)
    hub.on_session_end.append(service.on_session_end)
    hub.on_room_left.append(service.on_room_left)
    return service
