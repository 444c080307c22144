"""The audio-room page on the offscreen platform: seats, menus, members, bars, invitation,
messages, the leave dialog and the join dialog.

Menus never pop up here (the offscreen platform warns on popups): the page's
``menu_popper`` is replaced by one that records the menu, and the test triggers entries.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.kit.config.audio_room import (
    AudioRoomConfig,
    AudioRoomMenuButton,
    SeatAlignment,
    SeatRowConfig,
)
from app.kit.types import AudioRoomRole
from app.kit.views.audio_room import AudioRoomView, overlay_view
from tests.support.audio_room_views import ALICE, room_view
from tests.support.qt import MenuRecorder, entry
from widgets.audio_room_page import AudioRoomPage
from widgets.join_room_dialog import JoinRoomDialog
from widgets.round_button import RoundButton
from widgets.seat_grid import SEAT_WIDTH, SeatGrid
from widgets.seat_menu import SeatAction, SeatMenu
from widgets.theme import DARK, LIGHT, Colors

B = AudioRoomMenuButton
CONFIGS = {
    AudioRoomRole.HOST: AudioRoomConfig.host(),
    AudioRoomRole.SPEAKER: AudioRoomConfig(role=AudioRoomRole.SPEAKER),
    AudioRoomRole.AUDIENCE: AudioRoomConfig.audience(),
}


def make_page(
    qtbot: QtBot, view: AudioRoomView, colors: Colors = LIGHT, long_press_ms: int = 600
) -> tuple[AudioRoomPage, MenuRecorder]:
    page = AudioRoomPage(CONFIGS[view.local_role], colors, long_press_ms=long_press_ms)
    qtbot.addWidget(page)
    page.resize(960, 600)
    recorder = MenuRecorder()
    page.menu_popper = recorder
    page.set_view(view)
    page.show()
    qtbot.waitExposed(page)
    return page, recorder


def leave_seat_button(page: AudioRoomPage) -> RoundButton | None:
    """The bar's leave-seat button, read afresh (mypy keeps an earlier assert's narrowing)."""
    return page.bottom_bar.leave_seat_button


def apply_button(page: AudioRoomPage) -> QPushButton | None:
    """The bar's apply button, read afresh."""
    return page.bottom_bar.apply_button


# -- the seat grid ---------------------------------------------------------------------


@pytest.mark.parametrize(("local", "colors"), [("alice", LIGHT), ("david", DARK), ("farid", LIGHT)])
def test_seat_grid_shows_occupants_badges_and_locks(
    qtbot: QtBot, local: str, colors: Colors
) -> None:
    page, _ = make_page(qtbot, room_view(local), colors)
    grid = page.seat_grid
    assert len(grid.seats) == 8
    assert [row.count() for row in grid.row_layouts] == [9, 9], "4 seats and 5 stretches a row"
    rows = {seat.index: seat.y() for seat in grid.seats}
    assert len({rows[i] for i in range(4)}) == 1
    assert rows[4] > rows[0]
    assert grid.seat(0).badge == "host"
    assert grid.seat(1).badge == "cohost"
    assert grid.seat(4).badge == ""
    assert grid.seat(0).name_label.text() == "Alice Martin"
    assert grid.seat(2).mic_off_label.isVisibleTo(grid.seat(2))
    assert not grid.seat(1).mic_off_label.isVisibleTo(grid.seat(1))
    assert grid.seat(1).avatar.speaking_level == pytest.approx(0.7)
    assert grid.seat(4).avatar.speaking_level == 0.0
    for index in (3, 5, 6, 7):
        seat = grid.seat(index)
        assert not seat.avatar.isVisibleTo(seat), "an empty seat shows its placeholder"
    assert [i for i in range(8) if grid.seat(i).shows_lock] == [5]
    assert not grid.grab().isNull()


def test_a_locked_room_shows_a_lock_on_every_empty_seat(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("farid", locked=True))
    assert [i for i in range(8) if page.seat_grid.seat(i).shows_lock] == [3, 5, 6, 7]
    assert "locked" in page.seat_grid.seat(3).toolTip()
    page.set_view(room_view("farid"))
    assert [i for i in range(8) if page.seat_grid.seat(i).shows_lock] == [5]


