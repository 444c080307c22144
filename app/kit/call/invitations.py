"""The call-invitation service's I/O: server pushes in, the invitation kit's events out.

Qt-free core of :class:`~app.kit.call.service.CallInvitationService`. Every decision is
:class:`~app.kit.call.phases.InvitationPhases`'s; this module talks to the server,
publishes the invitation kit's events on the bus, carries out the machine's effects
(start a :class:`CallSession`, tell it whom it waits for, decline as busy) and tells its
followers the phase (:meth:`InvitationService.subscribe`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from app.kit.bus import EventBus
from app.kit.call.phases import (
    DeclineBusy,
    Effect,
    ExpectInvitees,
    InvitationPhases,
    InviteeGone,
    Phase,
    Ringing,
    StartCall,
)
from app.kit.call.session import CallSession
from app.kit.config import CallInvitationConfig
from app.kit.listeners import Listeners, Unsubscribe
from app.kit.tasks import TaskKeeper
from app.kit.types import InvitationUserInfo, KitError, User
from signaling.client import SignalingClient
from signaling.client_events import ConnectionState, ConnectionStateChanged
from signaling.enums import CallType, InvitationEndReason, InvitationUserState
from signaling.errors import SignalingError
from signaling.protocol import (
    InvitationAcceptedEvent,
    InvitationCancelledEvent,
    InvitationDeclinedEvent,
    InvitationEndedEvent,
    InvitationReceivedEvent,
    InvitationTimeoutEvent,
    InvitationUserStateEvent,
    UserInfo,
)

__all__ = [
    "InvitationService",
    "Phase",
    "PhaseChanged",
    "Refused",
    "Ringing",
    "SessionFactory",
    "Unreachable",
]

log = logging.getLogger("parley.invitations")

SessionFactory = Callable[[str, bool, bool], CallSession]
"""Builds the session for ``(call_id, is_video, is_group)``."""

#: The invitation kit's error when this user signed in elsewhere (the protocol's code).
SIGNED_IN_ELSEWHERE = "logged_in_elsewhere"
#: ``on_error`` code when invitees are not signed in (or no such user exists: the server
#: cannot tell them apart).
USER_OFFLINE = "user_offline"


@dataclass(frozen=True)
class PhaseChanged:
    """The phase moved: what to show, the invitation ringing, the call in progress."""

    phase: Phase
    ringing: Ringing | None
    session: CallSession | None


@dataclass(frozen=True)
class Unreachable:
    """Invitees of a call we placed who were not online (or do not exist: the server
    cannot tell). ``call_goes_on``: the call still rings someone, or is a group call or
    the call in progress (told before that call's phase is announced)."""

    call_id: str
    user_ids: tuple[str, ...]
    is_video: bool
    call_goes_on: bool


@dataclass(frozen=True)
class Refused:
    """A call refused here as busy without ringing: do not disturb was on."""

    call_id: str
    caller: User
    is_video: bool


def _user(info: UserInfo) -> User:
    return User(info.user_id, info.name)


class InvitationService:
    """Invitations of one signed-in user; at most one call or ringing at a time."""

    def __init__(
        self,
        client: SignalingClient,
        bus: EventBus,
        me: User,
        session_factory: SessionFactory,
        config: CallInvitationConfig | None = None,
    ) -> None:
        self.client = client
        self.bus = bus
        self.me = me
        self.config = config or CallInvitationConfig()
        self._session_factory = session_factory
        self.phases = InvitationPhases()
        self.session: CallSession | None = None
        self._listeners: Listeners[[PhaseChanged]] = Listeners("invitation phases")
        self._unreachable: Listeners[[Unreachable]] = Listeners("unreachable invitees")
        self._refused: Listeners[[Refused]] = Listeners("calls refused")
        #: Refuse every call as busy, without ringing (the caller hears "busy").
        self.do_not_disturb = False
        self.tasks = TaskKeeper("invitations")
        self._unsubscribe = client.subscribe(self._on_event)

    # --- observation ------------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        return self.phases.phase

    @property
    def ringing(self) -> Ringing | None:
        return self.phases.ringing

    def subscribe(self, listener: Callable[[PhaseChanged], None]) -> Unsubscribe:
        """Follow the phase (idle, outgoing, incoming, in call): what page to show."""
        return self._listeners.subscribe(listener)

    def subscribe_unreachable(self, listener: Callable[[Unreachable], None]) -> Unsubscribe:
        """Hear of invitees who were not online when we called them."""
        return self._unreachable.subscribe(listener)

    def subscribe_refused(self, listener: Callable[[Refused], None]) -> Unsubscribe:
        """Hear of calls refused without ringing (do not disturb)."""
        return self._refused.subscribe(listener)

    def _announce(self, before: tuple[Phase, Ringing | None]) -> None:
        if (self.phases.phase, self.phases.ringing) != before:
            self._listeners.emit(PhaseChanged(self.phases.phase, self.phases.ringing, self.session))

    def _now(self) -> tuple[Phase, Ringing | None]:
        return self.phases.phase, self.phases.ringing

    async def _error(self, code: str, message: str) -> None:
        await self.bus.invitation.publish(lambda e: e.on_error, KitError(code, message))

    # --- effects ----------------------------------------------------------------------

    async def _carry_out(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, StartCall):
                await self._start_call(effect)
            elif isinstance(effect, ExpectInvitees):
                if self.session is not None:
                    self.session.expect_invitees(effect.invitees)
            elif isinstance(effect, InviteeGone):
                if self.session is not None:
                    self.session.invitee_answered(effect.user_id, accepted=False)
            elif isinstance(effect, DeclineBusy):
                # The server refuses busy users itself; this covers the moment between.
                try:
                    await self.client.decline_invitation(effect.invitation_id, busy=True)
                except SignalingError as exc:
                    log.info("declining a second invitation as busy failed: %s", exc)

    async def _start_call(self, start: StartCall) -> None:
        session = self._session_factory(start.call_id, start.is_video, start.is_group)
        self.session = session
        session.expect_invitees(start.invitees)
        self._listeners.emit(PhaseChanged(Phase.IN_CALL, self.phases.ringing, session))
        self.tasks.spawn(self._await_end(session), f"call {start.call_id}")
        await session.start()

    async def _await_end(self, session: CallSession) -> None:
        await session.ended.wait()
        if self.session is session:
            before = self._now()
            self.session = None
            self.phases.call_ended(session.call_id)
            self._announce(before)

    # --- requests ---------------------------------------------------------------------

    async def send(
        self,
        invitees: Sequence[str],
        is_video: bool,
        *,
        call_id: str | None = None,
        custom_data: str = "",
    ) -> str | None:
        """Invite users; returns the call id, or None if refused (``on_error``).

        During a call this invites more people into it.
        """
        if not self.phases.can_send:
            await self._error("busy", "an invitation is already ringing")
            return None
        session = self.session
        if session is not None and not session.ended.is_set():
            call_id = session.call_id
        try:
            sent = await self.client.send_invitation(
                invitees,
                CallType.VIDEO if is_video else CallType.VOICE,
                call_id=call_id,
                custom_data=custom_data,
                timeout_s=round(self.config.timeout_s),
                only_initiator_can_invite=self.config.only_initiator_can_invite,
                end_call_when_initiator_leaves=self.config.end_call_when_initiator_leave,
            )
        except SignalingError as exc:
            await self._error(exc.code.value, exc.message)
            return None
        ringing_ids = [u.user_id for u in sent.users if u.state is InvitationUserState.RECEIVED]
        offline = [u.user_id for u in sent.users if u.state is InvitationUserState.OFFLINE]
        if offline:
            # Nothing else would say it: no phone rings, no answer will come.
            await self._error(USER_OFFLINE, _not_online(offline))
        callees = tuple(User(u, u) for u in invitees)
        ringing = Ringing(sent.invitation_id, sent.call_id, self.me, callees, is_video, custom_data)
        before = self._now()
        effects = self.phases.sent(ringing, ringing_ids)
        if offline:
            goes_on = self.phases.phase is not Phase.IDLE
            self._unreachable.emit(Unreachable(sent.call_id, tuple(offline), is_video, goes_on))
        if not any(isinstance(effect, StartCall) for effect in effects):
            self._announce(before)
        await self._carry_out(effects)
        return sent.call_id

    async def cancel(self, custom_data: str = "") -> None:
        """Cancel the outgoing one-to-one invitation (the cancel button)."""
        before = self._now()
        ringing = self.phases.cancelling()
        if ringing is None:
            return
        self._announce(before)
        try:
            await self.client.cancel_invitation(ringing.invitation_id, custom_data=custom_data)
        except SignalingError as exc:
            await self._error(exc.code.value, exc.message)

    async def cancel_invitee(self, user_id: str, custom_data: str = "") -> bool:
        """Stop ringing one invitee of the call in progress (their waiting tile's cancel)."""
        session = self.session
        invitation_id = session.invitation_of(user_id) if session is not None else None
        if session is None or invitation_id is None:
            return False
        try:
            await self.client.cancel_invitation(
                invitation_id, invitees=[user_id], custom_data=custom_data
            )
        except SignalingError as exc:
            await self._error(exc.code.value, exc.message)
            return False
        session.invitee_answered(user_id, accepted=False)
        return True

    async def accept(self, custom_data: str = "") -> CallSession | None:
        """Accept the invitation ringing here and join the call."""
        ringing = self.phases.ringing_here
        if ringing is None:
            return None
        try:
            call_id = await self.client.accept_invitation(ringing.invitation_id, custom_data)
        except SignalingError as exc:
            before = self._now()
            self.phases.declining()
            self._announce(before)
            await self._error(exc.code.value, exc.message)
            return None
        await self._carry_out(self.phases.accepted_here(call_id))
        return self.session

    async def reject(self, custom_data: str = "") -> None:
        """Decline the invitation ringing here."""
        before = self._now()
        ringing = self.phases.declining()
        if ringing is None:
            return
        self._announce(before)
        try:
            await self.client.decline_invitation(ringing.invitation_id, custom_data)
        except SignalingError as exc:
            await self._error(exc.code.value, exc.message)

    # --- pushes -----------------------------------------------------------------------

    def _on_event(self, event: object) -> None:
        handler = self._HANDLERS.get(type(event))
        if handler is not None:
            self.tasks.spawn(handler(self, event), type(event).__name__)

    async def _received(self, event: InvitationReceivedEvent) -> None:
        caller = _user(event.caller)
        callees = tuple(_user(u) for u in event.invitees)
        is_video = event.call_type is CallType.VIDEO
        ringing = Ringing(
            event.invitation_id, event.call_id, caller, callees, is_video, event.custom_data
        )
        if self.do_not_disturb and self.phases.phase is Phase.IDLE:
            # Nothing rings, nothing is published: the caller hears "busy"; the call is
            # kept (Recent calls) through the refused listeners.
            await self._carry_out([DeclineBusy(ringing.invitation_id)])
            self._refused.emit(Refused(event.call_id, caller, is_video))
            return
        before = self._now()
        effects = self.phases.received(ringing)
        if effects:
            await self._carry_out(effects)
            return
        self._announce(before)
        await self.bus.invitation.publish(
            lambda e: e.on_incoming_call_received,
            event.call_id,
            caller,
            event.call_type,
            callees,
            event.custom_data,
        )

    async def _cancelled(self, event: InvitationCancelledEvent) -> None:
        before = self._now()
        self.phases.stopped_ringing_here(event.invitation_id)
        self._announce(before)
        await self.bus.invitation.publish(
            lambda e: e.on_incoming_call_canceled,
            event.call_id,
            _user(event.caller),
            event.custom_data,
        )

    async def _timed_out(self, event: InvitationTimeoutEvent) -> None:
        before = self._now()
        if event.caller.user_id == self.me.id:
            callees = tuple(_user(u) for u in event.callees)
            effects = self.phases.timed_out_out(event.invitation_id, [u.id for u in callees])
            self._announce(before)
            await self.bus.invitation.publish(
                lambda e: e.on_outgoing_call_timeout,
                event.call_id,
                callees,
                event.call_type is CallType.VIDEO,
            )
            await self._carry_out(effects)
            return
        self.phases.stopped_ringing_here(event.invitation_id)
        self._announce(before)
        await self.bus.invitation.publish(
            lambda e: e.on_incoming_call_timeout, event.call_id, _user(event.caller)
        )

    async def _accepted(self, event: InvitationAcceptedEvent) -> None:
        callee = _user(event.callee)
        await self.bus.invitation.publish(
            lambda e: e.on_outgoing_call_accepted, event.call_id, callee
        )
        await self._carry_out(self.phases.remote_accepted(event.invitation_id, callee.id))

    async def _declined(self, event: InvitationDeclinedEvent) -> None:
        callee = _user(event.callee)
        if event.busy:
            await self.bus.invitation.publish(
                lambda e: e.on_outgoing_call_rejected_cause_busy,
                event.call_id,
                callee,
                event.custom_data,
            )
        else:
            await self.bus.invitation.publish(
                lambda e: e.on_outgoing_call_declined, event.call_id, callee, event.custom_data
            )
        await self._carry_out(self.phases.remote_refused(callee.id))

    async def _user_states(self, event: InvitationUserStateEvent) -> None:
        infos = tuple(InvitationUserInfo(u.user_id, u.state, u.extended_data) for u in event.users)
        await self.bus.invitation.publish(lambda e: e.on_invitation_user_state_changed, infos)
        gone = [
            u.user_id
            for u in event.users
            if u.state in (InvitationUserState.OFFLINE, InvitationUserState.CANCELLED)
        ]
        await self._carry_out(self.phases.invitees_gone(event.call_id, gone))

    async def _ended(self, event: InvitationEndedEvent) -> None:
        before = self._now()
        self.phases.ended(event.invitation_id, event.reason is InvitationEndReason.ACCEPTED)
        self._announce(before)

    async def _connection(self, event: ConnectionStateChanged) -> None:
        if event.state is not ConnectionState.KICKED:
            return
        # The server replaced this session with a newer one of the same user: nothing
        # rings here any more (a call in progress ends by itself, as KICK_OUT).
        before = self._now()
        if self.phases.phase is not Phase.IN_CALL:
            self.phases.reset()
        self._announce(before)
        await self._error(SIGNED_IN_ELSEWHERE, "signed in elsewhere: this session has ended")

    _HANDLERS: ClassVar[dict[type, Callable[[Any, Any], Coroutine[Any, Any, None]]]] = {}

    # --- life -------------------------------------------------------------------------

    async def close(self) -> None:
        """Hang up any call, cancel what rings out, decline what rings in; idempotent."""
        self._unsubscribe()
        if self.phases.phase is Phase.OUTGOING:
            await self.cancel()
        elif self.phases.phase is Phase.INCOMING:
            await self.reject()
        if self.session is not None:
            await self.session.close()
        await self.tasks.close()


InvitationService._HANDLERS = {
    InvitationReceivedEvent: InvitationService._received,
    InvitationCancelledEvent: InvitationService._cancelled,
    InvitationTimeoutEvent: InvitationService._timed_out,
    InvitationAcceptedEvent: InvitationService._accepted,
    InvitationDeclinedEvent: InvitationService._declined,
    InvitationUserStateEvent: InvitationService._user_states,
    InvitationEndedEvent: InvitationService._ended,
    ConnectionStateChanged: InvitationService._connection,
}


def _not_online(user_ids: list[str]) -> str:
    if len(user_ids) == 1:
        return f"{user_ids[0]} is not online — check the user ID."
    return f"{', '.join(user_ids)} are not online — check the user IDs."
