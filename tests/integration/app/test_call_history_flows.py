"""Real calls between headless bots land in each one's call history with the right outcome.

Real server, real invitation services and call sessions, real SQLite files. Only the
history's clock is ours, so durations are exact instead of "about a second".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.kit.bots.call import Answer, Bot
from app.kit.call.invitations import Phase
from app.kit.config import CallInvitationConfig
from app.kit.history.recorder import CallHistory
from app.kit.types import User
from app.kit.views.history import CallDirection, CallEntry, CallOutcome
from app.testing import BotFactory, wait_until


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def histories(tmp_path: Path, clock: Clock) -> Iterator[dict[str, CallHistory]]:
    """One history file per bot, closed after the test."""
    made: dict[str, CallHistory] = {}
    yield made
    for history in made.values():
        history.close()


def follow(histories: dict[str, CallHistory], bot: Bot, path: Path, clock: Clock) -> CallHistory:
    history = CallHistory(path / f"{bot.user.id}.sqlite3", clock=clock)
    history.follow(bot.bus, bot.kit)
    histories[bot.user.id] = history
    return history


def idle(bot: Bot) -> bool:
    invitations = bot.kit.invitations
    return invitations is not None and invitations.phase is Phase.IDLE


def only(history: CallHistory) -> CallEntry:
    (entry,) = history.entries()
    return entry


async def test_an_unanswered_call_is_missed_for_the_callee(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    quick = CallInvitationConfig(timeout_s=1)
    alice = await parley_bot("alice", invitation_config=quick)
    bob = await parley_bot("bob")  # never answers
    alice_history = follow(histories, alice, tmp_path, clock)
    bob_history = follow(histories, bob, tmp_path, clock)

    await alice.call(["bob"], video=True)
    await bob.expect("invitation.on_incoming_call_timeout", timeout=5)
    await alice.expect("invitation.on_outgoing_call_timeout", timeout=5)

    missed = only(bob_history)
    assert (missed.direction, missed.outcome, missed.is_video) == (
        CallDirection.INCOMING,
        CallOutcome.MISSED,
        True,
    )
    assert (missed.peers, missed.account, missed.seen) == ((alice.user,), "bob", False)
    assert bob_history.unseen_missed_count() == 1
    unanswered = only(alice_history)
    assert (unanswered.direction, unanswered.outcome) == (
        CallDirection.OUTGOING,
        CallOutcome.NO_ANSWER,
    )
    assert unanswered.user_ids == ["bob"]  # the timeout names no one: the id stands in
    assert unanswered.call_id == missed.call_id
    # Written down for good: a fresh reader of bob's file sees the same call.
    again = CallHistory(tmp_path / "bob.sqlite3")
    assert again.entries() == (missed,)
    again.close()


async def test_an_answered_call_records_its_duration_on_both_sides(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob")
    alice_history = follow(histories, alice, tmp_path, clock)
    bob_history = follow(histories, bob, tmp_path, clock)
    rang_at = clock.now

    await alice.call(["bob"], video=False)
    await bob.expect("invitation.on_incoming_call_received")
    clock.now += 5  # ringing time is not call time
    await bob.answer()
    await alice.expect("call.user.on_enter")
    await bob.expect("call.user.on_enter")
    # Written down as it starts (a killed app keeps it), completed when it ends.
    assert [(e.outcome, e.in_progress) for e in alice_history.entries()] == [
        (CallOutcome.ANSWERED, True)
    ]
    assert only(bob_history).in_progress
    clock.now += 42
    assert await alice.hang_up() is True
    await bob.expect("call.on_call_end")

    outgoing, incoming = only(alice_history), only(bob_history)
    assert (outgoing.direction, outgoing.outcome, outgoing.duration_s) == (
        CallDirection.OUTGOING,
        CallOutcome.ANSWERED,
        42,
    )
    assert (incoming.direction, incoming.outcome, incoming.duration_s) == (
        CallDirection.INCOMING,
        CallOutcome.ANSWERED,
        42,
    )
    assert outgoing.peers == (User("bob", "Bob"),)  # the real name, from the answer
    assert incoming.peers == (User("alice", "Alice"),)
    assert outgoing.is_video is incoming.is_video is False
    assert outgoing.started_at == incoming.started_at == rang_at
    assert (outgoing.in_progress, outgoing.interrupted) == (False, False)
    assert (incoming.in_progress, incoming.interrupted) == (False, False)
    assert bob_history.unseen_missed_count() == 0


async def test_a_call_the_app_dies_during_stays_in_the_history(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob")
    follow(histories, alice, tmp_path, clock)
    follow(histories, bob, tmp_path, clock)
    await alice.call(["bob"], video=True)
    await bob.expect("invitation.on_incoming_call_received")
    await bob.answer()
    await bob.expect("call.user.on_enter")

    # Bob's app is killed now: nothing will settle his call; the next run reads the file.
    after_restart = CallHistory(tmp_path / "bob.sqlite3", clock=clock)
    try:
        (entry,) = after_restart.entries()
    finally:
        after_restart.close()

    assert (entry.direction, entry.outcome, entry.peers, entry.is_video) == (
        CallDirection.INCOMING,
        CallOutcome.ANSWERED,
        (User("alice", "Alice"),),
        True,
    )
    assert (entry.interrupted, entry.in_progress, entry.duration_s) == (True, False, 0)


async def test_declined_and_cancelled_calls(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.DECLINE)
    carol = await parley_bot("carol")
    alice_history = follow(histories, alice, tmp_path, clock)
    bob_history = follow(histories, bob, tmp_path, clock)
    carol_history = follow(histories, carol, tmp_path, clock)

    await alice.call(["bob"], video=True)
    await alice.expect("invitation.on_outgoing_call_declined")
    await wait_until(lambda: idle(alice))  # the invitation's end follows the refusal
    await alice.call(["carol"], video=False)
    await carol.expect("invitation.on_incoming_call_received")
    await alice.cancel()
    await carol.expect("invitation.on_incoming_call_canceled")

    assert [(e.outcome, e.is_video, e.user_ids) for e in alice_history.entries()] == [
        (CallOutcome.CANCELLED, False, ["carol"]),
        (CallOutcome.DECLINED, True, ["bob"]),
    ]
    assert only(bob_history).outcome is CallOutcome.DECLINED
    assert only(carol_history).outcome is CallOutcome.MISSED  # the caller gave up


async def test_a_group_call_lists_every_callee(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await parley_bot("carol", on_invited=Answer.DECLINE)
    alice_history = follow(histories, alice, tmp_path, clock)
    bob_history = follow(histories, bob, tmp_path, clock)

    await alice.call(["bob", "carol"], video=True)
    await alice.expect("invitation.on_outgoing_call_declined")
    await alice.expect("call.user.on_enter")
    clock.now += 7
    assert await bob.hang_up() is True
    await alice.expect("call.on_call_end")

    placed = only(alice_history)
    assert (placed.direction, placed.outcome, placed.is_video, placed.duration_s) == (
        CallDirection.OUTGOING,
        CallOutcome.ANSWERED,
        True,
        7,
    )
    assert set(placed.user_ids) == {"bob", "carol"}
    joined = only(bob_history)
    assert (joined.outcome, set(joined.user_ids)) == (CallOutcome.ANSWERED, {"alice", "carol"})


async def test_a_group_call_nobody_joins_lists_its_callees(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice", abandon_after_s=0.3)
    await parley_bot("bob")  # neither answers
    await parley_bot("carol")
    alice_history = follow(histories, alice, tmp_path, clock)

    await alice.call(["bob", "carol"], video=False)
    await alice.expect("call.on_call_end", timeout=5)

    placed = only(alice_history)
    assert (placed.direction, placed.outcome, placed.is_video, placed.duration_s) == (
        CallDirection.OUTGOING,
        CallOutcome.NO_ANSWER,
        False,
        0,
    )
    assert sorted(placed.user_ids) == ["bob", "carol"]  # from the invitations' end


async def test_calling_someone_not_online_is_kept_as_not_online(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice")
    alice_history = follow(histories, alice, tmp_path, clock)

    await alice.call(["bobb"], video=True)  # a typo, or bob is away: nothing rings
    await alice.expect("invitation.on_error", timeout=5)

    placed = only(alice_history)
    assert (placed.direction, placed.outcome, placed.is_video, placed.user_ids) == (
        CallDirection.OUTGOING,
        CallOutcome.OFFLINE,
        True,
        ["bobb"],
    )
    assert idle(alice)


async def test_a_group_call_with_everyone_away_is_not_online(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice", abandon_after_s=0.3)
    alice_history = follow(histories, alice, tmp_path, clock)

    await alice.call(["dan", "erin"], video=False)
    await alice.expect("call.on_call_end", timeout=5)

    placed = only(alice_history)
    assert (placed.outcome, sorted(placed.user_ids)) == (CallOutcome.OFFLINE, ["dan", "erin"])


async def test_someone_not_online_in_a_group_call_is_listed_with_the_others(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    alice_history = follow(histories, alice, tmp_path, clock)

    await alice.call(["bob", "ghost"], video=False)
    await wait_until(lambda: bob.kit.session is not None)
    await alice.hang_up()
    await wait_until(lambda: len(alice_history.entries()) == 1)

    placed = only(alice_history)
    assert (placed.outcome, sorted(placed.user_ids)) == (CallOutcome.ANSWERED, ["bob", "ghost"])


async def test_do_not_disturb_refuses_as_busy_without_ringing_and_keeps_a_missed_call(
    parley_bot: BotFactory, histories: dict[str, CallHistory], tmp_path: Path, clock: Clock
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob")
    alice_history = follow(histories, alice, tmp_path, clock)
    alice.kit.do_not_disturb = True

    await bob.call(["alice"], video=True)
    await bob.expect("invitation.on_outgoing_call_rejected_cause_busy", timeout=5)

    await wait_until(lambda: len(alice_history.entries()) == 1)  # after the decline's ack
    assert alice.saw("invitation.on_incoming_call_received") == []  # nothing rang
    assert idle(alice)
    missed = only(alice_history)
    assert (missed.direction, missed.outcome, missed.is_video, missed.user_ids) == (
        CallDirection.INCOMING,
        CallOutcome.MISSED,
        True,
        ["bob"],
    )
    assert alice_history.unseen_missed_count() == 1

    alice.kit.do_not_disturb = False  # and calls ring again
    await bob.call(["alice"], video=False)
    await alice.expect("invitation.on_incoming_call_received", timeout=5)
