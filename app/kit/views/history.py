"""What the call history shows: one immutable :class:`CallEntry` per past call.

The contract between the Qt-free :class:`~app.kit.history.recorder.CallHistory` and
``widgets/call_history_list.py``: the history stores and returns these values, the list
renders them. Kept apart from the service so the widget imports nothing but values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.kit.types import User

__all__ = ["Ago", "CallDirection", "CallEntry", "CallOutcome", "time_ago"]


class CallDirection(StrEnum):
    """Who placed the call."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


class CallOutcome(StrEnum):
    """How the call went, from the local user's side."""

    #: Someone answered: a call took place (``duration_s`` says how long).
    ANSWERED = "answered"
    #: Incoming, and the local user never answered: it timed out or the caller gave up.
    MISSED = "missed"
    #: Declined: by the local user (incoming) or by the callee (outgoing).
    DECLINED = "declined"
    #: Outgoing, and the callee was in another call.
    BUSY = "busy"
    #: Outgoing, and nobody answered in time.
    NO_ANSWER = "no_answer"
    #: Outgoing, and the local user cancelled it while it rang.
    CANCELLED = "cancelled"
    #: Outgoing, and the callee was not online (or no such user: the server cannot tell).
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEntry:
    """One call of the history, as stored and as shown.

    ``peers`` are the other people of the call (the caller and any fellow callees for
    an incoming call, the callees for an outgoing one), never the local user.
    ``started_at`` is when it began ringing (Unix seconds); ``duration_s`` counts from
    the answer to the end and is 0 unless the outcome is ``ANSWERED``.
    """

    entry_id: int
    call_id: str
    direction: CallDirection
    outcome: CallOutcome
    peers: tuple[User, ...]
    is_video: bool
    started_at: float
    duration_s: int = 0
    #: False for a missed call the user has not looked at yet (see ``mark_seen``).
    seen: bool = True
    #: The signed-in user the call belonged to ("" when not known).
    account: str = ""
    #: Answered and still going: written down as it began, completed when it ends.
    in_progress: bool = False
    #: Answered, and the app stopped during it (killed, crashed, power cut): how long it
    #: lasted is unknown (``duration_s`` is 0).
    interrupted: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.direction, CallDirection):
            raise TypeError(f"CallEntry.direction must be a CallDirection, not {self.direction!r}")
        if not isinstance(self.outcome, CallOutcome):
            raise TypeError(f"CallEntry.outcome must be a CallOutcome, not {self.outcome!r}")
        if not isinstance(self.peers, tuple) or not all(isinstance(p, User) for p in self.peers):
            raise TypeError("CallEntry.peers must be a tuple of User")
        if not isinstance(self.is_video, bool):
            raise TypeError("CallEntry.is_video must be a bool")
        if isinstance(self.duration_s, bool) or not isinstance(self.duration_s, int):
            raise TypeError("CallEntry.duration_s must be an int")
        if self.duration_s < 0:
            raise ValueError("CallEntry.duration_s must not be negative")
        if self.duration_s and self.outcome is not CallOutcome.ANSWERED:
            raise ValueError("only an answered call has a duration")
        if self.started_at < 0:
            raise ValueError("CallEntry.started_at must not be negative")

    @property
    def is_missed(self) -> bool:
        return self.outcome is CallOutcome.MISSED

    @property
    def user_ids(self) -> list[str]:
        """Whom "Call back" calls: every peer, in the order they were recorded."""
        return [peer.id for peer in self.peers]


class Ago(StrEnum):
    """The unit a row's "… ago" is told in."""

    NOW = "now"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    #: A week or more: a date reads better than a count.
    DATE = "date"


def time_ago(started_at: float, now: float) -> tuple[Ago, int]:
    """How long before ``now`` a call started, as ``(unit, whole count)``.

    Qt-free so the rounding is tested once; the widget translates the words.
    """
    seconds = max(0.0, now - started_at)
    if seconds < 60:
        return (Ago.NOW, 0)
    if seconds < 3600:
        return (Ago.MINUTES, int(seconds // 60))
    if seconds < 86_400:
        return (Ago.HOURS, int(seconds // 3600))
    if seconds < 7 * 86_400:
        return (Ago.DAYS, int(seconds // 86_400))
    return (Ago.DATE, 0)
