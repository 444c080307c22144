"""``app.testing.wait_until``: polls plain and async conditions, and says when one never holds."""

from __future__ import annotations

import pytest

from app.testing import wait_until


async def test_it_returns_once_a_plain_condition_holds() -> None:
    calls = []

    def third_time() -> bool:
        calls.append(1)
        return len(calls) >= 3

    await wait_until(third_time, timeout=5)

    assert len(calls) == 3


async def test_an_async_condition_is_awaited_each_time() -> None:
    calls = []

    async def third_time() -> bool:
        calls.append(1)
        return len(calls) >= 3

    await wait_until(third_time, timeout=5)

    assert len(calls) == 3


async def test_a_condition_that_never_holds_fails_with_the_message() -> None:
    async def never() -> bool:
        return False

    with pytest.raises(AssertionError, match="the call was never forgotten"):
        await wait_until(never, timeout=0.05, message="the call was never forgotten")