@pytest.mark.parametrize("alignment", list(SeatAlignment))
def test_seat_rows_follow_their_alignment(qtbot: QtBot, alignment: SeatAlignment) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    grid = SeatGrid(host)
    width = 4 * SEAT_WIDTH + 240
    grid.resize(width, 200)
    rows = (SeatRowConfig(3, alignment, spacing=12),)
    view = replace(room_view("farid"), seats=room_view("farid").seats[:3], rows=rows)
    grid.set_view(view)
    host.show()
    qtbot.waitExposed(host)
    lefts = [seat.x() for seat in grid.seats]
    rights = [seat.geometry().right() + 1 for seat in grid.seats]
    gaps = [lefts[i + 1] - rights[i] for i in range(2)]
    start, end = lefts[0], width - rights[-1]
    assert min(gaps) >= 12, "the row's spacing is the least gap"
    expected = {
        SeatAlignment.START: start == 0 and gaps == [12, 12],
        SeatAlignment.END: end == 0 and gaps == [12, 12],
        SeatAlignment.CENTER: abs(start - end) <= 1 and gaps == [12, 12],
        SeatAlignment.SPACE_BETWEEN: start == 0 and end == 0,
        SeatAlignment.SPACE_EVENLY: max(start, end, *gaps) - min(start, end, *gaps) <= 13,
        SeatAlignment.SPACE_AROUND: start < gaps[0] and abs(start - end) <= 1,
    }
    assert expected[alignment], (alignment, start, gaps, end)


# -- seat menus ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "index", "action", "user_id"),
    [
        ("farid", 3, SeatAction.TAKE, ""),
        ("david", 6, SeatAction.SWITCH, ""),
        ("david", 4, SeatAction.LEAVE, "david"),
        ("alice", 4, SeatAction.REMOVE, "david"),
        ("alice", 4, SeatAction.MUTE, "david"),
        ("alice", 2, SeatAction.ASK_UNMUTE, "chloe"),
        ("alice", 4, SeatAction.ASSIGN_COHOST, "david"),
        ("alice", 1, SeatAction.REVOKE_COHOST, "bob"),
        ("alice", 3, SeatAction.LOCK, ""),
        ("alice", 5, SeatAction.UNLOCK, ""),
    ],
)
def test_clicking_a_seat_opens_its_menu_and_emits_the_choice(
    qtbot: QtBot, local: str, index: int, action: SeatAction, user_id: str
) -> None:
    page, popped = make_page(qtbot, room_view(local))
    seat = page.seat_grid.seat(index)
    with qtbot.waitSignal(page.seat_clicked) as clicked:
        QTest.mouseClick(seat, Qt.MouseButton.LeftButton)
    assert clicked.args == [index]
    assert len(popped.menus) == 1
    menu = popped.menus[0]
    assert isinstance(menu, SeatMenu)
    assert menu.entries[-1] is SeatAction.CANCEL
    with qtbot.waitSignal(page.seat_action) as chosen:
        assert entry(menu, action.value)
    assert chosen.args == [action.value, index, user_id]


def test_cancel_emits_nothing_and_a_seat_with_nothing_to_offer_opens_no_menu(
    qtbot: QtBot,
) -> None:
    page, popped = make_page(qtbot, room_view("farid"))
    menu = page.open_seat_menu(3)
    assert menu is not None
    assert menu.entries == (SeatAction.TAKE, SeatAction.CANCEL)
    with qtbot.assertNotEmitted(page.seat_action):
        assert entry(menu, SeatAction.CANCEL.value)
    with qtbot.waitSignal(page.seat_clicked):
        QTest.mouseClick(page.seat_grid.seat(4), Qt.MouseButton.LeftButton)
    assert popped.menus == [menu], "a listener has nothing to do on a taken seat"


