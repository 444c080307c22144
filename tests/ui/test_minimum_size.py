"""At its minimum size the window shortens text instead of cutting it off."""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QWidget

from app.kit.types import AudioRoomRole
from app.testing import WindowFactory, wait_until
from widgets.main_window import MINIMUM_SIZE


def box_in(window: QWidget, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def cut_off_labels(window: QWidget) -> list[str]:
    """Visible labels whose text is wider than the label, or that reach past the window."""
    cut = []
    for label in window.findChildren(QLabel):
        if not label.isVisible() or not label.text() or label.wordWrap():
            continue
        if label.textFormat() == Qt.TextFormat.RichText:
            document = QTextDocument()
            document.setDefaultFont(label.font())
            document.setDocumentMargin(0)
            document.setHtml(label.text())
            needs = math.ceil(document.idealWidth())
        else:
            needs = label.fontMetrics().horizontalAdvance(label.text())
        room = label.contentsRect().width()
        outside = not window.rect().contains(box_in(window, label))
        if needs > room + 1 or outside:
            cut.append(f"{label.objectName() or type(label).__name__}: {label.text()!r}")
    return cut


async def test_the_home_page_at_the_minimum_size_shortens_instead_of_cutting(
    parley_window: WindowFactory,
) -> None:
    alice = await parley_window("alice", "Alice Martin-Okonkwo de la Fuente")
    await parley_window("bob", "Bob Okafor with a rather long display name")
    window = alice.app.window
    home = window.home_page
    await wait_until(lambda: len(home.model.users()) == 2)
    window.resize(window.minimumSize())
    await wait_until(lambda: window.size() == window.minimumSize())

    assert cut_off_labels(window) == []
    title = home.title_label
    assert title.text().endswith("…")
    assert title.toolTip() == "Hello, Alice Martin-Okonkwo de la Fuente"
    # The online list gives rows its own width: no sideways scrolling, states whole.
    assert not home.user_list.horizontalScrollBar().isVisible()
    assert home.user_list.visualRect(home.model.index(0, 0)).right() <= (
        home.user_list.viewport().width()
    )
    server = window.server_label
    assert window.rect().contains(box_in(window, server))
    assert server.full_text().startswith("Server · http://127.0.0.1:")


async def test_a_narrow_window_keeps_the_greeting_whole_with_icon_buttons(
    parley_window: WindowFactory,
) -> None:
    alice = await parley_window("alice", "Alice Martin")
    window = alice.app.window
    home = window.home_page
    buttons = {
        home.devices_button: "Devices…",
        home.settings_button: "Settings…",
        home.sign_out_button: "Sign out",
    }
    window.resize(1100, 700)
    await wait_until(lambda: window.width() == 1100)
    assert [button.text() for button in buttons] == list(buttons.values())
    window.resize(window.minimumSize())
    await wait_until(lambda: window.size() == window.minimumSize())
    # Icons only: the greeting keeps its room, the names stay for tooltips and readers.
    await wait_until(lambda: home.sign_out_button.text() == "")
    # Whole, not "Hello, …".
    await wait_until(lambda: home.title_label.text() == "Hello, Alice Martin")
    for button, name in buttons.items():
        assert button.text() == ""
        assert not button.icon().isNull()
        assert button.accessibleName() == name
        assert button.toolTip()
        assert window.rect().contains(box_in(window, button))
    assert cut_off_labels(window) == []
    # Wide again: the names come back.
    window.resize(1100, 700)
    await wait_until(lambda: home.sign_out_button.text() == "Sign out")
    assert all(button.icon().isNull() for button in buttons)


async def test_a_notice_takes_the_connection_states_place_for_its_time(
    parley_window: WindowFactory,
) -> None:
    """QStatusBar drew a notice over the connection label: both texts on top of each other."""
    alice = await parley_window("alice")
    window = alice.app.window
    assert window.connection_label.isVisible()
    window.show_notice("bob is not online right now")
    assert not window.connection_label.isVisible()
    assert cut_off_labels(window) == []
    window.statusBar().clearMessage()  # what its ten seconds end with
    assert window.connection_label.isVisible()


async def test_an_audio_room_widens_the_smallest_window_while_it_is_shown(
    parley_window: WindowFactory,
) -> None:
    """Its seats beside its messages need more than the home page: they were cut off."""
    alice = await parley_window("alice")
    window = alice.app.window
    assert window.minimum_width_for_page() == MINIMUM_SIZE.width()
    entry = alice.app.room_entry
    assert entry is not None
    assert await entry.join("narrow-room", AudioRoomRole.AUDIENCE)
    await wait_until(lambda: alice.page == "audio_room_page")
    page = window.stack.currentWidget()
    assert page is not None
    await wait_until(lambda: window.minimum_width_for_page() > MINIMUM_SIZE.width())
    assert window.minimum_width_for_page() == page.minimumSizeHint().width()
    rooms = alice.app.rooms
    assert rooms is not None
    await rooms.kit.leave(confirm=False)
    await wait_until(lambda: alice.page == "home_page")
    assert window.minimum_width_for_page() == MINIMUM_SIZE.width()
