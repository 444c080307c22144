"""A per-phase watchdog: a hung set-up, test or teardown ends the run with every stack.

pytest-timeout guards a test until one of its phases fails, then stops guarding
(``pytest_exception_interact`` cancels its timer): a teardown that hangs after a failed
test hangs the run forever. Its signal method cannot interrupt a qasync loop idling in
Qt's C++ either. So each phase here gets a timer of its own, in a thread, re-armed for
every phase whatever happened before, by one watchdog thread:

- at ``PARLEY_PHASE_LIMIT_S`` (default 150 s, above pytest-timeout's 120 s so that it
  fails a plain hung test first) it prints which test and phase hung, dumps the stack of
  every thread and ends the process with status 3;
- should even that thread not get to run (the GIL held by a stuck C call),
  ``faulthandler`` dumps the stacks and ends the process 15 s later, from C.

Helper daemons die with the process (``signaling.server.child_processes.die_with_parent``).
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import threading
import time
from collections.abc import Iterable, Iterator

import pytest

ENV_LIMIT = "PARLEY_PHASE_LIMIT_S"
DEFAULT_LIMIT_S = 150.0
BACKSTOP_S = 15.0
EXIT_STATUS = 3


_stderr_fd = 2


def pytest_configure(config: pytest.Config) -> None:
    global _stderr_fd, _watchdog
    _stderr_fd = _real_stderr_fd(config)
    _watchdog = Watchdog()  # now: tests that check for leaked threads see it as theirs


def _real_stderr_fd(config: pytest.Config) -> int:
    """The run's own stderr: while a test runs, fd 2 is pytest's capture file, which
    nobody reads once the process is ended. pytest keeps a copy of the real one."""
    capman = config.pluginmanager.getplugin("capturemanager")
    capturing = getattr(capman, "_global_capturing", None)
    saved = getattr(getattr(capturing, "err", None), "targetfd_save", None)
    return saved if isinstance(saved, int) else 2


def phase_limit() -> float:
    """Seconds one phase of a test may take before the run is ended."""
    return float(os.environ.get(ENV_LIMIT, DEFAULT_LIMIT_S))


class Watchdog:
    """One thread for the whole run (started before any test looks for leaked threads),
    with at most one phase armed at a time; faulthandler's C timer as the backstop."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._armed: tuple[str, str, float, float] | None = None  # nodeid, phase, limit, due
        self._thread = threading.Thread(target=self._run, name="parley watchdog", daemon=True)
        self._thread.start()

    def arm(self, nodeid: str, phase: str, limit_s: float) -> None:
        faulthandler.dump_traceback_later(limit_s + BACKSTOP_S, exit=True, file=_stderr_fd)
        with self._lock:
            self._armed = (nodeid, phase, limit_s, time.monotonic() + limit_s)
            self._lock.notify()

    def disarm(self) -> None:
        with self._lock:
            self._armed = None
            self._lock.notify()
        faulthandler.cancel_dump_traceback_later()

    def _run(self) -> None:
        with self._lock:
            while True:
                armed = self._armed
                if armed is None:
                    self._lock.wait()
                    continue
                left = armed[3] - time.monotonic()
                if left > 0:
                    self._lock.wait(left)
                    continue
                _expired(*armed[:3])


def _expired(nodeid: str, phase: str, limit_s: float) -> None:
    message = (
        f"\n\nwatchdog: {nodeid} is still in {phase} after {limit_s:.0f} s; "
        "the stacks of every thread follow, then the run ends.\n"
    )
    os.write(_stderr_fd, message.encode())
    faulthandler.dump_traceback(file=_stderr_fd, all_threads=True)
    os.write(_stderr_fd, _task_stacks().encode(errors="replace"))
    os._exit(EXIT_STATUS)


def _task_stacks() -> str:
    """Where each unfinished asyncio task waits: a hung coroutine shows up here, not in
    the threads' stacks (read from this thread: good enough for a post-mortem)."""
    # asyncio keeps every task in a module-level WeakSet; all_tasks() wants the loop's
    # thread, which is the one that hung.
    every: Iterable[asyncio.Task[object]] = getattr(asyncio.tasks, "_all_tasks", ())
    lines = ["\nUnfinished asyncio tasks (innermost frame last):\n"]
    try:
        for task in list(every):
            if task.done():
                continue
            lines.append(f"  {task.get_name()}:\n")
            awaitable: object = task.get_coro()
            # Each suspended coroutine awaits the next one (cr_await), down to a future.
            while awaitable is not None:
                frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
                if frame is not None:
                    code = frame.f_code
                    lines.append(f"    {code.co_filename}:{frame.f_lineno} in {code.co_name}\n")
                awaitable = getattr(awaitable, "cr_await", None) or getattr(
                    awaitable, "gi_yieldfrom", None
                )
    except RuntimeError as exc:  # the set changed under us
        lines.append(f"  (listing stopped: {exc})\n")
    return "".join(lines)


_watchdog: Watchdog | None = None


def _watch(item: pytest.Item, phase: str) -> Iterator[None]:
    assert _watchdog is not None, "pytest_configure starts the watchdog"
    _watchdog.arm(item.nodeid, phase, phase_limit())
    try:
        yield
    finally:
        _watchdog.disarm()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _watch(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _watch(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    return (yield from _watch(item, "teardown"))