def test_a_seat_click_hook_replaces_the_default_menu(qtbot: QtBot) -> None:
    page, popped = make_page(qtbot, room_view("farid"))
    page.default_seat_menu = False
    with qtbot.waitSignal(page.seat_clicked) as clicked:
        QTest.mouseClick(page.seat_grid.seat(3), Qt.MouseButton.LeftButton)
    assert clicked.args == [3]
    assert popped.menus == []


# -- the member list -------------------------------------------------------------------


def test_host_sees_agree_and_disagree_for_a_request_and_a_red_dot(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("alice"))
    members = page.member_list
    assert members.order == ["alice", "bob", "chloe", "david", "eva", "farid", "grace"]
    labels = [members.rows[u].role_label.text() for u in ("alice", "bob", "chloe", "eva")]
    assert labels == ["You", "Co-host", "Speaker", ""]
    eva = members.rows["eva"]
    assert eva.agree_button is not None
    assert eva.disagree_button is not None
    assert members.rows["farid"].agree_button is None
    assert page.bottom_bar.buttons[B.SHOW_MEMBER_LIST].badge == 1
    page.toggle_member_list()
    assert page.member_list_open
    assert not page.messages.isVisibleTo(page)
    with qtbot.waitSignal(page.member_agree) as agreed:
        QTest.mouseClick(eva.agree_button, Qt.MouseButton.LeftButton)
    assert agreed.args == ["eva"]
    with qtbot.waitSignal(page.member_disagree) as refused:
        QTest.mouseClick(eva.disagree_button, Qt.MouseButton.LeftButton)
    assert refused.args == ["eva"]
    page.set_view(room_view("alice", pending_requests=0))
    assert page.bottom_bar.buttons[B.SHOW_MEMBER_LIST].badge == 0


def test_audience_sees_the_request_but_cannot_answer_it(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("grace"))
    members = page.member_list
    assert members.rows["grace"].role_label.text() == "You"
    assert members.rows["alice"].role_label.text() == "Host"
    assert members.rows["eva"].agree_button is None
    assert members.rows["eva"].disagree_button is None
    assert all(row.more_button is None for row in members.rows.values()), "nothing to offer"
    assert page.bottom_bar.buttons[B.SHOW_MEMBER_LIST].badge == 0


