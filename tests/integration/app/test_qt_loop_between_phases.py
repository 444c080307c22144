"""Between a window test's phases, Qt events are processed with the asyncio loop running.

pytest-qt processes Qt events after each phase. On a qasync loop, asyncio callbacks due
by then ran outside their loop ("no running event loop"); on a loaded machine a
coroutine being created then was reported "never awaited" in a later test.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

EXAMPLE = """
import asyncio

SEEN = []


async def test_leaves_a_callback_behind(parley_window):
    await parley_window("alice")
    asyncio.get_running_loop().call_later(
        0.02, lambda: SEEN.append(asyncio._get_running_loop() is not None)
    )


def test_it_ran_inside_the_loop():
    assert SEEN == [True]
"""

# A slow machine: the callback falls due after the test, when pytest-qt processes events.
SLOW_MACHINE = """
import time

import pytest


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item):
    result = yield
    time.sleep(0.1)
    return result
"""


def test_callbacks_due_after_a_test_run_inside_the_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=EXAMPLE)
    pytester.makeconftest(SLOW_MACHINE)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)
