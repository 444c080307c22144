"""The call history: real bus events in, real SQLite files out.

Events are published through a real :class:`EventBus` with the kit's real value types;
the call kit's phases (whom an outgoing call rings) come from :class:`Phases`, which
emits the kit's own :class:`PhaseChanged` values. Whole calls between real clients are
in ``tests/integration/app/test_call_history_flows.py``.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from app.kit.bus import EventBus
from app.kit.call.invitations import Phase, PhaseChanged, Refused, Ringing, Unreachable
from app.kit.history.recorder import SCHEMA_VERSION, CallHistory
from app.kit.types import CallEndEvent, CallEndReason, User
from app.kit.views.history import Ago, CallDirection, CallEntry, CallOutcome, time_ago
from signaling.enums import CallType

ME = User("me", "Me")
BOB = User("bob", "Bob")
CAROL = User("carol", "Carol")


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Phases:
    """The call kit's phase feed (``CallInvitationService.subscribe``) and signed-in user."""

    def __init__(self, user: User | None = ME) -> None:
        self.user = user
        self.listeners: list[Callable[[PhaseChanged], None]] = []

    def subscribe(self, listener: Callable[[PhaseChanged], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def subscribe_unreachable(self, listener: Callable[[Unreachable], None]) -> Callable[[], None]:
        return lambda: None  # tests/integration/app/test_call_history_flows.py has those

    def subscribe_refused(self, listener: Callable[[Refused], None]) -> Callable[[], None]:
        return lambda: None  # likewise

    def ring_out(self, call_id: str, callees: tuple[User, ...], is_video: bool) -> None:
        # As InvitationService.send() does: callees are known by id only, names follow.
        ringing = Ringing(
            "inv-" + call_id, call_id, ME, tuple(User(u.id, u.id) for u in callees), is_video
        )
        for listener in list(self.listeners):
            listener(PhaseChanged(Phase.OUTGOING, ringing, None))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def history(db_path: Path, clock: Clock) -> CallHistory:
    return CallHistory(db_path, clock=clock)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


async def ring_in(bus: EventBus, call_id: str, caller: User = BOB, video: bool = False) -> None:
    kind = CallType.VIDEO if video else CallType.VOICE
    await bus.invitation.publish(
        lambda e: e.on_incoming_call_received, call_id, caller, kind, (ME,), ""
    )


async def end_call(bus: EventBus) -> None:
    await bus.call.end(lambda e: e.on_call_end, CallEndEvent(CallEndReason.REMOTE_HANG_UP))


def outcomes(history: CallHistory) -> list[tuple[CallDirection, CallOutcome]]:
    return [(e.direction, e.outcome) for e in history.entries()]


# -- recording from the bus ---------------------------------------------------------------


async def test_incoming_timeout_and_caller_cancel_are_missed(
    history: CallHistory, bus: EventBus, clock: Clock
) -> None:
    history.follow(bus, Phases())
    await ring_in(bus, "c1", video=True)
    clock.now += 30
    await bus.invitation.publish(lambda e: e.on_incoming_call_timeout, "c1", BOB)
    clock.now += 60
    await ring_in(bus, "c2", caller=CAROL)
    await bus.invitation.publish(lambda e: e.on_incoming_call_canceled, "c2", CAROL, "")

    newest, oldest = history.entries()
    assert (newest.call_id, newest.outcome, newest.peers, newest.is_video) == (
        "c2",
        CallOutcome.MISSED,
        (CAROL,),
        False,
    )
    assert (oldest.call_id, oldest.outcome, oldest.peers, oldest.is_video) == (
        "c1",
        CallOutcome.MISSED,
        (BOB,),
        True,
    )
    assert oldest.started_at == clock.now - 90  # when it began ringing, not when it ended
    assert (oldest.duration_s, oldest.account) == (0, "me")
    assert history.unseen_missed_count() == 2
    assert history.missed_count_since(clock.now - 1) == 1


async def test_incoming_declined_and_answered_with_duration(
    history: CallHistory, bus: EventBus, clock: Clock
) -> None:
    history.follow(bus)  # the bus alone is enough for incoming calls
    await ring_in(bus, "c1")
    await bus.invitation.publish(lambda e: e.on_incoming_call_decline_button_pressed)
    await ring_in(bus, "c2", video=True)
    clock.now += 4
    await bus.invitation.publish(lambda e: e.on_incoming_call_accept_button_pressed)
    clock.now += 125
    await end_call(bus)

    answered, declined = history.entries()
    assert (declined.direction, declined.outcome) == (CallDirection.INCOMING, CallOutcome.DECLINED)
    assert (answered.outcome, answered.duration_s, answered.is_video) == (
        CallOutcome.ANSWERED,
        125,
        True,
    )
    assert history.unseen_missed_count() == 0


async def test_outgoing_outcomes_use_the_kits_phases(
    history: CallHistory, bus: EventBus, clock: Clock
) -> None:
    phases = Phases()
    history.follow(bus, phases)
    # Answered: the callee's real name replaces the id the ringing knew.
    phases.ring_out("o1", (BOB,), is_video=True)
    clock.now += 3
    await bus.invitation.publish(lambda e: e.on_outgoing_call_accepted, "o1", BOB)
    clock.now += 61
    await end_call(bus)
    # Declined, busy, unanswered, cancelled.
    phases.ring_out("o2", (BOB,), is_video=False)
    await bus.invitation.publish(lambda e: e.on_outgoing_call_declined, "o2", BOB, "")
    phases.ring_out("o3", (CAROL,), is_video=False)
    await bus.invitation.publish(lambda e: e.on_outgoing_call_rejected_cause_busy, "o3", CAROL, "")
    phases.ring_out("o4", (BOB,), is_video=True)
    await bus.invitation.publish(lambda e: e.on_outgoing_call_timeout, "o4", (BOB,), True)
    phases.ring_out("o5", (CAROL,), is_video=True)
    await bus.invitation.publish(lambda e: e.on_outgoing_call_cancel_button_pressed)

    entries = {e.call_id: e for e in history.entries()}
    assert {k: (e.outcome, e.is_video) for k, e in entries.items()} == {
        "o1": (CallOutcome.ANSWERED, True),
        "o2": (CallOutcome.DECLINED, False),
        "o3": (CallOutcome.BUSY, False),
        "o4": (CallOutcome.NO_ANSWER, True),
        "o5": (CallOutcome.CANCELLED, True),
    }
    assert all(e.direction is CallDirection.OUTGOING for e in entries.values())
    assert entries["o1"].peers == (BOB,)
    assert entries["o1"].duration_s == 61
    assert entries["o5"].peers == (User("carol", "carol"),)  # never answered: id only
    assert history.unseen_missed_count() == 0


async def test_a_late_answer_to_a_finished_call_adds_nothing(
    history: CallHistory, bus: EventBus
) -> None:
    history.follow(bus)  # the bus alone: outgoing calls are learnt from their answers
    await bus.invitation.publish(lambda e: e.on_outgoing_call_accepted, "g1", BOB)
    await end_call(bus)
    # A fellow callee's invitation times out after the call ended.
    await bus.invitation.publish(lambda e: e.on_outgoing_call_timeout, "g1", (CAROL,), True)
    assert outcomes(history) == [(CallDirection.OUTGOING, CallOutcome.ANSWERED)]


async def test_group_invitation_lists_the_other_callees_but_not_me(
    history: CallHistory, bus: EventBus
) -> None:
    history.follow(bus, Phases())
    await bus.invitation.publish(
        lambda e: e.on_incoming_call_received, "g1", BOB, CallType.VOICE, (ME, CAROL), ""
    )
    await bus.invitation.publish(lambda e: e.on_incoming_call_timeout, "g1", BOB)

    (entry,) = history.entries()
    assert entry.peers == (BOB, CAROL)
    assert entry.user_ids == ["bob", "carol"]


async def test_a_call_left_ringing_is_settled_by_the_next_and_by_close(
    history: CallHistory, bus: EventBus, db_path: Path, clock: Clock
) -> None:
    history.follow(bus, Phases())
    await ring_in(bus, "c1")  # declined by the kit's reject(), which presses no button
    await ring_in(bus, "c2")
    assert outcomes(history) == [(CallDirection.INCOMING, CallOutcome.MISSED)]
    history.close()
    history.close()  # idempotent
    reopened = CallHistory(db_path, clock=clock)
    assert [e.call_id for e in reopened.entries()] == ["c2", "c1"]
    reopened.close()


async def test_unfollowing_stops_recording(history: CallHistory, bus: EventBus) -> None:
    phases = Phases()
    stop = history.follow(bus, phases)
    stop()
    assert phases.listeners == []
    await ring_in(bus, "c1")
    await bus.invitation.publish(lambda e: e.on_incoming_call_timeout, "c1", BOB)
    assert history.entries() == ()


# -- reading, seen, clearing, accounts ------------------------------------------------------


async def test_mark_seen_clear_and_change_notifications(
    history: CallHistory, bus: EventBus
) -> None:
    changes: list[int] = []
    unsubscribe = history.subscribe(lambda: changes.append(len(history.entries())))
    history.follow(bus, Phases())
    await ring_in(bus, "c1")
    await bus.invitation.publish(lambda e: e.on_incoming_call_timeout, "c1", BOB)
    assert (history.unseen_missed_count(), changes) == (1, [1])

    history.mark_seen()
    assert history.unseen_missed_count() == 0
    assert history.entries()[0].seen is True
    assert history.missed_count_since(0) == 1  # still missed, only no longer new
    history.mark_seen()  # nothing new: no change announced
    assert changes == [1, 1]

    history.clear()
    assert (history.entries(), changes) == ((), [1, 1, 0])
    unsubscribe()
    history.clear()
    assert changes == [1, 1, 0]


async def test_each_account_sees_its_own_calls(history: CallHistory, bus: EventBus) -> None:
    kit = Phases(User("alice", "Alice"))
    history.follow(bus, kit)
    await ring_in(bus, "a1", caller=CAROL)
    await bus.invitation.publish(lambda e: e.on_incoming_call_timeout, "a1", CAROL)
    kit.user = User("dave", "Dave")  # alice signed out, dave signed in on this machine
    await ring_in(bus, "d1", caller=CAROL)
    await bus.invitation.publish(lambda e: e.on_incoming_call_timeout, "d1", CAROL)
    assert len(history.entries()) == 2  # no account chosen: everyone's

    history.set_account("dave")
    assert [e.call_id for e in history.entries()] == ["d1"]
    history.mark_seen()
    history.clear()  # dave's only
    assert history.entries() == ()
    history.set_account("alice")
    assert [(e.call_id, e.account) for e in history.entries()] == [("a1", "alice")]
    assert history.unseen_missed_count() == 1


def test_a_listener_that_raises_is_logged_and_the_others_still_run(
    history: CallHistory, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    history.subscribe(broken)
    history.subscribe(lambda: seen.append("ok"))
    with caplog.at_level(logging.ERROR, "parley.history"):
        history.set_account("alice")
    assert seen == ["ok"]
    assert "listener" in caplog.text


# -- the file: schema, bound, corruption ----------------------------------------------------


def entry(call_id: str, started_at: float, account: str = "me") -> CallEntry:
    return CallEntry(
        entry_id=0,
        call_id=call_id,
        direction=CallDirection.INCOMING,
        outcome=CallOutcome.MISSED,
        peers=(BOB,),
        is_video=False,
        started_at=started_at,
        seen=False,
        account=account,
    )


def test_the_schema_version_is_stamped_and_kept(db_path: Path, clock: Clock) -> None:
    history = CallHistory(db_path, clock=clock)
    assert history.is_persistent
    assert history.record(entry("c1", 10.0)) is True
    assert history.entries()[0].entry_id > 0
    history.close()
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    reopened = CallHistory(db_path, clock=clock)
    assert [e.call_id for e in reopened.entries()] == ["c1"]
    reopened.close()


def test_a_file_of_the_first_schema_is_upgraded_with_its_calls(db_path: Path, clock: Clock) -> None:
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path)
    db.executescript(
        """
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL DEFAULT '',
            call_id TEXT NOT NULL, direction TEXT NOT NULL, outcome TEXT NOT NULL,
            peers TEXT NOT NULL, is_video INTEGER NOT NULL, started_at REAL NOT NULL,
            duration_s INTEGER NOT NULL DEFAULT 0, seen INTEGER NOT NULL DEFAULT 1);
        INSERT INTO calls (account, call_id, direction, outcome, peers, is_video, started_at,
            duration_s) VALUES ('me', 'old', 'outgoing', 'answered', '[["bob", "Bob"]]', 0, 5, 61);
        PRAGMA user_version = 1;
        """
    )
    db.close()

    history = CallHistory(db_path, clock=clock)
    (old,) = history.entries()
    history.close()

    assert (old.call_id, old.duration_s, old.in_progress, old.interrupted) == (
        "old",
        61,
        False,
        False,
    )


def test_a_call_begun_then_completed_is_one_row_whoever_is_shown(
    db_path: Path, clock: Clock
) -> None:
    history = CallHistory(db_path, clock=clock)
    history.set_account("someone-else")  # the list shows another account meanwhile
    answered = dataclasses.replace(
        entry("c1", 10.0), outcome=CallOutcome.ANSWERED, seen=True, account="me"
    )

    entry_id = history.begin(answered)
    assert entry_id is not None
    history.set_account("me")
    (going,) = history.entries()
    assert going.in_progress
    assert history.complete(entry_id, dataclasses.replace(answered, duration_s=42))

    (done,) = history.entries()
    assert (done.entry_id, done.duration_s, done.in_progress) == (entry_id, 42, False)
    history.close()


def test_a_file_from_a_newer_parley_is_left_alone(
    db_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with caplog.at_level(logging.ERROR, "parley.history"):
        history = CallHistory(db_path, clock=clock)
    assert not history.is_persistent  # works, in memory, for this session
    assert history.record(entry("c1", 1.0)) is True
    history.close()
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 99
    db.close()
    assert "newer" in caplog.text


def test_only_the_last_entries_are_kept_per_account(db_path: Path, clock: Clock) -> None:
    history = CallHistory(db_path, limit=5, clock=clock)
    for n in range(8):
        history.record(entry(f"c{n}", float(n)))
    history.record(entry("other", 0.0, account="someone-else"))
    history.set_account("me")
    assert [e.call_id for e in history.entries()] == ["c7", "c6", "c5", "c4", "c3"]
    history.set_account("someone-else")
    assert [e.call_id for e in history.entries()] == ["other"]
    history.close()


def test_the_default_bound_is_500(db_path: Path, clock: Clock) -> None:
    history = CallHistory(db_path, clock=clock)
    for n in range(510):
        history.record(entry(f"c{n}", float(n)))
    entries = history.entries()
    assert len(entries) == 500
    assert entries[-1].call_id == "c10"
    history.close()


def test_a_garbage_file_is_moved_aside_and_history_starts_afresh(
    db_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database, " * 200)
    with caplog.at_level(logging.WARNING, "parley.history"):
        history = CallHistory(db_path, clock=clock)
    assert history.is_persistent
    assert history.entries() == ()
    assert history.record(entry("c1", 1.0)) is True
    history.close()
    aside = list(db_path.parent.glob("history.sqlite3.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes().startswith(b"this is not a database")
    assert "unreadable" in caplog.text
    assert [e.call_id for e in CallHistory(db_path, clock=clock).entries()] == ["c1"]


def test_a_damaged_page_is_caught_on_open(db_path: Path, clock: Clock) -> None:
    history = CallHistory(db_path, clock=clock)
    for n in range(300):
        history.record(entry(f"c{n}", float(n)))
    history.close()
    # Checkpointed and closed: overwrite the middle of the table's pages with noise.
    data = bytearray(db_path.read_bytes())
    assert len(data) > 16_384
    data[8192:16_384] = b"\xff" * 8192
    db_path.write_bytes(bytes(data))
    reopened = CallHistory(db_path, clock=clock)
    assert reopened.is_persistent
    assert reopened.entries() == ()
    assert len(list(db_path.parent.glob("history.sqlite3.corrupt-*"))) == 1
    reopened.close()


def test_an_unopenable_path_keeps_the_history_in_memory(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "blocked").write_text("a file where the directory should be")
    with caplog.at_level(logging.ERROR, "parley.history"):
        history = CallHistory(tmp_path / "blocked" / "history.sqlite3", clock=clock)
    assert not history.is_persistent
    assert history.record(entry("c1", 1.0)) is True
    assert [e.call_id for e in history.entries()] == ["c1"]
    history.close()


def test_unreadable_rows_are_skipped(db_path: Path, clock: Clock) -> None:
    history = CallHistory(db_path, clock=clock)
    history.record(entry("good", 2.0))
    history.close()
    db = sqlite3.connect(db_path)
    db.execute(
        "INSERT INTO calls (call_id, direction, outcome, peers, is_video, started_at)"
        " VALUES ('bad', 'sideways', 'missed', '[]', 0, 3.0)"
    )
    db.commit()
    db.close()
    assert [e.call_id for e in CallHistory(db_path, clock=clock).entries()] == ["good"]


# -- values -----------------------------------------------------------------------------


def test_entries_validate_their_fields() -> None:
    with pytest.raises(ValueError, match="duration"):
        CallEntry(
            entry_id=1,
            call_id="c",
            direction=CallDirection.INCOMING,
            outcome=CallOutcome.MISSED,
            peers=(BOB,),
            is_video=False,
            started_at=1.0,
            duration_s=5,
        )
    with pytest.raises(TypeError, match="peers"):
        CallEntry(
            entry_id=1,
            call_id="c",
            direction=CallDirection.INCOMING,
            outcome=CallOutcome.MISSED,
            peers=[BOB],  # type: ignore[arg-type]
            is_video=False,
            started_at=1.0,
        )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, (Ago.NOW, 0)),
        (59, (Ago.NOW, 0)),
        (60, (Ago.MINUTES, 1)),
        (3599, (Ago.MINUTES, 59)),
        (3600, (Ago.HOURS, 1)),
        (86_399, (Ago.HOURS, 23)),
        (86_400, (Ago.DAYS, 1)),
        (7 * 86_400 - 1, (Ago.DAYS, 6)),
        (7 * 86_400, (Ago.DATE, 0)),
        (-30, (Ago.NOW, 0)),  # a clock that stepped back
    ],
)
def test_time_ago(seconds: float, expected: tuple[Ago, int]) -> None:
    assert time_ago(1000.0, 1000.0 + seconds) == expected