def test_more_menu_invites_a_listener_and_rows_report_clicks(qtbot: QtBot) -> None:
    page, popped = make_page(qtbot, room_view("alice"))
    page.toggle_member_list()
    farid = page.member_list.rows["farid"]
    assert page.member_list.rows["alice"].more_button is None
    assert farid.more_button is not None
    with qtbot.waitSignal(page.member_more_pressed) as pressed:
        QTest.mouseClick(farid.more_button, Qt.MouseButton.LeftButton)
    assert pressed.args == ["farid"]
    assert len(popped.menus) == 1
    with qtbot.waitSignal(page.member_invite) as invited:
        assert entry(popped.menus[0], "invite")
    assert invited.args == ["farid"]
    QTest.mouseClick(farid.more_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(page.member_kick) as kicked:
        assert entry(popped.menus[-1], "kick")
    assert kicked.args == ["farid"]
    # A speaker cannot be invited to a seat, but can be removed from the room.
    david = page.member_list.rows["david"]
    assert david.more_button is not None
    QTest.mouseClick(david.more_button, Qt.MouseButton.LeftButton)
    assert [a.data() for a in popped.menus[-1].actions() if a.data()] == ["kick"]
    with qtbot.waitSignal(page.member_clicked) as clicked:
        QTest.mouseClick(farid, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert clicked.args == ["farid"]


def test_a_more_button_hook_gets_every_row_and_no_menu(qtbot: QtBot) -> None:
    page, popped = make_page(qtbot, room_view("grace"))
    page.default_member_menu = False
    bob = page.member_list.rows["bob"]
    assert bob.more_button is not None
    assert page.member_list.rows["grace"].more_button is None
    with qtbot.waitSignal(page.member_more_pressed) as pressed:
        QTest.mouseClick(bob.more_button, Qt.MouseButton.LeftButton)
    assert pressed.args == ["bob"]
    assert popped.menus == []


# -- the bars --------------------------------------------------------------------------


def test_bottom_bar_follows_the_role(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("alice"))
    bar = page.bottom_bar
    assert list(bar.buttons) == [B.TOGGLE_MICROPHONE, B.SHOW_MEMBER_LIST, B.CLOSE_SEAT]
    assert apply_button(page) is None
    assert leave_seat_button(page) is None
    # Alice steps down to a speaker, then to the audience: the bar is rebuilt each time.
    page.set_view(room_view("alice", local_role=AudioRoomRole.SPEAKER))
    assert list(bar.buttons) == [B.TOGGLE_MICROPHONE, B.SHOW_MEMBER_LIST]
    assert leave_seat_button(page) is not None
    assert apply_button(page) is None
    page.set_view(room_view("alice", local_role=AudioRoomRole.AUDIENCE))
    assert list(bar.buttons) == [B.SHOW_MEMBER_LIST]
    assert leave_seat_button(page) is None
    apply = apply_button(page)
    assert apply is not None
    assert apply.text() == "Apply to take seat"


def test_host_buttons_emit_mic_and_lock_intents(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("alice"))
    mic = page.bottom_bar.buttons[B.TOGGLE_MICROPHONE]
    lock = page.bottom_bar.buttons[B.CLOSE_SEAT]
    assert mic.isChecked()
    with qtbot.waitSignal(page.microphone_toggled) as toggled:
        QTest.mouseClick(mic, Qt.MouseButton.LeftButton)
    assert toggled.args == [False]
    with qtbot.waitSignal(page.lock_all_toggled) as locking:
        QTest.mouseClick(lock, Qt.MouseButton.LeftButton)
    assert locking.args == [True]
    page.set_view(room_view("alice", locked=True, microphone_on=False))
    assert not mic.isChecked()
    assert lock.icon_name == "lock"
    with qtbot.waitSignal(page.lock_all_toggled) as unlocking:
        QTest.mouseClick(lock, Qt.MouseButton.LeftButton)
    assert unlocking.args == [False]


def test_speaker_leaves_the_seat_from_the_bar(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("david"))
    button = page.bottom_bar.leave_seat_button
    assert button is not None
    with qtbot.waitSignal(page.leave_seat_requested):
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def test_audience_applies_and_cancels(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("farid", locked=True))
    apply = page.bottom_bar.apply_button
    assert apply is not None
    with qtbot.waitSignal(page.apply_requested):
        QTest.mouseClick(apply, Qt.MouseButton.LeftButton)
    page.set_view(room_view("farid", locked=True, requesting=True))
    assert apply.text() == "Cancel request"
    with (
        qtbot.assertNotEmitted(page.apply_requested),
        qtbot.waitSignal(page.cancel_apply_requested),
    ):
        QTest.mouseClick(apply, Qt.MouseButton.LeftButton)


def test_top_bar_shows_title_and_duration_and_emits_minimize_and_leave(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("alice"))
    assert page.top_bar.title_label.text() == "Friday talks"
    assert page.top_bar.duration_label.text() == "01:35"
    assert not page.top_bar.reconnecting_label.isVisibleTo(page)
    page.set_view(room_view("alice", duration_s=96, reconnecting=True))
    assert page.top_bar.duration_label.text() == "01:36"
    assert page.top_bar.reconnecting_label.isVisibleTo(page)
    with qtbot.waitSignal(page.minimize_requested):
        QTest.mouseClick(page.top_bar.minimize_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(page.leave_requested):
        QTest.mouseClick(page.top_bar.leave_button, Qt.MouseButton.LeftButton)


# -- invitation, messages, dialogs -----------------------------------------------------


def test_audience_invitation_dialog_accepts_and_declines(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("farid", invited_by=ALICE))
    invitation = page.invitation
    assert invitation.isVisibleTo(page)
    assert "The host invites you to take a seat" in invitation.message
    assert "Alice Martin" in invitation.message
    assert page.rect().contains(invitation.card.geometry())
    with qtbot.waitSignal(page.invitation_accepted):
        QTest.mouseClick(invitation.accept_button, Qt.MouseButton.LeftButton)
    assert not invitation.isVisibleTo(page)
    page.set_view(room_view("farid", invited_by=ALICE, duration_s=96))
    assert not invitation.isVisibleTo(page), "an answered invitation stays answered"
    page.set_view(room_view("farid"))
    page.set_view(room_view("farid", invited_by=ALICE))
    assert invitation.isVisibleTo(page), "a new invitation shows again"
    with (
        qtbot.assertNotEmitted(page.invitation_accepted),
        qtbot.waitSignal(page.invitation_declined),
    ):
        QTest.mouseClick(invitation.decline_button, Qt.MouseButton.LeftButton)
    assert not invitation.isVisibleTo(page)


def test_failed_message_offers_resend_and_messages_report_clicks(qtbot: QtBot) -> None:
    page, _ = make_page(qtbot, room_view("alice"), long_press_ms=50)
    messages = page.messages
    assert messages.bubble("m1").resend_button is None
    resend = messages.bubble("m2").resend_button
    assert resend is not None
    with qtbot.waitSignal(page.message_resend) as resent:
        QTest.mouseClick(resend, Qt.MouseButton.LeftButton)
    assert resent.args == ["m2"]
    text = messages.bubble("m1").text_label
    with qtbot.waitSignal(page.message_clicked) as clicked:
        QTest.mouseClick(text, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert clicked.args == ["m1"]
    with qtbot.waitSignal(page.message_long_pressed) as held:
        QTest.mousePress(text, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert held.args == ["m1"]
    with qtbot.assertNotEmitted(page.message_clicked):
        QTest.mouseRelease(text, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    menu_event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, QPoint(5, 5), text.mapToGlobal(QPoint(5, 5))
    )
    with qtbot.waitSignal(page.message_long_pressed) as right:
        QApplication.sendEvent(text, menu_event)
    assert right.args == ["m1"]
    QTest.keyClicks(messages.input, " hello room ")
    with qtbot.waitSignal(page.message_send) as sent:
        QTest.keyClick(messages.input, Qt.Key.Key_Return)
    assert sent.args == ["hello room"]


def test_overlay_view_shows_the_loudest_speaker(qtbot: QtBot) -> None:
    call = overlay_view(room_view("farid"))
    assert [tile.user_id for tile in call.tiles] == ["farid", "alice", "bob", "chloe", "david"]
    assert call.tiles[0].is_local
    speaker = call.active_speaker()
    assert speaker is not None
    assert speaker.user_id == "bob"
    assert call.duration_s == 95
    assert not call.is_video


def test_join_room_dialog_checks_the_id_and_returns_the_role(qtbot: QtBot) -> None:
    dialog = JoinRoomDialog(LIGHT)
    qtbot.addWidget(dialog)
    with qtbot.assertNotEmitted(dialog.join_requested):
        QTest.mouseClick(dialog.join_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.isVisibleTo(dialog)
    assert dialog.error_label.text() == "Type a room ID first."
    QTest.keyClicks(dialog.room_id_edit, "bad room")
    assert not dialog.error_label.isVisibleTo(dialog)
    QTest.mouseClick(dialog.join_button, Qt.MouseButton.LeftButton)
    assert "may use only" in dialog.error_label.text()
    dialog.room_id_edit.setText("friday-talks")
    dialog.host_radio.setChecked(True)
    assert dialog.config().role is AudioRoomRole.HOST
    with qtbot.waitSignal(dialog.join_requested) as joined:
        QTest.mouseClick(dialog.join_button, Qt.MouseButton.LeftButton)
    assert joined.args == ["friday-talks", AudioRoomRole.HOST]
    assert dialog.result() == JoinRoomDialog.DialogCode.Accepted


def test_a_room_before_its_seat_map_renders_empty(qtbot: QtBot) -> None:
    page, popped = make_page(qtbot, AudioRoomView(room_id="r"))
    assert page.seat_grid.seats == []
    assert page.member_list.rows == {}
    assert page.top_bar.title_label.text() == "r"
    assert page.open_seat_menu(0) is None
    page.set_view(room_view("farid"))
    assert len(page.seat_grid.seats) == 8
    assert popped.menus == []
