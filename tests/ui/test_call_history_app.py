"""Recent calls in the wired window: real calls land in the history, Call back calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.kit.bots.call import Answer
from app.kit.history.recorder import CallHistory
from app.kit.views.history import CallDirection, CallOutcome
from app.testing import wait_until
from signaling.server.app import RunningServer
from tests.ui.call_app import BotFactory, CallApp, short_timeouts, start_call_app, stop_call_app
from tests.ui.room_app import modal_dialog
from widgets.confirm_dialog import ConfirmDialog


@pytest_asyncio.fixture
async def alice_with_history(
    server: RunningServer, tmp_path: Path
) -> AsyncIterator[tuple[CallApp, CallHistory]]:
    app = await start_call_app(server, tmp_path / "alice")
    assert app.app.history is not None
    yield app, app.app.history
    await stop_call_app(app)


async def test_a_missed_call_is_listed_and_call_back_rings_the_caller(
    alice_with_history: tuple[CallApp, CallHistory], bots: BotFactory
) -> None:
    alice, history = alice_with_history
    panel = alice.app.window.home_page.history_list
    assert panel.is_empty

    bob = await bots("bob", Answer.IGNORE)
    short_timeouts(bob, 1)
    await bob.call(["alice"], video=False)
    await wait_until(alice.banner.isVisible)
    await wait_until(lambda: not alice.banner.isVisible(), 5)  # nobody answered
    await wait_until(lambda: not panel.is_empty)
    (entry,) = history.entries()
    assert entry.direction is CallDirection.INCOMING
    assert entry.outcome is CallOutcome.MISSED
    assert entry.user_ids == ["bob"]
    assert not entry.is_video
    assert panel.missed_label.isVisible()
    await alice.settle(bob)

    # Call back: a voice call to Bob; Alice cancels it while it rings.
    center = panel.button_center(0)
    QTest.mouseClick(panel.list_view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    await alice.wait_for_page(alice.outgoing_page)
    view = alice.outgoing_page.view
    assert view is not None
    assert not view.is_video
    QTest.mouseClick(alice.outgoing_page.cancel_button, Qt.MouseButton.LeftButton)
    await alice.wait_home()
    await wait_until(lambda: len(history.entries()) == 2)
    latest = history.entries()[0]
    assert latest.direction is CallDirection.OUTGOING
    assert latest.outcome is CallOutcome.CANCELLED
    # The invitation names only "bob": the name comes from the online list.
    assert [p.name for p in latest.peers] == ["Bob"]
    await alice.settle(bob)


async def test_clearing_recent_calls_asks_first_and_names_unseen_missed_calls(
    alice_with_history: tuple[CallApp, CallHistory], bots: BotFactory
) -> None:
    alice, history = alice_with_history
    panel = alice.app.window.home_page.history_list
    bob = await bots("bob", Answer.IGNORE)
    short_timeouts(bob, 1)
    await bob.call(["alice"], video=False)
    await wait_until(lambda: history.unseen_missed_count() == 1, 8)
    await alice.settle(bob)

    QTest.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    assert "1 missed call(s) you have not looked at yet" in dialog.message_label.text()
    dialog.reject()  # "Keep them"
    await wait_until(lambda: QApplication.activeModalWidget() is None)
    assert len(history.entries()) == 1

    QTest.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    dialog.accept()  # "Clear"
    await wait_until(lambda: panel.is_empty)
    assert not history.entries()
