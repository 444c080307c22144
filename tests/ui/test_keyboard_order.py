"""Tab visits a page's controls in reading order: rows top to bottom, each left to right.

Qt's default order is the order widgets were made in, which drifts from the screen as
layouts change; this reads the real geometry of the shown page.
"""

from __future__ import annotations

import itertools
import time

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.kit.types import User
from app.kit.views.call import IncomingCallView, OutgoingCallView
from app.kit.views.history import CallDirection, CallEntry, CallOutcome
from widgets.home_page import HomePage
from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
from widgets.outgoing_call_page import OutgoingCallPage
from widgets.theme import LIGHT

BOB = User("bob", "Bob")


def tab_chain(page: QWidget) -> list[tuple[str, QRect]]:
    """What Tab reaches on ``page``, in order, with where each is on the page."""
    chain: list[tuple[str, QRect]] = []
    widget = page.nextInFocusChain()
    while widget is not None and widget is not page:
        reachable = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if reachable and widget.isVisible() and widget.isEnabled() and page.isAncestorOf(widget):
            box = QRect(widget.mapTo(page, widget.rect().topLeft()), widget.size())
            chain.append((widget.objectName() or type(widget).__name__, box))
        widget = widget.nextInFocusChain()
    return chain


def against_reading_order(chain: list[tuple[str, QRect]]) -> list[str]:
    """Each step of ``chain`` that goes up a row, or left within a row."""
    wrong = []
    for (name_a, a), (name_b, b) in itertools.pairwise(chain):
        same_row = b.top() < a.bottom() and a.top() < b.bottom()
        if b.bottom() <= a.top() or (same_row and b.left() < a.left()):
            wrong.append(f"{name_a} → {name_b}")
    return wrong


def shown(qtbot: QtBot, page: QWidget) -> None:
    # Inside a host window, as in the app (a top-level page would change size hints).
    host = page.parentWidget()
    assert host is not None
    host.resize(900, 640)
    page.resize(900, 640)
    host.show()
    qtbot.waitExposed(host)


def host(qtbot: QtBot) -> QWidget:
    """A window to put a page in (keep a reference: qtbot holds only a weak one)."""
    made = QWidget()
    qtbot.addWidget(made)
    return made


def test_the_home_page_tabs_in_reading_order(qtbot: QtBot) -> None:
    window = host(qtbot)
    page = HomePage(LIGHT, window)
    missed = CallEntry(
        entry_id=1, call_id="c1", direction=CallDirection.INCOMING,
        outcome=CallOutcome.MISSED, peers=(BOB,), is_video=False,
        started_at=time.time() - 60, duration_s=0, seen=False,
    )  # fmt: skip
    page.history_list.set_view([missed], unseen_missed=1)  # shown beside the online list
    shown(qtbot, page)
    chain = tab_chain(page)
    names = [name for name, _ in chain]
    assert names[:8] == [
        "devices_button", "settings_button", "sign_out_button", "callee_edit", "voice_call_button",
        "video_call_button", "room_button", "online_list",
    ]  # fmt: skip
    assert against_reading_order(chain) == []


def test_the_ringing_pages_and_the_banner_tab_in_reading_order(qtbot: QtBot) -> None:
    windows = [host(qtbot) for _ in range(3)]
    outgoing = OutgoingCallPage(LIGHT, windows[0])
    outgoing.set_view(OutgoingCallView(callees=(BOB,), is_video=True))
    incoming = IncomingCallPage(LIGHT, windows[1])
    banner = IncomingCallBanner(LIGHT, windows[2])
    incoming.set_view(IncomingCallView(call_id="c", caller=BOB, is_video=True))
    banner.set_view(IncomingCallView(call_id="c", caller=BOB, is_video=True))
    pages: tuple[QWidget, ...] = (outgoing, incoming, banner)
    for page in pages:
        shown(qtbot, page)
        chain = tab_chain(page)
        assert len(chain) >= 2, type(page).__name__
        assert against_reading_order(chain) == [], type(page).__name__
