"""Where the local user stands with invitations, as pure logic (no I/O, no awaits, no Qt).

:class:`InvitationPhases` is the state machine behind the call-invitation service: it
takes what happened (we sent an invitation, one arrived, a callee accepted, the call
ended …), moves between the four :class:`Phase` s, and answers with the
:data:`Effect` s the service must carry out (start a call, expect invitees, decline as
busy). The service (:mod:`app.kit.call.invitations`) does the talking to the server and
the bus; everything it decides is decided here, where a unit test can reach it.

Rules, in one place:

- One thing at a time: while a call rings here or out, nothing else rings; an invitation
  arriving then is declined as busy. During a call, invitations we send invite into it.
- A one-to-one call rings out (``OUTGOING``) until the callee answers; its call starts
  when they accept. A group call starts at once: the caller waits in it while it rings.
- A call rings here (``INCOMING``) until we answer, or the caller cancels, or it times out.
- During a call the machine keeps track of nothing but the call's id: who is still being
  invited is the call session's business, told through ``ExpectInvitees`` and
  ``InviteeGone``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from app.kit.types import User

__all__ = [
    "DeclineBusy",
    "Effect",
    "ExpectInvitees",
    "InvitationPhases",
    "InviteeGone",
    "Phase",
    "Ringing",
    "StartCall",
]


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

    @property
    def is_group(self) -> bool:
        """More than one callee: a group call."""
        return len(self.callees) > 1


def _frozen(invitees: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(invitees))


@dataclass(frozen=True)
class StartCall:
    """Start (join) the call; ``invitees`` (user id → invitation id) are still ringing."""

    call_id: str
    is_video: bool
    is_group: bool
    invitees: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "invitees", _frozen(self.invitees))


@dataclass(frozen=True)
class ExpectInvitees:
    """More users are being invited into the call in progress."""

    invitees: Mapping[str, str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "invitees", _frozen(self.invitees))


@dataclass(frozen=True)
class InviteeGone:
    """An invitee of the call in progress stopped ringing without accepting."""

    user_id: str


@dataclass(frozen=True)
class DeclineBusy:
    """An invitation arrived while busy here: decline it as busy."""

    invitation_id: str


Effect = StartCall | ExpectInvitees | InviteeGone | DeclineBusy


class InvitationPhases:
    """The phase, the invitation ringing, and the call in progress; see the module rules."""

    def __init__(self) -> None:
        self.phase = Phase.IDLE
        self.ringing: Ringing | None = None
        #: The call in progress (``IN_CALL``), else None.
        self.call_id: str | None = None

    def _to(self, phase: Phase, ringing: Ringing | None = None, call_id: str | None = None) -> None:
        self.phase, self.ringing, self.call_id = phase, ringing, call_id

    def _ringing_out(self, invitation_id: str) -> bool:
        return (
            self.phase is Phase.OUTGOING
            and self.ringing is not None
            and self.ringing.invitation_id == invitation_id
        )

    def _ringing_here(self, invitation_id: str) -> bool:
        return (
            self.phase is Phase.INCOMING
            and self.ringing is not None
            and self.ringing.invitation_id == invitation_id
        )

    # --- sending ----------------------------------------------------------------------

    @property
    def can_send(self) -> bool:
        """Nothing rings here or out (during a call, sending invites into it)."""
        return self.phase in (Phase.IDLE, Phase.IN_CALL)

    def sent(self, ringing: Ringing, ringing_ids: Collection[str]) -> list[Effect]:
        """The server took our invitation; ``ringing_ids`` are the callees it now rings."""
        invitees = {user_id: ringing.invitation_id for user_id in ringing_ids}
        if self.phase is Phase.IN_CALL:
            return [ExpectInvitees(invitees)] if invitees else []
        if ringing.is_group:
            self._to(Phase.IN_CALL, ringing, ringing.call_id)
            return [StartCall(ringing.call_id, ringing.is_video, True, invitees)]
        if invitees:
            self._to(Phase.OUTGOING, ringing)
        # Nobody rings (busy, offline): the answers say why; nothing starts.
        return []

    def cancelling(self) -> Ringing | None:
        """Our cancel button: the one-to-one invitation ringing out, now stopped."""
        ringing = self.ringing
        if self.phase is not Phase.OUTGOING or ringing is None:
            return None
        self._to(Phase.IDLE)
        return ringing

    def remote_accepted(self, invitation_id: str, callee_id: str) -> list[Effect]:
        """A callee accepted: a one-to-one call ringing out starts, waiting for them."""
        ringing = self.ringing
        if ringing is None or not self._ringing_out(invitation_id):
            return []  # a group callee: already expected by the call in progress
        self._to(Phase.IN_CALL, ringing, ringing.call_id)
        return [StartCall(ringing.call_id, ringing.is_video, False, {callee_id: invitation_id})]

    def remote_refused(self, callee_id: str) -> list[Effect]:
        """A callee declined or was busy (a one-to-one call rings on until it ends)."""
        return [InviteeGone(callee_id)] if self.phase is Phase.IN_CALL else []

    def invitees_gone(self, call_id: str, user_ids: Collection[str]) -> list[Effect]:
        """Invitees of ``call_id`` went offline or were cancelled."""
        if self.phase is not Phase.IN_CALL or call_id != self.call_id:
            return []
        return [InviteeGone(user_id) for user_id in user_ids]

    def timed_out_out(self, invitation_id: str, callee_ids: Collection[str]) -> list[Effect]:
        """Our invitation went unanswered by ``callee_ids``."""
        if self._ringing_out(invitation_id):
            self._to(Phase.IDLE)
            return []
        if self.phase is Phase.IN_CALL:
            return [InviteeGone(user_id) for user_id in callee_ids]
        return []

    def ended(self, invitation_id: str, accepted: bool) -> None:
        """The server closed an invitation; one ringing out that nobody accepted is over."""
        if not accepted and self._ringing_out(invitation_id):
            self._to(Phase.IDLE)

    # --- receiving --------------------------------------------------------------------

    def received(self, ringing: Ringing) -> list[Effect]:
        """An invitation arrived: it rings here, unless something else is going on."""
        if self.phase is not Phase.IDLE:
            return [DeclineBusy(ringing.invitation_id)]
        self._to(Phase.INCOMING, ringing)
        return []

    @property
    def ringing_here(self) -> Ringing | None:
        """The invitation ringing here, if any (what Accept and Decline answer)."""
        return self.ringing if self.phase is Phase.INCOMING else None

    def accepted_here(self, call_id: str) -> list[Effect]:
        """The server took our accept: the call starts."""
        ringing = self.ringing
        if self.phase is not Phase.INCOMING or ringing is None:
            return []
        self._to(Phase.IN_CALL, ringing, call_id)
        return [StartCall(call_id, ringing.is_video, ringing.is_group)]

    def declining(self) -> Ringing | None:
        """Our decline button, or a failed accept: the invitation ringing here, stopped."""
        ringing = self.ringing_here
        if ringing is not None:
            self._to(Phase.IDLE)
        return ringing

    def stopped_ringing_here(self, invitation_id: str) -> None:
        """The caller cancelled, or we did not answer in time."""
        if self._ringing_here(invitation_id):
            self._to(Phase.IDLE)

    # --- the call and the session ------------------------------------------------------

    def call_ended(self, call_id: str) -> None:
        """The call in progress ended."""
        if self.phase is Phase.IN_CALL and self.call_id == call_id:
            self._to(Phase.IDLE)

    def reset(self) -> None:
        """Signed out or replaced elsewhere: nothing rings, no call."""
        self._to(Phase.IDLE)
