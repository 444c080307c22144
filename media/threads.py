"""Running a blocking call in its own short-lived thread, awaitable and time-limited.

A dedicated thread (rather than the loop's default executor) ends when the call does,
so closing a device object leaves no idle worker threads behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def call_with_timeout(fn: Callable[[], T], timeout_s: float, name: str) -> tuple[bool, T | None]:
    """Run ``fn`` in a daemon thread; (True, result) or (False, None) on timeout.

    A call that times out keeps running in its daemon thread (a hung driver cannot be
    interrupted); its result is discarded.
    """
    box: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            box.append(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        return False, None
    if errors:
        raise errors[0]
    return True, box[0]


async def run_in_thread(fn: Callable[[], T], name: str) -> T:
    """Await ``fn()`` run in a new daemon thread."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result = fn()
        except BaseException as exc:
            _post(loop, deliver, None, exc)
        else:
            _post(loop, deliver, result, None)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        return await asyncio.shield(future)
    finally:
        # Waiting for the call to end keeps "no threads after close" true even if the
        # awaiting task was cancelled; the call is short by contract.
        if not future.done():
            await asyncio.wait([future])
            future.exception()  # mark it retrieved: nobody else will look
        thread.join(timeout=1.0)


def _post(
    loop: asyncio.AbstractEventLoop,
    deliver: Callable[[T | None, BaseException | None], None],
    result: T | None,
    error: BaseException | None,
) -> None:
    with contextlib.suppress(RuntimeError):  # loop already closed
        loop.call_soon_threadsafe(deliver, result, error)


def wake_queue(loop: asyncio.AbstractEventLoop | None, queue: asyncio.Queue[Any] | None) -> None:
    """Empty ``queue`` and put None in it, from any thread, to wake a waiting reader."""
    if loop is None or queue is None or loop.is_closed():
        return

    def put() -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)

    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        put()
    else:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(put)
