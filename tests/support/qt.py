"""Qt test support: async tests on a qasync loop, and waits that let that loop run.

UI tests are coroutines on a qasync ``QEventLoop`` (see ``tests/ui/conftest.py``), so the
real server fixture, real clients and the widgets share one loop. Inside such a
coroutine ``qtbot.waitUntil``/``waitSignal`` must not be used for anything that needs
asyncio: their nested Qt loop would run other tasks' steps while the test's own task is
executing, which asyncio refuses ("Cannot enter into task ... while another task ... is
being executed"). :func:`wait_until` and :func:`wait_signal` do the same job by awaiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import qasync
import shiboken6
from PySide6.QtCore import QTimer, SignalInstance
from PySide6.QtWidgets import QApplication, QMenu

from app.testing import MenuRecorder as BaseMenuRecorder

POLL_MS = 10


def qasync_loop() -> asyncio.AbstractEventLoop:
    """A fresh qasync loop on the (one) QApplication; pytest-asyncio's loop factory."""
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    # As in main(): windows closing (or a test's last window going away) must not make
    # Qt quit the loop a test or fixture is running on.
    app.setQuitOnLastWindowClosed(False)
    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
    return loop


async def wait_until(
    predicate: Callable[[], object], timeout: float = 5.0, message: str = ""
) -> None:
    """Await until ``predicate()`` is true, checking every 10 ms like ``qtbot.waitUntil``.

    Raises ``AssertionError`` (with ``message``) when it is still false after ``timeout``.
    """
    if predicate():
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    timer = QTimer()
    timer.setInterval(POLL_MS)

    def check() -> None:
        if not done.done() and predicate():
            done.set_result(None)

    timer.timeout.connect(check)
    timer.start()
    try:
        await asyncio.wait_for(done, timeout)
    except TimeoutError:
        raise AssertionError(message or f"condition not met within {timeout} s") from None
    finally:
        timer.stop()
        timer.timeout.disconnect(check)
        # Deleted here, on the GUI thread: a failed wait's traceback would otherwise keep
        # the timer alive until the collector frees it, possibly on a worker thread
        # ("Timers cannot be stopped from another thread", then a crash).
        shiboken6.delete(timer)


async def wait_signal(signal: SignalInstance, timeout: float = 5.0) -> tuple[Any, ...]:
    """Await the next emission of ``signal``; returns its arguments."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def receive(*args: Any) -> None:
        if not future.done():
            future.set_result(args)

    signal.connect(receive)
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        raise AssertionError(f"signal not emitted within {timeout} s") from None
    finally:
        signal.disconnect(receive)


class MenuRecorder(BaseMenuRecorder):
    """The plugin's menu recorder (a page's ``menu_popper``), with a way to choose."""

    def choose(self, value: str) -> None:
        """Trigger the last menu's entry whose data is ``value``."""
        assert self.menus, "no menu was opened"
        if not entry(self.menus[-1], value):
            entries = [a.data() for a in self.menus[-1].actions()]
            raise AssertionError(f"no {value!r} in the menu: {entries}")


def entry(menu: QMenu, value: str) -> bool:
    """Trigger the entry of ``menu`` whose data is ``value``; False when there is none."""
    for action in menu.actions():
        if action.data() == value:
            action.trigger()
            return True
    return False
