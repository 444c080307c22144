"""The recent-calls panel on the offscreen platform: rows, red missed calls, "Call back",
"Clear", the empty state, and the panel fed by a real :class:`CallHistory`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.kit.bus import EventBus
from app.kit.history.recorder import CallHistory
from app.kit.types import User
from app.kit.views.history import CallDirection, CallEntry, CallOutcome
from signaling.enums import CallType
from widgets.call_history_list import CallHistoryList, ago_text, details_text
from widgets.theme import DARK, LIGHT, Colors

NOW = 1_763_800_000.0
BOB = User("bob", "Bob")
CAROL = User("carol", "Carol")
DAVE = User("dave", "Dave")


def entry(
    entry_id: int,
    outcome: CallOutcome,
    peers: tuple[User, ...],
    *,
    direction: CallDirection = CallDirection.INCOMING,
    video: bool = False,
    ago_s: float = 120,
    duration_s: int = 0,
) -> CallEntry:
    return CallEntry(
        entry_id=entry_id,
        call_id=f"c{entry_id}",
        direction=direction,
        outcome=outcome,
        peers=peers,
        is_video=video,
        started_at=NOW - ago_s,
        duration_s=duration_s,
        seen=outcome is not CallOutcome.MISSED,
    )


ENTRIES = (
    entry(1, CallOutcome.MISSED, (BOB,), video=True, ago_s=30),
    entry(
        2,
        CallOutcome.ANSWERED,
        (CAROL, DAVE),
        direction=CallDirection.OUTGOING,
        video=True,
        ago_s=600,
        duration_s=75,
    ),
    entry(3, CallOutcome.NO_ANSWER, (DAVE,), direction=CallDirection.OUTGOING, ago_s=7200),
)


@pytest.fixture
def host(qtbot: QtBot) -> QWidget:
    """The panel's parent: a child, as on the home page (a top-level's size hints would
    change, which the offscreen platform warns about)."""
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(520, 420)
    return widget


def make_list(qtbot: QtBot, host: QWidget, colors: Colors = LIGHT) -> CallHistoryList:
    panel = CallHistoryList(colors, host, clock=lambda: NOW)
    panel.setGeometry(0, 0, 520, 420)
    host.show()
    qtbot.waitExposed(host)
    return panel


def row_text_image(panel: CallHistoryList, row: int) -> QImage:
    """The left part of a row's name and details lines, without the badge."""
    rect: QRect = panel.list_view.visualRect(panel.model.index(row))
    return panel.list_view.viewport().grab(rect.adjusted(56, 0, -300, 0)).toImage()


def count_near(image: QImage, color: str, tolerance: int = 40) -> int:
    """Pixels of ``image`` within ``tolerance`` (per channel) of ``color``."""
    target = QColor(color)
    found = 0
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - target.red()) <= tolerance
                and abs(pixel.green() - target.green()) <= tolerance
                and abs(pixel.blue() - target.blue()) <= tolerance
            ):
                found += 1
    return found


@pytest.mark.parametrize("colors", [LIGHT, DARK], ids=["light", "dark"])
def test_rows_render_and_missed_calls_are_red(qtbot: QtBot, host: QWidget, colors: Colors) -> None:
    panel = make_list(qtbot, host, colors)
    panel.set_view(ENTRIES, unseen_missed=1)

    assert not panel.is_empty
    assert panel.model.rowCount() == 3
    assert panel.model.index(0).data() == "Bob — Missed · Video"
    assert panel.model.index(1).data() == "Carol, Dave — Outgoing · Video · 01:15"
    assert panel.model.index(2).data() == "Dave — No answer · Voice"
    for row in range(3):
        assert panel.list_view.visualRect(panel.model.index(row)).height() >= 44
    assert panel.missed_label.isVisibleTo(panel)
    assert panel.missed_label.text() == "1 NEW MISSED"
    # The missed row's name and details are in the danger colour; the others have none.
    assert count_near(row_text_image(panel, 0), colors.danger) > 40
    assert count_near(row_text_image(panel, 1), colors.danger) == 0
    assert count_near(row_text_image(panel, 2), colors.danger) == 0


