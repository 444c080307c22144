"""The call history: every call placed or received, kept in a local SQLite database.

:meth:`CallHistory.follow` watches the event bus (and the call kit's phases, for what
the bus does not carry: whom an outgoing call rings and whether it is a video call)
and writes one :class:`~app.kit.views.history.CallEntry` per call: an answered call as
soon as it is answered (so the app being killed mid-call does not lose it), completed
with its duration when it ends; a missed, declined, busy, unanswered or cancelled one
when that is known. An incoming call
that timed out or that the caller cancelled is *missed*.

Qt-free: the composition root chooses the file (``:memory:`` in tests). The database
itself (schema, recovery from a broken file, the bound) is
:class:`~app.kit.history.store.CallHistoryStore`, which this class extends.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from app.kit.bus import EventBus
from app.kit.call.invitations import Phase, PhaseChanged, Refused, Unreachable
from app.kit.history.store import DEFAULT_LIMIT, MEMORY, SCHEMA_VERSION, CallHistoryStore
from app.kit.types import InvitationUserInfo, User
from app.kit.views.history import CallDirection, CallEntry, CallOutcome
from signaling.enums import CallType

__all__ = ["DEFAULT_LIMIT", "MEMORY", "SCHEMA_VERSION", "CallHistory", "CallPhases"]

log = logging.getLogger("parley.history")


class CallPhases(Protocol):
    """What :meth:`CallHistory.follow` needs of the call kit (``CallInvitationService``)."""

    @property
    def user(self) -> User | None: ...

    def subscribe(self, listener: Callable[[PhaseChanged], None]) -> object: ...

    def subscribe_unreachable(self, listener: Callable[[Unreachable], None]) -> object: ...

    def subscribe_refused(self, listener: Callable[[Refused], None]) -> object: ...


@dataclass
class _Call:
    """A call under way, not yet in the database."""

    call_id: str
    direction: CallDirection
    is_video: bool
    started_at: float
    account: str
    group: bool = False
    peers: dict[str, str] = field(default_factory=dict)  # user id → name, in order
    answered_at: float | None = None
    refusals: dict[str, CallOutcome] = field(default_factory=dict)
    # The row written when it was answered (CallHistoryStore.begin), completed at the end.
    entry_id: int | None = None


class CallHistory(CallHistoryStore):
    """Past calls of the signed-in users of this machine, written as the kit reports them."""

    def __init__(
        self,
        path: str | Path = MEMORY,
        *,
        limit: int = DEFAULT_LIMIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._calls: dict[str, _Call] = {}
        self._current: str | None = None  # the call_id of the call in progress
        self._settled: deque[str] = deque(maxlen=32)  # call_ids written down lately
        # Invitees not online, told before their call began (group calls): call_id → IDs.
        self._unreachable: dict[str, tuple[str, ...]] = {}
        self._phases: CallPhases | None = None
        self._unfollow: list[Callable[[], object]] = []
        self._name_of: Callable[[str], str | None] = lambda user_id: None
        super().__init__(path, limit=limit, clock=clock)

    def follow(
        self,
        bus: EventBus,
        calls: CallPhases | None = None,
        *,
        name_of: Callable[[str], str | None] | None = None,
    ) -> Callable[[], None]:
        """Record the calls the bus reports; returns a function that stops following.

        ``calls`` (the call kit) tells whom an outgoing call rings, whether it is a
        video call and when a call is answered. Without it incoming calls are recorded
        in full, but outgoing ones only once answered, declined or timed out, and as
        voice calls unless the timeout said otherwise. ``name_of`` gives the display
        name of a user ID an invitation names without one (the app's online list).
        """
        self._name_of = name_of or (lambda user_id: None)
        self._unfollow.append(bus.subscribe(self._on_bus))
        if calls is not None:
            self._phases = calls
            unsubscribe = calls.subscribe(self._on_phase)
            # CallInvitationService keeps its listeners for good: then _on_phase goes deaf.
            self._unfollow.append(unsubscribe if callable(unsubscribe) else self._forget_phases)
            for unsubscribe_quiet in (
                calls.subscribe_unreachable(self._on_unreachable),
                calls.subscribe_refused(self._on_refused),
            ):
                if callable(unsubscribe_quiet):
                    self._unfollow.append(unsubscribe_quiet)
        return self._stop_following

    def _forget_phases(self) -> None:
        self._phases = None

    def _stop_following(self) -> None:
        for stop in self._unfollow:
            stop()
        self._unfollow.clear()
        self._phases = None

    def _me(self) -> str:
        user = self._phases.user if self._phases is not None else None
        return user.id if user is not None else (self._account or "")

    def _on_phase(self, change: PhaseChanged) -> None:
        if self._phases is None:
            return
        ringing = change.ringing
        if change.phase is Phase.OUTGOING and ringing is not None:
            call = self._begin(ringing.call_id, CallDirection.OUTGOING, ringing.is_video)
            for callee in ringing.callees:
                # An invitation carries only IDs (the kit names callees by them): the app
                # may know the display name.
                named = callee.name if callee.name not in ("", callee.id) else None
                call.peers.setdefault(callee.id, named or self._name_of(callee.id) or callee.name)
        elif change.phase is Phase.IN_CALL and change.session is not None:
            session = change.session
            known = self._calls.get(session.call_id)
            if known is None:  # a group call we placed: we are in it while it rings
                is_video = session.config.turn_on_camera_when_joining
                if ringing is not None and ringing.call_id == session.call_id:
                    is_video = ringing.is_video
                known = self._begin(session.call_id, CallDirection.OUTGOING, is_video)
                known.group = True
            elif known.direction is CallDirection.INCOMING:
                self._answered(known)
            self._current = known.call_id

    def _on_unreachable(self, event: Unreachable) -> None:
        if self._phases is None:
            return
        call = self._calls.get(event.call_id)
        if call is None and event.call_goes_on:
            # Told before the call's phase: its people are listed once it begins.
            self._unreachable[event.call_id] = event.user_ids
            return
        if call is None:  # nothing rang: the call is over before it began
            call = self._begin(event.call_id, CallDirection.OUTGOING, event.is_video)
            self._not_online(call, event.user_ids)
            self._settle(call, CallOutcome.OFFLINE)
            return
        self._not_online(call, event.user_ids)

    def _on_refused(self, event: Refused) -> None:
        """Refused while do not disturb was on: a missed call, there to call back."""
        if self._phases is None:
            return
        call = self._begin(event.call_id, CallDirection.INCOMING, event.is_video)
        call.peers.setdefault(event.caller.id, event.caller.name)
        self._settle(call, CallOutcome.MISSED)

    def _not_online(self, call: _Call, user_ids: Sequence[str]) -> None:
        for user_id in user_ids:
            call.peers.setdefault(user_id, self._name_of(user_id) or user_id)
            call.refusals[user_id] = CallOutcome.OFFLINE

    def _begin(self, call_id: str, direction: CallDirection, is_video: bool) -> _Call:
        existing = self._calls.get(call_id)
        if existing is not None:
            return existing
        # A call that rang before and was never settled (answered without the kit, or
        # refused without a button): settle it now, before it is lost.
        for stale in [c for c in self._calls.values() if c.call_id != self._current]:
            self._settle(stale, _fallback(stale))
        call = _Call(call_id, direction, is_video, self._clock(), self._me())
        self._calls[call_id] = call
        self._not_online(call, self._unreachable.pop(call_id, ()))
        return call

    def _on_bus(self, path: str, args: tuple[object, ...]) -> None:
        handler = self._HANDLERS.get(path)
        if handler is not None:
            handler(self, *args)

    def _incoming_received(self, *args: object) -> None:
        call_id, caller, call_type, callees = args[:4]
        if not (isinstance(call_id, str) and isinstance(caller, User)):
            return
        call = self._begin(call_id, CallDirection.INCOMING, call_type is CallType.VIDEO)
        me = self._me()
        for user in (caller, *(callees if isinstance(callees, Sequence) else ())):
            if isinstance(user, User) and user.id != me:
                call.peers.setdefault(user.id, user.name)
        call.group = len(call.peers) > 1

    def _incoming_missed(self, *args: object) -> None:
        call = self._calls.get(args[0]) if args and isinstance(args[0], str) else None
        if call is not None and call.answered_at is None:
            self._settle(call, CallOutcome.MISSED)

    def _incoming_accepted(self, *args: object) -> None:
        if self._phases is not None:
            return  # the kit's IN_CALL says when the call really began (accepting can fail)
        call = self._ringing(CallDirection.INCOMING)
        if call is not None:
            self._current = call.call_id
            self._answered(call)

    def _incoming_declined(self, *args: object) -> None:
        call = self._ringing(CallDirection.INCOMING)
        if call is not None:
            self._settle(call, CallOutcome.DECLINED)

    def _outgoing_cancelled(self, *args: object) -> None:
        call = self._ringing(CallDirection.OUTGOING)
        if call is not None:
            self._settle(call, CallOutcome.CANCELLED)

    def _ringing(self, direction: CallDirection) -> _Call | None:
        """The latest call of ``direction`` still ringing (the buttons name none)."""
        ringing = [
            c for c in self._calls.values() if c.direction is direction and c.answered_at is None
        ]
        return ringing[-1] if ringing else None

    def _outgoing_call(self, call_id: object) -> _Call | None:
        if not isinstance(call_id, str):
            return None
        call = self._calls.get(call_id)
        if call is None:
            # Without the kit's phases an outgoing call shows first in its answers; with
            # them it is known from the start. A late answer to a settled call (a group
            # callee timing out after the call ended) must not become a call of its own.
            if self._phases is not None or call_id in self._settled:
                return None
            call = self._begin(call_id, CallDirection.OUTGOING, is_video=False)
        return call if call.direction is CallDirection.OUTGOING else None

    def _outgoing_accepted(self, *args: object) -> None:
        call_id, callee = args[:2]
        call = self._outgoing_call(call_id)
        if call is None or not isinstance(callee, User):
            return
        call.peers[callee.id] = callee.name
        self._current = call.call_id
        self._answered(call)

    def _outgoing_refused(self, outcome: CallOutcome, call_id: object, callee: object) -> None:
        call = self._outgoing_call(call_id)
        if call is None or not isinstance(callee, User):
            return
        call.peers[callee.id] = callee.name
        call.refusals[callee.id] = outcome
        if not call.group and call.answered_at is None:
            self._settle(call, outcome)

    def _outgoing_declined(self, *args: object) -> None:
        self._outgoing_refused(CallOutcome.DECLINED, *args[:2])

    def _outgoing_busy(self, *args: object) -> None:
        self._outgoing_refused(CallOutcome.BUSY, *args[:2])

    def _outgoing_timeout(self, *args: object) -> None:
        call_id, callees, is_video = args[:3]
        call = self._outgoing_call(call_id)
        if call is None:
            return
        if isinstance(is_video, bool):
            call.is_video = is_video
        for callee in callees if isinstance(callees, Sequence) else ():
            if isinstance(callee, User):
                call.peers.setdefault(callee.id, callee.name)
                call.refusals.setdefault(callee.id, CallOutcome.NO_ANSWER)
        if not call.group and call.answered_at is None:
            self._settle(call, CallOutcome.NO_ANSWER)

    def _invitees_changed(self, *args: object) -> None:
        # Names no call: it is the group call in progress, whose callees may be known
        # from nothing else when none of them answers.
        call = self._calls.get(self._current) if self._current is not None else None
        if call is None or call.direction is not CallDirection.OUTGOING or not args:
            return
        for info in args[0] if isinstance(args[0], Sequence) else ():
            if isinstance(info, InvitationUserInfo) and info.user_id != self._me():
                call.peers.setdefault(info.user_id, info.user_id)

    def _call_ended(self, *args: object) -> None:
        call = self._calls.get(self._current) if self._current is not None else None
        if call is not None:
            self._settle(call, _fallback(call))

    _HANDLERS: ClassVar[dict[str, Callable[..., None]]] = {
        "invitation.on_incoming_call_received": _incoming_received,
        "invitation.on_incoming_call_canceled": _incoming_missed,
        "invitation.on_incoming_call_timeout": _incoming_missed,
        "invitation.on_incoming_call_accept_button_pressed": _incoming_accepted,
        "invitation.on_incoming_call_decline_button_pressed": _incoming_declined,
        "invitation.on_outgoing_call_cancel_button_pressed": _outgoing_cancelled,
        "invitation.on_outgoing_call_accepted": _outgoing_accepted,
        "invitation.on_outgoing_call_declined": _outgoing_declined,
        "invitation.on_outgoing_call_rejected_cause_busy": _outgoing_busy,
        "invitation.on_outgoing_call_timeout": _outgoing_timeout,
        "invitation.on_invitation_user_state_changed": _invitees_changed,
        "call.on_call_end": _call_ended,
    }

    def _answered(self, call: _Call) -> None:
        """Someone answered: the call took place, and is written down now, so that it
        stays in the history if the app stops before it ends (completed in _settle)."""
        if call.answered_at is None:
            call.answered_at = self._clock()
        if call.entry_id is None:
            entry = self._entry(call, CallOutcome.ANSWERED, 0)
            call.entry_id = self.begin(entry) if entry is not None else None

    def _settle(self, call: _Call, outcome: CallOutcome) -> None:
        """The call is over: write it down and forget it."""
        self._calls.pop(call.call_id, None)
        self._settled.append(call.call_id)
        if self._current == call.call_id:
            self._current = None
        duration = 0
        if outcome is CallOutcome.ANSWERED and call.answered_at is not None:
            duration = max(0, round(self._clock() - call.answered_at))
        entry = self._entry(call, outcome, duration)
        if entry is None:
            return
        if call.entry_id is not None:
            self.complete(call.entry_id, entry)
        else:
            self.record(entry)

    @staticmethod
    def _entry(call: _Call, outcome: CallOutcome, duration: int) -> CallEntry | None:
        try:
            return CallEntry(
                entry_id=0,
                call_id=call.call_id,
                direction=call.direction,
                outcome=outcome,
                peers=tuple(User(uid, name) for uid, name in call.peers.items()),
                is_video=call.is_video,
                started_at=call.started_at,
                duration_s=duration,
                seen=outcome is not CallOutcome.MISSED,
                account=call.account,
            )
        except (TypeError, ValueError):
            log.exception("call history: cannot record call %s", call.call_id)
            return None

    # --- life -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop following, write down calls still under way, close the file; idempotent."""
        self._stop_following()
        for call in list(self._calls.values()):
            self._settle(call, _fallback(call))
        super().close()


def _fallback(call: _Call) -> CallOutcome:
    """The outcome of a call no event settled: what the user would call it."""
    if call.answered_at is not None:
        return CallOutcome.ANSWERED
    if call.direction is CallDirection.INCOMING:
        return CallOutcome.MISSED
    refusals = set(call.refusals.values())
    if call.group and len(refusals) == 1 and len(call.refusals) == len(call.peers):
        return refusals.pop()  # every callee declined, or every one was busy
    return CallOutcome.NO_ANSWER if call.group else CallOutcome.CANCELLED
