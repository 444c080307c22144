"""The call components on the offscreen platform: video, avatar, icons, panels, ringing
pages, the minimize overlay, the confirmation dialog and toasts."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QFocusEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app import HANG_UP_DIALOG, MessageState, User
from app.kit.views.call import CallView, IncomingCallView, OutgoingCallView, TileView
from app.kit.views.chat import ChatMessageView
from tests.support.call_views import call_view, rgb_frame, send_mouse, tiles
from widgets.avatar_view import AvatarView, avatar_color, initials
from widgets.chat_panel import ChatPanel
from widgets.confirm_dialog import ConfirmDialog
from widgets.icons import ICON_DIR, icon, pixmap
from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
from widgets.member_list import MemberList
from widgets.minimize_overlay import MinimizeOverlay
from widgets.outgoing_call_page import OutgoingCallPage
from widgets.round_button import RoundButton
from widgets.theme import DARK, LIGHT
from widgets.toast import Toast
from widgets.video_view import FitMode, VideoView


def has_frame(view: VideoView) -> bool:
    """Whether ``view`` shows a frame, read afresh (mypy keeps an earlier assert's narrowing)."""
    return view.has_frame


def test_video_view_paints_frames_filled_mirrored_or_the_avatar(qtbot: QtBot) -> None:
    host = QWidget()  # a child, as in the app: a top-level's size hints would change
    qtbot.addWidget(host)
    host.resize(200, 100)
    view = VideoView(host, radius=0)
    view.resize(200, 100)
    host.show()
    qtbot.waitExposed(host)
    assert view.avatar.isVisible()
    frame = rgb_frame((0, 0, 255))
    frame[:, :80] = (255, 0, 0)  # left half red
    view.set_frame(frame)
    assert view.has_frame
    assert not view.avatar.isVisible()
    image = view.grab().toImage()
    assert image.pixelColor(20, 50) == QColor(255, 0, 0)
    view.set_mirrored(True)
    assert view.grab().toImage().pixelColor(20, 50) == QColor(0, 0, 255)
    view.set_fit_mode(FitMode.FIT)
    assert view.fit_mode is FitMode.FIT
    view.clear()
    assert not has_frame(view)
    assert view.avatar.isVisible()
    with pytest.raises(ValueError, match="RGB"):
        view.set_frame(np.zeros((4, 4), dtype=np.uint8))


@pytest.mark.parametrize(
    ("size", "whole_frame_shown", "view_covered"),
    [
        ((200, 150), True, True),  # the frame's own shape: both
        ((240, 150), False, True),  # a little wider: cropped by 20 %, covered
        ((150, 300), True, False),  # a tall window: covering would keep 38 % — shown whole
    ],
)
def test_a_call_tile_covers_its_view_unless_that_cuts_away_most_of_the_picture(
    qtbot: QtBot, size: tuple[int, int], whole_frame_shown: bool, view_covered: bool
) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(*size)
    view = VideoView(host, radius=0, fit_mode=FitMode.ADAPT)
    view.resize(*size)
    host.show()
    qtbot.waitExposed(host)
    width, height = size
    inside_corners = [(x, y) for x in (3, width - 4) for y in (3, height - 4)]
    background = [view.grab().toImage().pixelColor(x, y) for x, y in inside_corners]
    frame = rgb_frame((0, 0, 255))  # 160×120, with a red border 4 pixels wide
    frame[:4, :] = frame[-4:, :] = frame[:, :4] = frame[:, -4:] = (255, 0, 0)
    view.set_frame(frame)
    image = view.grab().toImage()
    middle_row = [image.pixelColor(x, height // 2) for x in range(width)]
    middle_column = [image.pixelColor(width // 2, y) for y in range(height)]

    def red(color: QColor) -> bool:
        return color.red() > 200 and color.blue() < 60

    border_seen = any(map(red, middle_row)) and any(map(red, middle_column))
    assert border_seen is whole_frame_shown
    corners = [image.pixelColor(x, y) for x, y in inside_corners]
    covered = all(seen != empty for seen, empty in zip(corners, background, strict=True))
    assert covered is view_covered


def test_avatar_colour_and_initials_are_stable() -> None:
    assert avatar_color("alice") == avatar_color("alice")
    assert len({avatar_color(f"user{i}") for i in range(40)}) > 3
    assert initials("Ada Lovelace") == "AL"
    assert initials("bob") == "B"
    assert initials("", "carol_ann") == "CA"
    assert initials("") == "?"


def test_avatar_ring_follows_the_level_and_then_rests(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    avatar = AvatarView(host)
    avatar.set_speaking_level(0.8)
    assert avatar.animating
    qtbot.waitUntil(lambda: avatar.shown_level > 0.5)
    avatar.set_speaking_level(0.0)
    qtbot.waitUntil(lambda: not avatar.animating, timeout=5000)
    assert avatar.shown_level == 0.0
    avatar.hide()  # behind video: no animation at all
    avatar.set_speaking_level(0.9)
    assert not avatar.animating


def test_icons_render_tinted_for_every_svg(qtbot: QtBot) -> None:
    names = sorted(path.stem for path in ICON_DIR.glob("*.svg"))
    assert {"mic", "mic-off", "hang-up", "accept-call", "more", "send"} <= set(names)
    for name in names:
        assert not icon(name, "#ff0000").isNull()
        image = pixmap(name, "#ff0000", 24, 1.0).toImage()
        colours = {
            image.pixelColor(x, y).name()
            for x in range(24)
            for y in range(24)
            if image.pixelColor(x, y).alpha() == 255
        }
        assert colours == {"#ff0000"}, name
    with pytest.raises(FileNotFoundError):
        pixmap("no-such-icon", "#000000")


# -- panels ----------------------------------------------------------------------------


def test_member_list_marks_you_and_offers_remove_for_others(qtbot: QtBot) -> None:
    members = MemberList(LIGHT)
    qtbot.addWidget(members)
    members.set_view(tiles(4, camera_on=False), can_remove=True)
    assert members.rows["u0"].name_label.text() == "Alice Martin (You)"
    assert members.rows["u0"].remove_button is None
    remove = members.rows["u2"].remove_button
    assert remove is not None
    with qtbot.waitSignal(members.remove_requested) as blocker:
        QTest.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert blocker.args == ["u2"]
    members.set_view(tiles(2), can_remove=False)
    assert set(members.rows) == {"u0", "u1"}
    assert members.rows["u1"].remove_button is None


def test_failed_chat_message_offers_resend(qtbot: QtBot) -> None:
    chat = ChatPanel(LIGHT)
    qtbot.addWidget(chat)
    sent = ChatMessageView(message_id="m1", sender_name="Bob", text="hi", timestamp_ms=1)
    failed = ChatMessageView(
        message_id="m2",
        sender_name="Me",
        text="hello",
        timestamp_ms=2,
        is_local=True,
        state=MessageState.FAILED,
    )
    chat.set_view((sent, failed))
    assert chat.bubbles["m1"].resend_button is None
    resend = chat.bubbles["m2"].resend_button
    assert resend is not None
    with qtbot.waitSignal(chat.resend_requested) as blocker:
        QTest.mouseClick(resend, Qt.MouseButton.LeftButton)
    assert blocker.args == ["m2"]
    resent = ChatMessageView(
        message_id="m2", sender_name="Me", text="hello", timestamp_ms=2, is_local=True
    )
    chat.set_view((sent, resent))
    assert chat.bubbles["m2"].resend_button is None


def test_chat_sends_trimmed_text_and_clears_the_input(qtbot: QtBot) -> None:
    chat = ChatPanel(DARK)
    qtbot.addWidget(chat)
    assert not chat.send_button.isEnabled()
    QTest.keyClicks(chat.input, "  see you  ")
    assert chat.send_button.isEnabled()
    with qtbot.waitSignal(chat.send_requested) as blocker:
        QTest.keyClick(chat.input, Qt.Key.Key_Return)
    assert blocker.args == ["see you"]
    assert chat.input.text() == ""


# -- ringing pages, overlay, dialog, toast --------------------------------------------


def test_outgoing_page(qtbot: QtBot) -> None:
    page = OutgoingCallPage(DARK)
    qtbot.addWidget(page)
    page.set_view(OutgoingCallView(callees=(User("bob", "Bob"),), is_video=False))
    assert page.state_label.text() == "Calling…"
    assert not page.camera_button.isVisibleTo(page)
    assert not page.preview.isVisibleTo(page)
    page.set_view(OutgoingCallView(callees=(User("bob", "Bob"),), is_video=True))
    assert page.camera_button.isVisibleTo(page)
    page.set_preview_frame(rgb_frame())
    assert page.preview.has_frame
    with qtbot.waitSignal(page.microphone_toggled) as blocker:
        QTest.mouseClick(page.mic_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [False]
    with qtbot.waitSignal(page.cancel_requested):
        QTest.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)


def test_incoming_banner_accepts_declines_and_opens(qtbot: QtBot) -> None:
    banner = IncomingCallBanner(LIGHT)
    qtbot.addWidget(banner)
    banner.set_view(IncomingCallView(call_id="c", caller=User("bob", "Bob"), is_video=True))
    assert banner.kind_label.text() == "Incoming video call…"
    with qtbot.waitSignal(banner.accept_requested):
        QTest.mouseClick(banner.accept_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(banner.decline_requested):
        QTest.mouseClick(banner.decline_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(banner.open_requested):
        QTest.mouseClick(
            banner, Qt.MouseButton.LeftButton, pos=banner.name_label.geometry().center()
        )


def test_a_caller_whose_name_is_not_their_id_is_shown_with_the_id(qtbot: QtBot) -> None:
    banner = IncomingCallBanner(LIGHT)
    page = IncomingCallPage(DARK)
    qtbot.addWidget(banner)
    qtbot.addWidget(page)
    impostor = IncomingCallView(call_id="c", caller=User("mallory", "Alice"), is_video=False)
    alice = IncomingCallView(call_id="c", caller=User("alice", "alice "), is_video=False)

    for view in (impostor, alice):
        banner.set_view(view)
        page.set_view(view)
        shown = view is impostor
        assert banner.id_label.isVisibleTo(banner) is shown
        assert page.id_label.isVisibleTo(page) is shown

    banner.set_view(impostor)
    page.set_view(impostor)
    assert (banner.name_label.text(), banner.id_label.text()) == ("Alice", "mallory")
    assert (page.name_label.text(), page.id_label.text()) == ("Alice", "mallory")


def test_incoming_page_shows_a_preview_for_video_calls(qtbot: QtBot) -> None:
    page = IncomingCallPage(DARK)
    qtbot.addWidget(page)
    group_voice = IncomingCallView(
        call_id="c",
        caller=User("bob", "Bob"),
        is_video=False,
        invitees=(User("me", "Me"), User("eve", "Eve")),
    )
    page.set_view(group_voice)
    assert page.kind_label.text() == "Incoming group voice call…"
    assert not page.preview.isVisibleTo(page)
    page.set_view(IncomingCallView(call_id="c", caller=User("bob", "Bob"), is_video=True))
    assert page.preview.isVisibleTo(page)
    with qtbot.waitSignal(page.accept_requested):
        QTest.mouseClick(page.accept_button, Qt.MouseButton.LeftButton)


def test_overlay_restores_on_click_and_leaves_on_its_button(qtbot: QtBot) -> None:
    overlay = MinimizeOverlay(DARK)
    qtbot.addWidget(overlay)
    assert overlay.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert overlay.windowFlags() & Qt.WindowType.FramelessWindowHint
    loud = TileView(user_id="u1", name="Bob", speaking_level=0.7, is_speaking=True)
    overlay.set_view(CallView(call_id="c", duration_s=65, tiles=(tiles(1)[0], loud)))
    assert overlay.speaker_id == "u1"
    assert overlay.duration_label.text() == "01:05"
    # Not shown: the offscreen platform warns that it cannot raise a stays-on-top window.
    with qtbot.waitSignal(overlay.restore_requested):
        QTest.mouseClick(overlay.video, Qt.MouseButton.LeftButton)
    with (
        qtbot.assertNotEmitted(overlay.restore_requested),
        qtbot.waitSignal(overlay.leave_requested),
    ):
        QTest.mouseClick(overlay.leave_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(overlay.microphone_toggled) as blocker:
        QTest.mouseClick(overlay.mic_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [False]


def test_overlay_moves_when_dragged_without_restoring(qtbot: QtBot) -> None:
    overlay = MinimizeOverlay(LIGHT)
    qtbot.addWidget(overlay)
    overlay.set_view(call_view(2))
    before = overlay.pos()
    with qtbot.assertNotEmitted(overlay.restore_requested):
        send_mouse(overlay, QEvent.Type.MouseButtonPress, QPoint(20, 20), pressed=True)
        send_mouse(overlay, QEvent.Type.MouseMove, QPoint(80, 60), pressed=True)
        send_mouse(overlay, QEvent.Type.MouseButtonRelease, QPoint(80, 60), pressed=False)
    assert overlay.pos() == before + QPoint(60, 40)


def test_confirm_dialog_uses_the_configured_texts(qtbot: QtBot) -> None:
    dialog = ConfirmDialog(HANG_UP_DIALOG, LIGHT)
    qtbot.addWidget(dialog)
    assert dialog.title_label.text() == HANG_UP_DIALOG.title
    assert dialog.message_label.text() == HANG_UP_DIALOG.message
    assert dialog.confirm_button.text() == HANG_UP_DIALOG.confirm_text
    dialog.open()
    with qtbot.waitSignal(dialog.accepted):
        QTest.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    dialog.open()
    with qtbot.waitSignal(dialog.rejected):
        QTest.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)


def test_toast_fades_out_by_itself(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(600, 400)
    toast = Toast(host, visible_ms=20, fade_ms=20)
    with qtbot.waitSignal(toast.finished):
        toast.show_message("Camera unavailable")
        assert toast.isVisibleTo(host)
        assert toast.text == "Camera unavailable"
    assert not toast.isVisibleTo(host)


@pytest.mark.parametrize("count", [1, 2, 4])
def test_overlay_and_member_list_render_any_call_size(qtbot: QtBot, count: int) -> None:
    overlay = MinimizeOverlay(DARK)
    members = MemberList(LIGHT)
    qtbot.addWidget(overlay)
    qtbot.addWidget(members)
    view = call_view(count)
    overlay.set_view(view)
    members.set_view(view.tiles, can_remove=True)
    expected = "u1" if count > 1 else "u0"
    assert overlay.speaker_id == expected
    assert len(members.rows) == count
    assert members.title_label.text() == f"Members ({count})"
    assert not overlay.grab().isNull()


def test_minimized_ringing_call_shows_who_and_hides_the_mic(qtbot: QtBot) -> None:
    overlay = MinimizeOverlay(LIGHT)
    qtbot.addWidget(overlay)
    overlay.set_ringing_view(OutgoingCallView(callees=(User("bob", "Bob"),), is_video=True))
    assert overlay.name_label.text() == "Bob"
    assert overlay.duration_label.text() == "Calling…"
    assert not overlay.mic_button.isVisibleTo(overlay)
    overlay.set_ringing_view(
        IncomingCallView(call_id="c", caller=User("eve", "Eve"), is_video=False)
    )
    assert overlay.duration_label.text() == "Incoming voice call…"
    with qtbot.waitSignal(overlay.leave_requested):
        QTest.mouseClick(overlay.leave_button, Qt.MouseButton.LeftButton)
    overlay.set_view(call_view(2))
    assert overlay.mic_button.isVisibleTo(overlay)


def test_badge_survives_losing_keyboard_focus(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    button = RoundButton("members", parent=host)
    button.set_badge(3)
    QApplication.sendEvent(button, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.TabFocusReason))
    assert button.badge == 3


def test_a_ringing_call_is_answered_declined_or_cancelled_from_the_keyboard(qtbot: QtBot) -> None:
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    # The pages are children of a window, as in the app (a top-level warns offscreen).
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(480, 640)
    incoming = IncomingCallPage(LIGHT, host)
    outgoing = OutgoingCallPage(LIGHT, host)
    outgoing.hide()
    incoming.set_view(IncomingCallView(call_id="c", caller=User("bob", "Bob"), is_video=False))
    with qtbot.waitActive(host):
        host.show()
        host.activateWindow()

    with qtbot.waitSignal(incoming.accept_requested):
        QTest.keyClick(host, Qt.Key.Key_A, ctrl_shift)
    with qtbot.waitSignal(incoming.decline_requested):
        QTest.keyClick(host, Qt.Key.Key_D, ctrl_shift)
    assert "Ctrl+Shift+A" in incoming.accept_button.toolTip()

    incoming.hide()  # a hidden page's keys do nothing: only the page shown answers
    outgoing.show()
    with qtbot.assertNotEmitted(incoming.accept_requested):
        QTest.keyClick(host, Qt.Key.Key_A, ctrl_shift)
    with qtbot.waitSignal(outgoing.cancel_requested):
        QTest.keyClick(host, Qt.Key.Key_H, ctrl_shift)
