"""The call page on the offscreen platform: tiles, layouts, bars, idle hiding, shortcuts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app import CallConfig, CallLayoutMode, CallMenuBarConfig, CallMenuButton
from app.kit.types import User
from app.kit.views.call import CallView, IncomingCallView, TileView
from tests.support.call_views import call_view, rgb_frame, send_mouse, tiles
from widgets.call_layout import gallery_rects, grid_shape
from widgets.call_page import CallPage
from widgets.call_tile import TileMode
from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
from widgets.menu_bar import BarPosition, MenuBar
from widgets.side_panel import SidePanel
from widgets.theme import DARK, LIGHT, Colors
from widgets.video_view import FitMode, VideoView

B = CallMenuButton


def make_page(qtbot: QtBot, config: CallConfig | None = None, idle_ms: int = 60_000) -> CallPage:
    page = CallPage(config or CallConfig.one_on_one_video(), LIGHT, idle_timeout_ms=idle_ms)
    qtbot.addWidget(page)
    page.resize(900, 600)
    page.show()
    qtbot.waitExposed(page)
    return page


def opened(page: CallPage) -> SidePanel | None:
    """The open panel, read afresh (mypy would keep an earlier assert's narrowing)."""
    return page.open_panel


def layout_of(page: CallPage) -> CallLayoutMode:
    """The layout in use, read afresh."""
    return page.effective_layout


def fit_of(view: VideoView) -> FitMode:
    """How ``view`` scales frames, read afresh."""
    return view.fit_mode


def has_frame(view: VideoView) -> bool:
    """Whether ``view`` shows a frame, read afresh."""
    return view.has_frame


# -- the call page ---------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 4])
@pytest.mark.parametrize("colors", [LIGHT, DARK], ids=["light", "dark"])
def test_call_page_shows_every_tile_inside_the_stage(
    qtbot: QtBot, count: int, colors: Colors
) -> None:
    page = CallPage(CallConfig.group_video(), colors, idle_timeout_ms=60_000)
    qtbot.addWidget(page)
    page.resize(900, 600)
    page.show()
    qtbot.waitExposed(page)
    page.set_view(call_view(count, layout=CallLayoutMode.GALLERY))
    assert set(page.tiles) == {f"u{i}" for i in range(count)}
    stage = page.stage.rect()
    for tile in page.tiles.values():
        assert tile.isVisible()
        assert not tile.geometry().isEmpty()
        assert stage.contains(tile.geometry())
    local = page.tiles["u0"]
    assert all((local.y(), local.x()) <= (tile.y(), tile.x()) for tile in page.tiles.values()), (
        "the local user comes first in the gallery"
    )
    assert not page.grab().isNull()


def test_tiles_follow_the_view_as_people_come_and_go(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    page.set_view(call_view(4))
    page.set_view(call_view(2))
    assert set(page.tiles) == {"u0", "u1"}
    assert page.tiles["u1"].name_label.full_text() == "Bob Okafor"
    assert page.tiles["u0"].name_label.full_text() == "Alice Martin (You)"


def test_picture_in_picture_falls_back_to_gallery_beyond_two(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    page.set_view(call_view(2))
    assert layout_of(page) is CallLayoutMode.PICTURE_IN_PICTURE
    assert page.big_tile_id == "u1"
    assert page.small_tile_id == "u0"
    page.set_view(call_view(3))
    assert layout_of(page) is CallLayoutMode.GALLERY
    assert page.small_tile_id is None


def test_clicking_the_small_view_swaps_it_with_the_big_one(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    page.show()
    qtbot.waitExposed(page)
    page.set_view(call_view(2))
    small = page.tiles["u0"]
    assert small.mode is TileMode.FLOATING
    assert small.width() < page.tiles["u1"].width()
    QTest.mouseClick(small, Qt.MouseButton.LeftButton, pos=small.rect().center())
    assert page.big_tile_id == "u0"
    assert page.small_tile_id == "u1"
    assert page.tiles["u0"].width() > page.tiles["u1"].width()
    assert page.tiles["u1"].mode is TileMode.FLOATING


def test_dragging_the_small_view_moves_it_to_another_corner(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    page.show()
    qtbot.waitExposed(page)
    page.set_view(call_view(2))  # the one-to-one preset starts top right
    small = page.tiles["u0"]
    assert small.x() > page.width() // 2
    assert small.y() < page.height() // 2
    start = small.rect().center()
    send_mouse(small, QEvent.Type.MouseButtonPress, start, pressed=True)
    target = small.mapFromParent(QPoint(60, page.height() - 60))
    send_mouse(small, QEvent.Type.MouseMove, target, pressed=True)
    send_mouse(small, QEvent.Type.MouseButtonRelease, target, pressed=False)
    assert small.x() < page.width() // 2
    assert small.y() > page.height() // 2
    assert page.big_tile_id == "u1", "a drag is not a click: no swap"


def test_frames_reach_the_tile_of_their_user(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    page.set_view(call_view(2))
    page.set_frame("u1", rgb_frame())
    page.set_frame("nobody", rgb_frame())
    assert page.tiles["u1"].video.has_frame
    assert not page.tiles["u0"].video.has_frame
    camera_off = CallView(
        call_id="call-1", tiles=(tiles(1)[0], TileView(user_id="u1", name="B", camera_on=False))
    )
    page.set_view(camera_off)
    assert not has_frame(page.tiles["u1"].video)
    page.set_frame("u1", rgb_frame())
    assert not has_frame(page.tiles["u1"].video), "a late frame must not revive a camera-off tile"


def test_bars_hide_when_idle_and_come_back_on_mouse_move(qtbot: QtBot) -> None:
    page = make_page(qtbot, idle_ms=60)
    page.set_view(call_view(2))
    page.show()
    qtbot.waitExposed(page)
    tile_area = QPoint(page.width() // 2, page.height() // 2)
    QTest.mouseMove(page, tile_area)
    assert page.idle_hider.timeout_ms == 60
    qtbot.waitUntil(lambda: not page.top_bar.isVisible() and not page.bottom_bar.isVisible())
    QTest.mouseMove(page, tile_area + QPoint(15, 10))
    qtbot.waitUntil(lambda: page.top_bar.isVisible() and page.bottom_bar.isVisible())
    qtbot.waitUntil(lambda: not page.bottom_bar.isVisible())


def test_only_bars_configured_to_hide_do(qtbot: QtBot) -> None:
    bar = CallMenuBarConfig(buttons=(B.TOGGLE_MICROPHONE, B.HANG_UP), hide_automatically=False)
    page = make_page(qtbot, CallConfig(bottom_menu_bar=bar), idle_ms=30)
    page.set_view(call_view(2))
    QTest.mouseMove(page, QPoint(page.width() // 2, page.height() // 2))
    qtbot.waitUntil(lambda: not page.top_bar.isVisible())
    assert page.bottom_bar.isVisible()


def test_no_timer_when_no_bar_hides(qtbot: QtBot) -> None:
    still = CallMenuBarConfig(buttons=(B.MINIMIZE,), hide_automatically=False)
    config = CallConfig(top_menu_bar=still, bottom_menu_bar=still)
    page = make_page(qtbot, config, idle_ms=30)
    page.set_view(call_view(2))
    assert not page.idle_hider.counting
    assert page.top_bar.isVisible()
    assert page.bottom_bar.isVisible()


def test_default_idle_timeout_comes_from_the_config() -> None:
    assert CallConfig().bottom_menu_bar.hide_after_s == 5.0


def test_mic_button_emits_the_new_state(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    page.set_view(call_view(2))
    mic = page.bottom_bar.buttons[B.TOGGLE_MICROPHONE]
    with qtbot.waitSignal(page.microphone_toggled) as blocker:
        QTest.mouseClick(mic, Qt.MouseButton.LeftButton)
    assert blocker.args == [False]
    page.set_view(call_view(2, microphone_on=False))
    assert not mic.isChecked()
    with qtbot.waitSignal(page.microphone_toggled) as blocker:
        QTest.mouseClick(mic, Qt.MouseButton.LeftButton)
    assert blocker.args == [True]


def test_rendering_state_does_not_echo_as_an_intent(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    with (
        qtbot.assertNotEmitted(page.microphone_toggled),
        qtbot.assertNotEmitted(page.camera_toggled),
    ):
        page.set_view(call_view(2, microphone_on=False, camera_on=False))
    assert not page.bottom_bar.buttons[B.TOGGLE_CAMERA].isChecked()


def test_hang_up_button_is_red_and_emits(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    page.set_view(call_view(2))
    hang_up = page.bottom_bar.buttons[B.HANG_UP]
    assert hang_up.role == "danger"
    with qtbot.waitSignal(page.hang_up_requested):
        QTest.mouseClick(hang_up, Qt.MouseButton.LeftButton)


def test_keyboard_shortcuts(qtbot: QtBot) -> None:
    page = CallPage(CallConfig.one_on_one_video(), LIGHT, idle_timeout_ms=60_000)
    qtbot.addWidget(page)
    with qtbot.waitActive(page):
        page.show()
        page.activateWindow()
    page.set_view(call_view(2))
    ctrl = Qt.KeyboardModifier.ControlModifier
    with qtbot.waitSignal(page.microphone_toggled) as mic:
        QTest.keyClick(page, Qt.Key.Key_D, ctrl)
    assert mic.args == [False]
    with qtbot.waitSignal(page.camera_toggled) as camera:
        QTest.keyClick(page, Qt.Key.Key_E, ctrl)
    assert camera.args == [False]
    with qtbot.waitSignal(page.hang_up_requested):
        QTest.keyClick(page, Qt.Key.Key_H, ctrl | Qt.KeyboardModifier.ShiftModifier)


def test_chat_and_member_panels_open_from_the_bars(qtbot: QtBot) -> None:
    page = make_page(qtbot, CallConfig.group_video())
    page.show()
    qtbot.waitExposed(page)
    page.set_view(call_view(3, layout=CallLayoutMode.GALLERY))
    members = page.top_bar.buttons[B.SHOW_MEMBER_LIST]
    QTest.mouseClick(members, Qt.MouseButton.LeftButton)
    assert page.open_panel is page.member_list
    assert page.stage.width() < page.width(), "the open panel narrows the stage"
    qtbot.waitUntil(lambda: page.member_list.geometry().right() == page.width() - 1)
    page.bottom_bar.overflow_actions[B.CHAT].trigger()
    assert opened(page) is page.chat_panel
    assert not page.member_list.isVisible()
    QTest.mouseClick(page.chat_panel.close_button, Qt.MouseButton.LeftButton)
    assert opened(page) is None
    assert page.stage.width() == page.width()


# -- menu bars -------------------------------------------------------------------------


def test_buttons_beyond_max_count_go_to_the_more_menu(qtbot: QtBot) -> None:
    config = CallMenuBarConfig(
        buttons=(B.TOGGLE_MICROPHONE, B.HANG_UP, B.TOGGLE_CAMERA, B.CHAT, B.SWITCH_CAMERA),
        max_count=2,
    )
    bar = MenuBar(config, BarPosition.BOTTOM)
    qtbot.addWidget(bar)
    assert list(bar.buttons) == [B.TOGGLE_MICROPHONE, B.HANG_UP]
    assert list(bar.overflow_actions) == [B.TOGGLE_CAMERA, B.CHAT, B.SWITCH_CAMERA]
    assert bar.more_menu is not None
    assert bar.more_menu.actions() == list(bar.overflow_actions.values())
    assert bar.more_button is not None
    assert bar.more_button.isVisibleTo(bar)
    with qtbot.waitSignal(bar.camera_toggled) as blocker:
        bar.overflow_actions[B.TOGGLE_CAMERA].trigger()
    assert blocker.args == [False]
    with qtbot.waitSignal(bar.chat_requested):
        bar.overflow_actions[B.CHAT].trigger()


def test_no_more_button_when_everything_fits(qtbot: QtBot) -> None:
    bar = MenuBar(CallMenuBarConfig(buttons=(B.HANG_UP,), max_count=3), BarPosition.BOTTOM)
    qtbot.addWidget(bar)
    assert bar.more_button is None
    assert bar.overflow_actions == {}


def test_top_bar_shows_title_and_duration(qtbot: QtBot) -> None:
    bar = MenuBar(CallMenuBarConfig(buttons=(B.MINIMIZE,)), BarPosition.TOP)
    qtbot.addWidget(bar)
    bar.set_view(call_view(2, duration_s=3725))
    assert bar.title_label.text() == "Bob"
    assert bar.duration_label.text() == "1:02:05"
    with qtbot.waitSignal(bar.minimize_requested):
        QTest.mouseClick(bar.buttons[B.MINIMIZE], Qt.MouseButton.LeftButton)


# -- tiles, video, avatar --------------------------------------------------------------


def test_waiting_tile_offers_cancel(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    waiting = TileView(user_id="u1", name="Bob", waiting=True, camera_on=False)
    page.set_view(CallView(call_id="c", tiles=(tiles(1)[0], waiting)))
    tile = page.tiles["u1"]
    assert tile.cancel_button.isVisibleTo(tile)
    assert tile.status_label.text() == "Waiting…"
    assert not page.tiles["u0"].cancel_button.isVisibleTo(page.tiles["u0"])
    with qtbot.waitSignal(page.cancel_invite_requested) as blocker:
        QTest.mouseClick(tile.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["u1"]


def test_muted_tile_shows_the_badge(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    page.set_view(CallView(call_id="c", tiles=tiles(2, microphone_on=False)))
    assert page.tiles["u1"].mic_badge.isVisibleTo(page.tiles["u1"])
    assert not page.tiles["u0"].mic_badge.isVisibleTo(page.tiles["u0"])


def test_grid_shape() -> None:
    assert grid_shape(0) == (0, 0)
    assert grid_shape(1) == (1, 1)
    assert grid_shape(2) == (2, 1)
    assert grid_shape(4) == (2, 2)
    assert grid_shape(5) == (3, 2)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 9])
def test_gallery_rects_stay_inside_and_never_overlap(count: int) -> None:
    stage = QRect(0, 0, 960, 600)
    rects = gallery_rects(count, stage)
    assert len(rects) == count
    for index, rect in enumerate(rects):
        assert stage.contains(rect)
        assert rect.width() >= rect.height(), "tiles are landscape on a landscape stage"
        assert not any(rect.intersects(other) for other in rects[index + 1 :])


def test_unread_messages_badge_the_chat_button_until_the_chat_opens(qtbot: QtBot) -> None:
    config = CallConfig.one_on_one_voice()  # chat is a visible bottom button here
    page = make_page(qtbot, config)
    page.set_view(call_view(2, unread_messages=3))
    chat = page.bottom_bar.buttons[B.CHAT]
    assert chat.badge == 3
    with qtbot.waitSignal(page.chat_visibility_changed) as opened_signal:
        QTest.mouseClick(chat, Qt.MouseButton.LeftButton)
    assert opened_signal.args == [True]
    assert chat.badge == 0
    page.set_view(call_view(2, unread_messages=3))
    assert chat.badge == 0, "an open chat has nothing unread"
    with qtbot.waitSignal(page.chat_visibility_changed) as closed_signal:
        QTest.mouseClick(chat, Qt.MouseButton.LeftButton)
    assert closed_signal.args == [False]


def test_unread_badge_reaches_the_more_menu(qtbot: QtBot) -> None:
    page = make_page(qtbot)  # one-to-one video: chat is behind "More"
    page.set_view(call_view(2, unread_messages=2))
    more = page.bottom_bar.more_button
    assert more is not None
    assert more.badge == 2
    assert page.bottom_bar.overflow_actions[B.CHAT].text() == "Chat (2)"


def test_a_long_name_is_shortened_and_never_widens_the_ringing_pages(qtbot: QtBot) -> None:
    name = "Wolfgang Amadeus Mozart-Salieri von Hohenzollern-Sigmaringen Jr."
    assert len(name) == 64  # the longest name the protocol allows
    view = IncomingCallView(call_id="c1", caller=User("wolfgang", name), is_video=False)
    window = QWidget()  # shown inside a window, as in the app
    qtbot.addWidget(window)
    window.resize(1000, 700)
    page = IncomingCallPage(LIGHT, window)
    banner = IncomingCallBanner(LIGHT, window)
    window.show()
    qtbot.waitExposed(window)
    for widget, width in ((page, 520), (banner, 420)):
        widget.set_view(view)
        assert widget.minimumSizeHint().width() <= width
        widget.resize(width, widget.sizeHint().height())
        label = widget.name_label
        assert label.width() <= width
        assert label.text().endswith("…")
        assert label.full_text() == name
        assert label.toolTip() == name


def test_a_shared_screen_is_shown_whole_and_the_sharer_told(qtbot: QtBot) -> None:
    page = make_page(qtbot)
    sharing = CallView(
        call_id="c",
        tiles=(
            TileView(user_id="u0", name="Me", is_local=True, camera_on=False, sharing_screen=True),
            TileView(user_id="u1", name="Bob", camera_on=False, sharing_screen=True),
        ),
        sharing_screen=True,
    )
    page.set_view(sharing)
    bob, me = page.tiles["u1"], page.tiles["u0"]
    # Bob's screen arrives although his camera is off, fitted (letterboxed), not mirrored.
    page.set_frame("u1", rgb_frame())
    assert has_frame(bob.video)
    assert fit_of(bob.video) is FitMode.FIT
    assert bob.status_label.text() == ""  # the whole screen, nothing over it
    # My own tile says so, and never shows my screen (a picture of itself, endlessly).
    assert me.status_label.text() == "Sharing your screen"
    page.set_frame("u0", rgb_frame())
    assert not has_frame(me.video)
    # Back to a camera: cropped to cover the tile again, as every camera tile is.
    page.set_view(call_view(2))
    assert fit_of(bob.video) is FitMode.ADAPT
    assert bob.status_label.text() == ""
