"""Parley's qasync loop runs its last pass over Qt events with itself as the running loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from app.qt.loop import QtEventLoop


@pytest.fixture
def loop() -> Iterator[QtEventLoop]:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    made = QtEventLoop(app)
    yield made
    made.close()


async def _work() -> int:
    return 7


def test_a_callback_queued_as_the_future_completes_runs_inside_the_loop(
    loop: QtEventLoop,
) -> None:
    seen: list[bool] = []
    task = loop.create_task(_work())
    # Queued while run_until_complete stops: it runs in qasync's last processEvents().
    task.add_done_callback(
        lambda _: loop.call_soon(lambda: seen.append(asyncio.events._get_running_loop() is loop))
    )

    assert loop.run_until_complete(task) == 7

    assert seen == [True]
    assert asyncio.events._get_running_loop() is None  # and it lets go afterwards
