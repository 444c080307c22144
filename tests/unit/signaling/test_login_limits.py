"""The sign-in limits: free mistakes, then a doubling lock per account; a bucket of
failures per address; successes never count."""

from __future__ import annotations

import pytest

from signaling.server.login_limits import MAX_LOCK_S, LoginLimits, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_mistakes_are_free_then_each_doubles_the_lock() -> None:
    clock = Clock()
    limits = LoginLimits(clock=clock)
    for _ in range(5):
        assert limits.wait_s("alice", "a") == 0
        limits.failed("alice", "a")
    assert limits.wait_s("alice", "a") == 0
    waits = []
    for _ in range(4):
        limits.failed("alice", "a")
        waits.append(limits.wait_s("alice", "a"))
        clock.now += waits[-1]
    assert waits == [1, 2, 4, 8]
    assert limits.wait_s("bob", "b") == 0  # nobody else waits


def test_the_lock_stops_at_fifteen_minutes_and_a_success_clears_it() -> None:
    clock = Clock()
    limits = LoginLimits(clock=clock, address_burst=1000)
    for _ in range(40):
        limits.failed("alice", "a")
    assert limits.wait_s("alice", "a") == MAX_LOCK_S
    clock.now += MAX_LOCK_S
    limits.succeeded("alice")
    limits.failed("alice", "a")
    assert limits.wait_s("alice", "a") == 0


def test_an_address_guessing_over_many_ids_is_stopped_and_drains() -> None:
    clock = Clock()
    limits = LoginLimits(clock=clock, address_burst=30, address_rate=10 / 60)
    for n in range(30):
        limits.failed(f"user{n}", "10.0.0.9")
    assert limits.wait_s("someone-new", "10.0.0.9") == pytest.approx(6.0)
    assert limits.wait_s("someone-new", "10.0.0.10") == 0
    clock.now += 6.0
    assert limits.wait_s("someone-new", "10.0.0.9") == 0


def test_successes_never_fill_the_bucket() -> None:
    limits = LoginLimits(clock=Clock())
    for n in range(1000):
        limits.succeeded(f"user{n}")
    assert limits.wait_s("anyone", "nat") == 0


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (900, "900")])
def test_retry_after_is_whole_seconds_rounded_up(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header
