"""Qt's event loop under asyncio (qasync), with its last event pass inside the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import qasync

T = TypeVar("T")


class QtEventLoop(qasync.QEventLoop):  # type: ignore[misc]  # untyped base
    """qasync's ``QEventLoop``, but its last pass over Qt events runs inside the loop.

    qasync's ``run_until_complete`` ends with one more ``processEvents()`` after
    ``run_forever`` has returned, when no loop is running any more: an asyncio callback
    due then (a task's step, a timer) runs with no running loop ("RuntimeError: no
    running event loop"), and a coroutine it was creating is reported "never awaited".
    Here this loop stays the running one for that pass.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._completing = False

    def run_until_complete(self, future: Awaitable[T]) -> T:
        """Run until ``future`` is done, as qasync does; then let it go."""
        self._completing = True
        try:
            result: T = super().run_until_complete(future)
            return result
        finally:
            self._completing = False
            if asyncio.events._get_running_loop() is self:
                asyncio.events._set_running_loop(None)

    def _after_run_forever(self) -> None:
        super()._after_run_forever()
        if self._completing:
            # run_forever has just unset the running loop; the last pass follows.
            asyncio.events._set_running_loop(self)
