"""The call-invitation state machine: ring out, ring in, answer, and start the call.

Qt-free core of :class:`app.CallInvitationService`. It turns the server's invitation
pushes into the invitation kit's events on the bus, and starts a :class:`CallSession`
when a call begins: at once for a group call (the caller waits in the call), when the
callee accepts for a one-to-one call, and on accepting as a callee. Pages follow
:attr:`phase` through :meth:`subscribe`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.kit.bus import EventBus
from app.kit.call.session import CallSession
from app.kit.config import CallInvitationConfig
from app.kit.types import InvitationUserInfo, KitError, User
from signaling.client import SignalingClient
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

log = logging.getLogger("parley.invitations")

SessionFactory = Callable[[str, bool, bool], CallSession]
"""Builds the session for ``(call_id, is_video, is_group)``."""


class Phase(StrEnum):
    """Where the local user is, as the pages see it."""

    IDLE = "idle"
    OUTGOING = "outgoing"  # one-to-one, waiting for the callee
    INCOMING = "incoming"  # ringing here
    IN_CALL = "in_call"


@dataclass(frozen=True)
class Ringing:
    """The invitation ringing here or out from here."""

    invitation_id: str
    call_id: str
    caller: User
    callees: tuple[User, ...]
    is_video: bool
    custom_data: str = ""


@dataclass(frozen=True)
class PhaseChanged:
    phase: Phase
    ringing: Ringing | None
    session: CallSession | None


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
        self.phase = Phase.IDLE
        self.ringing: Ringing | None = None
        self.session: CallSession | None = None
        self._listeners: list[Callable[[PhaseChanged], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe = client.subscribe(self._on_event)

    # --- observation ----------------------------------------------------------------

    def subscribe(self, listener: Callable[[PhaseChanged], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _set_phase(self, phase: Phase, ringing: Ringing | None) -> None:
        self.phase, self.ringing = phase, ringing
        change = PhaseChanged(phase, ringing, self.session)
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("phase listener failed")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("invitation task failed", exc_info=task.exception())

    async def _error(self, exc: SignalingError) -> None:
        await self.bus.invitation.publish(
            lambda e: e.on_error, KitError(exc.code.value, exc.message)
        )

    # --- requests -------------------------------------------------------------------

    async def send(
        self,
        invitees: Sequence[str],
        is_video: bool,
        *,
        call_id: str | None = None,
        custom_data: str = "",
    ) -> str | None:
        """Invite users; returns the call id, or None if the server refused (``on_error``).

        During a call this invites more people into it.
        """
        in_call = self.session is not None and not self.session.ended.is_set()
        if self.phase in (Phase.OUTGOING, Phase.INCOMING):
            await self.bus.invitation.publish(
                lambda e: e.on_error, KitError("busy", "an invitation is already ringing")
            )
            return None
        if in_call and self.session is not None:
            call_id = self.session.call_id
        group = len(invitees) > 1 or in_call
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
            await self._error(exc)
            return None
        ringing_ids = {u.user_id for u in sent.users if u.state is InvitationUserState.RECEIVED}
        callees = tuple(User(u, u) for u in invitees)
        ringing = Ringing(sent.invitation_id, sent.call_id, self.me, callees, is_video, custom_data)
        if in_call and self.session is not None:
            self.session.expect_invitees(ringing_ids)
        elif group:
            session = self._begin_call(sent.call_id, is_video, group=True)
            session.expect_invitees(ringing_ids)
            await session.start()
        elif ringing_ids:
            self._set_phase(Phase.OUTGOING, ringing)
        return sent.call_id

    async def cancel(self, custom_data: str = "") -> None:
        """Cancel the outgoing one-to-one invitation (the cancel button)."""
        ringing = self.ringing
        if self.phase is not Phase.OUTGOING or ringing is None:
            return
        self._set_phase(Phase.IDLE, None)
        try:
            await self.client.cancel_invitation(ringing.invitation_id, custom_data=custom_data)
        except SignalingError as exc:
            await self._error(exc)

    async def accept(self, custom_data: str = "") -> CallSession | None:
        """Accept the invitation ringing here and join the call."""
        ringing = self.ringing
        if self.phase is not Phase.INCOMING or ringing is None:
            return None
        try:
            call_id = await self.client.accept_invitation(ringing.invitation_id, custom_data)
        except SignalingError as exc:
            self._set_phase(Phase.IDLE, None)
            await self._error(exc)
            return None
        session = self._begin_call(call_id, ringing.is_video, group=len(ringing.callees) > 1)
        await session.start()
        return session

    async def reject(self, custom_data: str = "") -> None:
        """Decline the invitation ringing here."""
        ringing = self.ringing
        if self.phase is not Phase.INCOMING or ringing is None:
            return
        self._set_phase(Phase.IDLE, None)
        try:
            await self.client.decline_invitation(ringing.invitation_id, custom_data)
        except SignalingError as exc:
            await self._error(exc)

    def _begin_call(self, call_id: str, is_video: bool, *, group: bool) -> CallSession:
        session = self._session_factory(call_id, is_video, group)
        self.session = session
        self._set_phase(Phase.IN_CALL, self.ringing)
        self._spawn(self._await_end(session))
        return session

    async def _await_end(self, session: CallSession) -> None:
        await session.ended.wait()
        if self.session is session:
            self.session = None
            self._set_phase(Phase.IDLE, None)

    # --- pushes ---------------------------------------------------------------------

    def _on_event(self, event: object) -> None:
        if isinstance(event, InvitationReceivedEvent):
            self._spawn(self._received(event))
        elif isinstance(event, InvitationCancelledEvent):
            self._spawn(self._cancelled(event))
        elif isinstance(event, InvitationTimeoutEvent):
            self._spawn(self._timed_out(event))
        elif isinstance(event, InvitationAcceptedEvent):
            self._spawn(self._accepted(event))
        elif isinstance(event, InvitationDeclinedEvent):
            self._spawn(self._declined(event))
        elif isinstance(event, InvitationUserStateEvent):
            self._spawn(self._user_states(event))
        elif isinstance(event, InvitationEndedEvent):
            self._spawn(self._ended(event))

    async def _received(self, event: InvitationReceivedEvent) -> None:
        if self.phase is not Phase.IDLE:
            # The server refuses busy users itself; this covers the moment between.
            await self.client.decline_invitation(event.invitation_id, busy=True)
            return
        caller = _user(event.caller)
        callees = tuple(_user(u) for u in event.invitees)
        is_video = event.call_type is CallType.VIDEO
        ringing = Ringing(
            event.invitation_id, event.call_id, caller, callees, is_video, event.custom_data
        )
        self._set_phase(Phase.INCOMING, ringing)
        await self.bus.invitation.publish(
            lambda e: e.on_incoming_call_received,
            event.call_id,
            caller,
            event.call_type,
            callees,
            event.custom_data,
        )

    def _is_ringing_here(self, invitation_id: str) -> bool:
        return (
            self.phase is Phase.INCOMING
            and self.ringing is not None
            and (self.ringing.invitation_id == invitation_id)
        )

    def _is_ringing_out(self, invitation_id: str) -> bool:
        return (
            self.phase is Phase.OUTGOING
            and self.ringing is not None
            and (self.ringing.invitation_id == invitation_id)
        )

    async def _cancelled(self, event: InvitationCancelledEvent) -> None:
        if self._is_ringing_here(event.invitation_id):
            self._set_phase(Phase.IDLE, None)
        await self.bus.invitation.publish(
            lambda e: e.on_incoming_call_canceled,
            event.call_id,
            _user(event.caller),
            event.custom_data,
        )

    async def _timed_out(self, event: InvitationTimeoutEvent) -> None:
        if event.caller.user_id == self.me.id:
            if self._is_ringing_out(event.invitation_id):
                self._set_phase(Phase.IDLE, None)
            callees = tuple(_user(u) for u in event.callees)
            await self.bus.invitation.publish(
                lambda e: e.on_outgoing_call_timeout,
                event.call_id,
                callees,
                event.call_type is CallType.VIDEO,
            )
            if self.session is not None:
                for user in callees:
                    self.session.invitee_answered(user.id, accepted=False)
            return
        if self._is_ringing_here(event.invitation_id):
            self._set_phase(Phase.IDLE, None)
        await self.bus.invitation.publish(
            lambda e: e.on_incoming_call_timeout, event.call_id, _user(event.caller)
        )

    async def _accepted(self, event: InvitationAcceptedEvent) -> None:
        callee = _user(event.callee)
        await self.bus.invitation.publish(
            lambda e: e.on_outgoing_call_accepted, event.call_id, callee
        )
        ringing = self.ringing
        if ringing is not None and self._is_ringing_out(event.invitation_id):
            session = self._begin_call(event.call_id, ringing.is_video, group=False)
            session.expect_invitees({callee.id})
            await session.start()

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
        if self.session is not None:
            self.session.invitee_answered(callee.id, accepted=False)

    async def _user_states(self, event: InvitationUserStateEvent) -> None:
        infos = tuple(InvitationUserInfo(u.user_id, u.state, u.extended_data) for u in event.users)
        await self.bus.invitation.publish(lambda e: e.on_invitation_user_state_changed, infos)
        if self.session is not None and self.session.call_id == event.call_id:
            for user in event.users:
                if user.state in (InvitationUserState.OFFLINE, InvitationUserState.CANCELLED):
                    self.session.invitee_answered(user.user_id, accepted=False)

    async def _ended(self, event: InvitationEndedEvent) -> None:
        accepted = event.reason is InvitationEndReason.ACCEPTED
        if not accepted and self._is_ringing_out(event.invitation_id):
            self._set_phase(Phase.IDLE, None)

    # --- life -----------------------------------------------------------------------

    async def close(self) -> None:
        """Hang up any call, cancel what rings out, decline what rings in; idempotent."""
        self._unsubscribe()
        if self.phase is Phase.OUTGOING:
            await self.cancel()
        elif self.phase is Phase.INCOMING:
            await self.reject()
        if self.session is not None:
            await self.session.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