@pytest.mark.parametrize("width", [520, 340], ids=["wide", "compact"])
def test_call_back_emits_the_peers_and_the_kind(qtbot: QtBot, host: QWidget, width: int) -> None:
    panel = make_list(qtbot, host)
    panel.setGeometry(0, 0, width, 420)
    panel.set_view(ENTRIES)
    rect = panel.list_view.visualRect(panel.model.index(1))
    assert panel.delegate.is_compact(rect) is (width < 400)
    viewport = panel.list_view.viewport()

    with qtbot.waitSignal(panel.call_back_requested, timeout=1000) as group:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=panel.button_center(1))
    assert group.args == [["carol", "dave"], True]
    with qtbot.waitSignal(panel.call_back_requested, timeout=1000) as single:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=panel.button_center(2))
    assert single.args == [["dave"], False]


def test_a_click_beside_the_button_only_selects(qtbot: QtBot, host: QWidget) -> None:
    panel = make_list(qtbot, host)
    panel.set_view(ENTRIES)
    name = panel.list_view.visualRect(panel.model.index(0)).center()
    name.setX(80)
    with (
        qtbot.assertNotEmitted(panel.call_back_requested),
        qtbot.waitSignal(panel.looked_at, timeout=1000),
    ):
        QTest.mouseClick(panel.list_view.viewport(), Qt.MouseButton.LeftButton, pos=name)
    assert panel.list_view.currentIndex().row() == 0


def test_enter_on_a_row_calls_back(qtbot: QtBot, host: QWidget) -> None:
    panel = make_list(qtbot, host)
    panel.set_view(ENTRIES)
    panel.list_view.setFocus()
    panel.list_view.setCurrentIndex(panel.model.index(0))
    with qtbot.waitSignal(panel.call_back_requested, timeout=1000) as blocker:
        QTest.keyClick(panel.list_view, Qt.Key.Key_Return)
    assert blocker.args == [["bob"], True]


def test_empty_state_and_clear(qtbot: QtBot, host: QWidget) -> None:
    panel = make_list(qtbot, host)
    assert panel.is_empty
    assert panel.empty_label.isVisibleTo(panel)
    assert panel.empty_label.text() == "No calls yet"
    assert not panel.clear_button.isVisibleTo(panel)
    assert not panel.missed_label.isVisibleTo(panel)

    panel.set_view(ENTRIES)
    assert not panel.empty_label.isVisibleTo(panel)
    with qtbot.waitSignal(panel.clear_requested, timeout=1000):
        QTest.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    panel.set_view(())
    assert panel.is_empty
    assert panel.model.rowCount() == 0


def test_a_call_in_progress_or_cut_short_says_so_instead_of_a_length() -> None:
    answered = entry(4, CallOutcome.ANSWERED, (BOB,), duration_s=75)
    going = dataclasses.replace(answered, duration_s=0, in_progress=True)
    cut = dataclasses.replace(answered, duration_s=0, interrupted=True)

    assert details_text(answered) == "Incoming · Voice · 01:15"
    assert details_text(going) == "Incoming · Voice · in progress"
    assert details_text(cut) == "Incoming · Voice · length unknown"


def test_times_read_as_people_say_them() -> None:
    assert ago_text(NOW - 20, NOW) == "Just now"
    assert ago_text(NOW - 300, NOW) == "5 min ago"
    assert ago_text(NOW - 3 * 3600, NOW) == "3 h ago"
    assert ago_text(NOW - 30 * 3600, NOW) == "Yesterday"
    assert ago_text(NOW - 3 * 86_400, NOW) == "3 days ago"
    assert ago_text(NOW - 10 * 86_400, NOW) == "12 Nov"
    assert ago_text(NOW - 400 * 86_400, NOW) == "18 Oct 2024"


async def test_the_panel_follows_a_real_history(
    qtbot: QtBot, host: QWidget, tmp_path: Path
) -> None:
    """The wiring the composition root does: history changes re-render the panel."""
    history = CallHistory(tmp_path / "history.sqlite3", clock=lambda: NOW)
    bus = EventBus()
    history.follow(bus)
    panel = make_list(qtbot, host)
    history.subscribe(lambda: panel.set_view(history.entries(), history.unseen_missed_count()))
    panel.clear_requested.connect(history.clear)
    panel.looked_at.connect(history.mark_seen)

    await bus.invitation.publish(
        lambda e: e.on_incoming_call_received, "c1", BOB, CallType.VIDEO, (), ""
    )
    await bus.invitation.publish(lambda e: e.on_incoming_call_timeout, "c1", BOB)
    assert panel.model.index(0).data() == "Bob — Missed · Video"
    assert panel.missed_label.text() == "1 NEW MISSED"
    QTest.mouseClick(panel.list_view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(80, 20))
    assert history.unseen_missed_count() == 0
    assert not panel.missed_label.isVisibleTo(panel)
    QTest.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.is_empty
    history.close()
